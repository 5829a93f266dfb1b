import APIMetrics
import APIMetricsWire
import Foundation
import SocketServer
import Synchronization

/// Discards every batch: the cases that measure the request path do not
/// run the sender at all, and this keeps the configuration valid.
struct DiscardingExporter: EventExporter {
    func export(_ batch: ExportBatch) async throws {}
}

enum Fixtures {
    static let requestHeaders: HeaderFields = [
        "Host": "api.example.com", "User-Agent": "curl/8.5.0", "Accept": "application/json",
        "X-API-Key": "demo-key-acme", "X-Request-ID": "4bf92f3577b34da6",
    ]
    static let jsonRequestHeaders: HeaderFields = [
        "Host": "api.example.com", "User-Agent": "curl/8.5.0", "Accept": "application/json",
        "Content-Type": "application/json", "Content-Length": "1024",
    ]
    static let responseHeaders: HeaderFields = ["Content-Type": "application/json", "Content-Length": "1024"]

    /// A JSON object of exactly `size` bytes.
    static func json(size: Int) -> [UInt8] {
        let head = Array(#"{"order":{"id":42,"items":[{"sku":"A-1","qty":2}],"note":""#.utf8)
        let tail = Array(#""}}"#.utf8)
        return head + [UInt8](repeating: UInt8(ascii: "x"), count: max(0, size - head.count - tail.count)) + tail
    }

    /// About 1 KiB of an order as an API answers it: ids, dates, emails,
    /// nested items, a null.
    static let discoveryJSON1k: [UInt8] = {
        var items: [String] = []
        var text = ""
        repeat {
            let index = items.count
            items.append(
                #"{"sku":"A-\#(index)","qty":\#(index + 1),"price":\#(index).25,"added":"2026-12-06T10:0\#(index % 10):00Z"}"#)
            text =
                #"{"id":42,"customer":{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","email":"ann@example.com","since":"2024-01-31"},"status":"paid","note":null,"items":[\#(items.joined(separator: ","))],"total":1234.5}"#
        } while text.utf8.count < 1_024
        return Array(text.utf8)
    }()

    /// The call the `discover.` cases learn from: ``discoveryJSON1k``
    /// answered to `/orders/42` with a query and a custom header.
    static func discoveryCall(method: String) -> ExchangeRecord {
        var template = record(body: [])
        template.request.method = method
        template.request.target = "/orders/42?expand=items&page=2"
        template.request.route = "/orders/{id}"
        template.request.headers.append(name: "X-Tenant", value: "acme")
        template.response = ResponseHead(status: 200, headers: ["content-type": "application/json"])
        template.responseBody = CapturedBody(bytes: discoveryJSON1k, size: discoveryJSON1k.count)
        return template
    }

    /// About 4 KiB of nested JSON with secrets at several depths.
    static let nestedJSON4k: [UInt8] = {
        var items: [String] = []
        var index = 0
        var text = ""
        repeat {
            items.append(
                #"{"id":\#(index),"name":"item \#(index)","price":\#(index).5,"tags":["a","b"],"payment":{"card_number":"4111111111111111","cvv":"123","holder":{"name":"Ann","token":"t-\#(index)"}}}"#
            )
            index += 1
            text =
                #"{"user":{"id":7,"email":"ann@example.com","password":"hunter2"},"orders":[\#(items.joined(separator: ","))],"meta":{"page":1}}"#
        } while text.utf8.count < 4096
        return Array(text.utf8)
    }()

    static func record(body: [UInt8] = [], responseBody: [UInt8] = []) -> ExchangeRecord {
        ExchangeRecord(
            id: EventID(high: 0x1234_5678_9ABC_DEF0, low: 0x0FED_CBA9_8765_4321), direction: .incoming,
            startTimeNanoseconds: 1_795_255_200_123_000_000, durationNanoseconds: 3_214_000,
            request: RequestHead(
                method: "POST", target: "/orders?page=2", headers: jsonRequestHeaders,
                route: "/orders", clientAddress: "127.0.0.1"),
            requestBody: CapturedBody(bytes: body, size: body.count),
            response: ResponseHead(status: 201, headers: responseHeaders),
            responseBody: CapturedBody(bytes: responseBody, size: responseBody.count),
            consumer: Consumer(id: "acme", name: "Acme", group: "enterprise"))
    }

    /// A keep-alive connection's traffic: `count` GETs and their JSON answers.
    static func keepAliveStream(count: Int) -> [(request: [UInt8], response: [UInt8])] {
        let body = Array(#"{"id":42,"item":"widget-42","quantity":3,"status":"open","price":19.99,"currency":"EUR"}"#.utf8)
        return (0..<count).map { index in
            let request =
                "GET /orders/\(index % 100 + 1)?expand=items HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate, br\r\nX-API-Key: demo-key-acme\r\nConnection: keep-alive\r\n\r\n"
            let response =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n\r\n"
            return (Array(request.utf8), Array(response.utf8) + body)
        }
    }
}

/// Everything the cases share: how long to run.
struct Bench {
    let harness: Harness
    let quick: Bool

    func makeMetrics(bodies: Bool) throws -> APIMetricsService {
        var config = APIMetricsConfiguration(service: "bench", exporters: [.custom(DiscardingExporter())])
        config.capture = .init(isBodyCaptureEnabled: bodies)
        config.queue = .init(maxEvents: 10_000_000, maxBytes: 1 << 34)
        // The default exclusions (health paths, probes' user agents) stay on,
        // as in a real deployment: every record pays for checking them.
        return try APIMetricsService(configuration: config)
    }

    func recordNoBody() throws -> CaseResult {
        let metrics = try makeMetrics(bodies: false)
        let recorder = metrics.recorder
        let head = RequestHead(method: "GET", target: "/orders/42", headers: Fixtures.requestHeaders, clientAddress: "127.0.0.1")
        let response = ResponseHead(status: 200, headers: Fixtures.responseHeaders)
        return harness.measure(
            "record.nobody", opsPerSample: quick ? 500 : 2000,
            between: { BenchmarkHooks.drainQueue(of: metrics) }
        ) { count in
            for _ in 0..<count {
                let exchange = recorder.begin(head)
                exchange.recordResponseHead(response)
                exchange.finish()
            }
        }
    }

    /// One call as the processing thread takes it, without a body: the
    /// client's address, the consumer from its API key (the examples'
    /// closure), discovery, redaction and the tally. Recorded untimed,
    /// then processed timed.
    func processNoBody() throws -> CaseResult {
        var config = APIMetricsConfiguration(service: "bench", exporters: [.custom(DiscardingExporter())])
        config.capture = .init(isBodyCaptureEnabled: false)
        config.queue = .init(maxEvents: 10_000_000, maxBytes: 1 << 34)
        config.metrics.routes = ["GET /orders/{id}"]
        config.identifyConsumer = .custom { request in
            guard let key = request.headers["x-api-key"], key.hasPrefix("key-"), key.count > 4 else { return nil }
            return Consumer(id: String(key.dropFirst(4)))
        }
        let metrics = try APIMetricsService(configuration: config)
        let recorder = metrics.recorder
        var headers = Fixtures.requestHeaders
        headers.replaceOrAppend(name: "X-API-Key", value: "key-acme")
        let head = RequestHead(
            method: "GET", target: "/orders/42", headers: headers, route: "/orders/{id}", clientAddress: "127.0.0.1")
        let response = ResponseHead(status: 200, headers: Fixtures.responseHeaders)
        let count = quick ? 500 : 2_000
        func record() {
            for _ in 0..<count {
                let exchange = recorder.begin(head)
                exchange.recordResponseHead(response)
                exchange.finish()
            }
        }
        for _ in 0..<harness.warmupSamples {
            record()
            BenchmarkHooks.processQueue(of: metrics)
        }
        var nanosPerOp: [Double] = []
        var allocsPerOp: [Double] = []
        for _ in 0..<harness.samples {
            record()
            let allocationsBefore = Harness.allocationCount()
            let start = Harness.now()
            let processed = BenchmarkHooks.processQueue(of: metrics)
            let end = Harness.now()
            let allocationsAfter = Harness.allocationCount()
            precondition(processed == count, "process.nobody: \(processed) of \(count) processed")
            nanosPerOp.append(Double(end - start) / Double(count))
            if let before = allocationsBefore, let after = allocationsAfter {
                allocsPerOp.append(Double(after - before) / Double(count))
            }
        }
        return Harness.reduce("process.nobody", nanosPerOp, allocsPerOp)
    }

    /// One call counted in the metrics: the series looked up, its counts,
    /// latency sketch and histograms updated. With `byPath`, the server
    /// named no route and the path's template comes from the cache.
    func aggregateUpdate(byPath: Bool = false) throws -> CaseResult {
        let metrics = try makeMetrics(bodies: false)
        let calls = (0..<64).map { index in
            CallSummary(
                method: "GET", route: byPath ? nil : "/orders/{id}", target: byPath ? "/orders/\(index % 8 + 1)" : nil,
                status: index % 16 == 0 ? 404 : 200, durationNanoseconds: Int64(200_000 + index * 37_000),
                requestBodyBytes: 0, responseBodyBytes: 100 + index * 40)
        }
        return harness.measure(byPath ? "aggregate.update.path" : "aggregate.update", opsPerSample: quick ? 640 : 6_400) {
            count in
            for index in 0..<count {
                BenchmarkHooks.observe(calls[index & 63], in: metrics)
            }
        }
    }

    func recordBody1k() throws -> CaseResult {
        let metrics = try makeMetrics(bodies: true)
        let recorder = metrics.recorder
        let head = RequestHead(
            method: "POST", target: "/orders", headers: Fixtures.jsonRequestHeaders, clientAddress: "127.0.0.1")
        let response = ResponseHead(status: 201, headers: Fixtures.responseHeaders)
        let body = Fixtures.json(size: 1024)
        return harness.measure(
            "record.body1k", opsPerSample: quick ? 500 : 2000,
            between: { BenchmarkHooks.drainQueue(of: metrics) }
        ) { count in
            for _ in 0..<count {
                let exchange = recorder.begin(head)
                exchange.recordRequestBody(body)
                exchange.recordResponseHead(response)
                exchange.recordResponseBody(body)
                exchange.finish()
            }
        }
    }

    /// `threads` threads record at once. The figure is CPU time per
    /// operation: wall time × busy cores ÷ operations.
    func recordContended(threads: Int) throws -> CaseResult {
        let metrics = try makeMetrics(bodies: false)
        let recorder = metrics.recorder
        let head = RequestHead(method: "GET", target: "/orders/42", headers: Fixtures.requestHeaders, clientAddress: "127.0.0.1")
        let response = ResponseHead(status: 200, headers: Fixtures.responseHeaders)
        let cores = Double(min(threads, ProcessInfo.processInfo.activeProcessorCount))
        let perThread = quick ? 1000 : 20_000
        var nanos: [Double] = []
        var allocs: [Double] = []
        for sample in 0..<(harness.samples / 2 + harness.warmupSamples) {
            let before = Harness.allocationCount()
            let start = Harness.now()
            runThreads(threads) { _ in
                for _ in 0..<perThread {
                    let exchange = recorder.begin(head)
                    exchange.recordResponseHead(response)
                    exchange.finish()
                }
            }
            let end = Harness.now()
            let after = Harness.allocationCount()
            BenchmarkHooks.drainQueue(of: metrics)
            guard sample >= harness.warmupSamples else { continue }
            let ops = Double(threads * perThread)
            nanos.append(Double(end - start) * cores / ops)
            if let before, let after { allocs.append(Double(after - before) / ops) }
        }
        var result = Harness.reduce("record.contended.\(threads)", nanos, allocs)
        result.opsPerSecond *= cores
        return result
    }

    /// `discover.json1k`: a call with a 1 KiB JSON response (an order with
    /// items, dates, ids, emails), a query and a custom header, learnt
    /// from as the sender does. `learning`: every call folded in (the
    /// shape never settles); otherwise the operation is stable after its
    /// first thousand calls and one in sixteen is folded in.
    func discoverJSON1k(learning: Bool) -> CaseResult {
        var options = DiscoveryOptions.default
        if learning { options.stableAfter = .max }
        let observe = BenchmarkHooks.makeDiscovery(options: options)
        let template = Fixtures.discoveryCall(method: Fixtures.record().request.method)
        // Past the first thousand: stable from here on unless learning.
        for _ in 0..<1_100 { observe(template) }
        return harness.measure(learning ? "discover.json1k.learning" : "discover.json1k", opsPerSample: quick ? 20 : 200) {
            count in
            for _ in 0..<count { observe(template) }
        }
    }

    /// `discover.json1k.spec`: `discover.json1k` (stable) with the call
    /// also checked against a spec that describes it: the order's body
    /// parsed and validated on every call (shadow validation samples nothing).
    func discoverJSON1kSpec() throws -> CaseResult {
        let spec = #"""
            {"openapi": "3.1.0", "info": {"title": "orders", "version": "1"}, "paths": {"/orders/{id}": {"get": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                             {"name": "expand", "in": "query", "schema": {"type": "string", "enum": ["items", "customer"]}},
                             {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                             {"name": "X-Tenant", "in": "header", "schema": {"type": "string"}}],
              "responses": {"200": {"description": "an order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}}}}},
             "components": {"schemas": {
               "Order": {"type": "object", "required": ["id", "customer", "status", "items", "total"], "additionalProperties": false,
                 "properties": {"id": {"type": "integer", "format": "int64"}, "customer": {"$ref": "#/components/schemas/Customer"},
                   "status": {"type": "string", "enum": ["open", "paid", "shipped"]}, "note": {"type": ["string", "null"]},
                   "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}, "total": {"type": "number", "minimum": 0}}},
               "Customer": {"type": "object", "required": ["id", "email"], "properties": {"id": {"type": "string", "format": "uuid"},
                 "email": {"type": "string", "format": "email"}, "since": {"type": "string", "format": "date"}}},
               "Item": {"type": "object", "required": ["sku", "qty", "price"], "properties": {"sku": {"type": "string", "minLength": 1},
                 "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number"}, "added": {"type": "string", "format": "date-time"}}}}}}
            """#
        let (observe, findings) = try BenchmarkHooks.makeDiscovery(options: .default, spec: Array(spec.utf8))
        let template = Fixtures.discoveryCall(method: "GET")
        for _ in 0..<1_100 { observe(template) }
        // The call conforms: a finding would mean the case measures a failure path.
        let found = findings()
        guard found.isEmpty else {
            FileHandle.standardError.write(Data("discover.json1k.spec: the call breaks its spec: \(found)\n".utf8))
            exit(1)
        }
        return harness.measure("discover.json1k.spec", opsPerSample: quick ? 20 : 200) { count in
            for _ in 0..<count { observe(template) }
        }
    }

    /// `alerts.evaluate`: 100 rules (error rates and p95s of 25 routes
    /// each, traffic floors of 25 routes, 25 consumers' error rates) over
    /// windows of 1,000 series and 100 consumers, one a second, each rule
    /// covering the last 60 (so a latency rule merges 60 sketches). One
    /// op is one window evaluated; budget 1 ms.
    func alertsEvaluate() -> CaseResult {
        var rules: [AlertRule] = []
        for index in 0..<25 {
            let route = "/r\(index * 40)/{id}"
            rules.append(
                AlertRule("errors \(index)", when: .serverErrorRate(above: 0.05), scope: .route(route), window: .seconds(60)))
            rules.append(
                AlertRule(
                    "p95 \(index)", when: .latency(percentile: 95, above: .seconds(1)), scope: .route(route, method: "GET"),
                    window: .seconds(60)))
            rules.append(AlertRule("quiet \(index)", when: .traffic(below: 1), scope: .route(route), window: .seconds(60)))
            rules.append(
                AlertRule(
                    "consumer \(index)", when: .consumerErrorRate(above: 0.5), scope: .consumer("c\(index)"), window: .seconds(60)
                ))
        }
        let evaluate = BenchmarkHooks.makeAlertEngine(rules: rules)
        var series: [SeriesMetrics] = []
        for index in 0..<1_000 {
            var latency = LatencySketch()
            for sample in 0..<20 { latency.add(nanoseconds: Int64(1_000_000 * (1 + (index + sample) % 50))) }
            series.append(
                SeriesMetrics(
                    key: SeriesKey(
                        method: index % 3 == 0 ? "POST" : "GET", route: "/r\(index)/{id}", status: index % 10 == 0 ? 500 : 200),
                    requests: 20, serverErrors: index % 10 == 0 ? 20 : 0, latency: latency))
        }
        let consumers = (0..<100).map { ConsumerMetrics(id: "c\($0)", requests: 200, serverErrors: 2) }
        var start: Int64 = 1_800_000_000_000_000_000
        func window() -> MetricsWindow {
            defer { start += 1_000_000_000 }
            return MetricsWindow(
                startNanoseconds: start, endNanoseconds: start + 1_000_000_000, series: series, consumers: consumers)
        }
        // Every rule's 60 windows full before measuring.
        for _ in 0..<70 { _ = evaluate(window()) }
        return harness.measure("alerts.evaluate", opsPerSample: quick ? 2 : 20) { count in
            for _ in 0..<count { _ = evaluate(window()) }
        }
    }

    func redactJSON4k() -> CaseResult {
        let redact = BenchmarkHooks.makeRedactor(options: .default)
        let template = Fixtures.record(body: Fixtures.nestedJSON4k)
        return harness.measure("redact.json4k", opsPerSample: quick ? 5 : 40) { count in
            for _ in 0..<count {
                var record = template
                redact(&record)
                precondition(!record.requestBody.bytes.isEmpty)
            }
        }
    }

    /// The same 4 KiB of JSON sent gzip'd: decoded, then redacted.
    func redactJSON4kGzip() throws -> CaseResult {
        let redact = BenchmarkHooks.makeRedactor(options: .default)
        var template = Fixtures.record(body: try Gzip.compress(Fixtures.nestedJSON4k))
        template.request.headers.append(name: "Content-Encoding", value: "gzip")
        return harness.measure("redact.json4k.gzip", opsPerSample: quick ? 5 : 40) { count in
            for _ in 0..<count {
                var record = template
                redact(&record)
                precondition(record.requestBody.decodedFrom == "gzip")
            }
        }
    }

    /// The client address of a call through two trusted proxies
    /// (`X-Forwarded-For` of three hops and a `Forwarded` naming the same
    /// client), resolved in the sender's processing, and of a direct call
    /// with no forwarding header (the common case).
    func resolveClientAddress(forwarded: Bool) -> CaseResult {
        let resolve = BenchmarkHooks.makeClientAddressResolver(options: .default)
        var headers = Fixtures.record(body: []).request.headers
        if forwarded {
            headers.append(name: "X-Forwarded-For", value: "203.0.113.7, 10.1.2.3, 10.0.0.2")
            headers.append(name: "Forwarded", value: #"for=203.0.113.7;proto=https, for="10.1.2.3", for=10.0.0.2"#)
        }
        let fields = headers
        let name = forwarded ? "client.forwarded" : "client.direct"
        return harness.measure(name, opsPerSample: quick ? 50 : 2_000) { count in
            for _ in 0..<count {
                let client = resolve(forwarded ? "10.0.0.9" : "198.51.100.4", fields)
                precondition(client == (forwarded ? "203.0.113.7" : "198.51.100.4"))
            }
        }
    }

    /// The inflation alone, to tell it from the redaction in the case above.
    func inflateJSON4k() throws -> CaseResult {
        let compressed = try Gzip.compress(Fixtures.nestedJSON4k)
        return harness.measure("inflate.json4k", opsPerSample: quick ? 5 : 40) { count in
            for _ in 0..<count {
                precondition(
                    (try? Gzip.inflate(compressed, framing: .gzip, maxOutput: 64 * 1024))?.bytes.count
                        == Fixtures.nestedJSON4k.count)
            }
        }
    }

    /// The 4 KiB of JSON sent as `text/plain`, as browsers send it.
    func redactJSON4kAsText() -> CaseResult {
        let redact = BenchmarkHooks.makeRedactor(options: .default)
        var template = Fixtures.record(body: Fixtures.nestedJSON4k)
        template.request.headers.replaceOrAppend(name: "Content-Type", value: "text/plain")
        return harness.measure("redact.json4k.textplain", opsPerSample: quick ? 5 : 40) { count in
            for _ in 0..<count {
                var record = template
                redact(&record)
                precondition(record.requestBody.bytes.count != Fixtures.nestedJSON4k.count)
            }
        }
    }

    /// One card number in 4 KiB with no secret name: as JSON, and as plain text.
    func redactCard4k(text: Bool) -> CaseResult {
        let redact = BenchmarkHooks.makeRedactor(options: .default)
        let filler = (0..<400).map { "word\($0 % 97)" }.joined(separator: " ")
        let body =
            text
            ? "Order for Ann, paid with 4111 1111 1111 1111 on 2026-11-21. " + filler
            : #"{"order":{"id":42,"payment":{"number":"4111111111111111","holder":"Ann"},"note":"\#(filler)"}}"#
        var template = Fixtures.record(body: Array(body.utf8.prefix(4096)))
        if text { template.request.headers.replaceOrAppend(name: "Content-Type", value: "text/plain") }
        return harness.measure(text ? "redact.card4k.text" : "redact.card4k", opsPerSample: quick ? 5 : 40) { count in
            for _ in 0..<count {
                var record = template
                redact(&record)
                precondition(record.requestBody.bytes != template.requestBody.bytes)
            }
        }
    }

    func encodeEvent() -> CaseResult {
        let record = Fixtures.record(body: Fixtures.json(size: 256), responseBody: Fixtures.json(size: 256))
        let identity = ServiceIdentity(
            service: "orders-api", environment: "prod", version: "1.4.2", tags: ["region:eu"], instanceID: "host-1")
        return harness.measure("encode.event", opsPerSample: quick ? 100 : 5000) { count in
            for _ in 0..<count {
                precondition(!BenchmarkHooks.encode(record, identity: identity).isEmpty)
            }
        }
    }

    /// One typical exchange as an OTLP span (`.json`: in the JSON
    /// encoding) or log record (`.log`: headers and 256-byte bodies), protobuf
    /// unless named: the request body of a batch of 100, per item.
    func encodeOTLP(_ name: String, signal: BenchmarkHooks.OTLPSignal, json: Bool = false) -> CaseResult {
        let records = (0..<100).map { index -> ExchangeRecord in
            var record =
                signal == .logs
                ? Fixtures.record(body: Fixtures.json(size: 256), responseBody: Fixtures.json(size: 256)) : Fixtures.record()
            record.id = EventID(high: 0x1234_5678_9ABC_DEF0, low: UInt64(index + 1))
            return record
        }
        let identity = ServiceIdentity(
            service: "orders-api", environment: "prod", version: "1.4.2", tags: ["region:eu"], instanceID: "host-1")
        return harness.measure(name, opsPerSample: quick ? 100 : 5000) { count in
            for _ in 0..<(count / 100) {
                precondition(!BenchmarkHooks.encodeOTLP(records, signal: signal, identity: identity, json: json).isEmpty)
            }
        }
    }

    /// Sustained events per second through the sender into `exporter`.
    /// With `bodies`, each exchange is the demo's POST /orders: a JSON
    /// request and response body captured and scanned for secrets, the
    /// consumer named by a closure from its API key.
    func export(_ name: String, exporter: ExporterConfiguration, bodies: Bool = false) async throws -> CaseResult {
        var config = APIMetricsConfiguration(service: "bench", exporters: [exporter])
        if bodies {
            config.capture = .init(isBodyCaptureEnabled: true)
            config.identifyConsumer = .apiKey(header: "X-API-Key")
        }
        config.queue = .init(maxEvents: 200_000, maxBytes: 1 << 30)
        config.batching = .init(maxEvents: 1000, flushInterval: .milliseconds(20))
        config.eventFilter = .everything
        let metrics = try APIMetricsService(configuration: config)
        let background = Task.detached { try await metrics.run() }
        let recorder = metrics.recorder
        var postHeaders = Fixtures.jsonRequestHeaders
        postHeaders.append(name: "X-API-Key", value: "demo-key-acme")
        let head =
            bodies
            ? RequestHead(method: "POST", target: "/orders", headers: postHeaders, clientAddress: "127.0.0.1")
            : RequestHead(method: "GET", target: "/orders/42", headers: Fixtures.requestHeaders, clientAddress: "127.0.0.1")
        let response = ResponseHead(status: bodies ? 201 : 200, headers: Fixtures.responseHeaders)
        let requestBody = Array(#"{"item":"lamp","quantity":2,"note":"load test","card":{"number":"4111111111111111"}}"#.utf8)
        let responseBody = Array(
            #"{"id":1042,"item":"lamp","quantity":2,"note":"load test","status":"open","customer":"acme"}"#.utf8)
        let perSample = quick ? 2000 : 20_000
        var nanos: [Double] = []
        var cpuNanos: Int64 = 0
        var measuredEvents = 0
        for sample in 0..<(quick ? 3 : 12) {
            let target = metrics.statistics.exported + perSample
            let cpuStart = Self.processCPUNanoseconds()
            let start = Harness.now()
            for index in 0..<perSample {
                let exchange = recorder.begin(head)
                if bodies { exchange.recordRequestBody(requestBody) }
                exchange.recordResponseHead(response)
                if bodies { exchange.recordResponseBody(responseBody) }
                exchange.finish()
                if index % 1000 == 999 {
                    while metrics.statistics.queued > 100_000 { try await Task.sleep(for: .milliseconds(1)) }
                }
            }
            while metrics.statistics.exported < target {
                try await Task.sleep(for: .microseconds(200))
            }
            let end = Harness.now()
            if sample > 0 {
                nanos.append(Double(end - start) / Double(perSample))
                cpuNanos += Self.processCPUNanoseconds() - cpuStart
                measuredEvents += perSample
            }
        }
        let report = await metrics.shutdown(timeout: .seconds(30))
        _ = try? await background.value
        precondition(report.statistics.dropped == 0 && report.statistics.failed == 0, "\(name): \(report)")
        var result = Harness.reduce(name, nanos, [])
        // The whole process's CPU per event: recording it on this thread,
        // and processing, encoding and exporting it on the sender's.
        result.notes = [
            ("events_per_s", result.opsPerSecond),
            ("cpu_us_per_event", Double(cpuNanos) / Double(max(1, measuredEvents)) / 1000),
        ]
        return result
    }

    /// CPU time of the whole process, every thread, in nanoseconds.
    static func processCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    func exportFile() async throws -> CaseResult {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("apimetrics-bench-\(getpid()).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await export("export.file", exporter: .file(path: path, rotation: .never))
    }

    func exportFileWithBodies() async throws -> CaseResult {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("apimetrics-bench-\(getpid()).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await export("export.file.bodies", exporter: .file(path: path, rotation: .never), bodies: true)
    }

    func exportHTTP() async throws -> CaseResult {
        let collector = SocketHTTPServer { _, writer in
            writer.write(SocketResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)))
        }
        let port = try collector.start()
        defer { collector.stop() }
        return try await export("export.http", exporter: .http(endpoint: "http://127.0.0.1:\(port)/v1/events"))
    }

    /// With `shedding`, the queue is full and stays so (nothing drains it):
    /// every exchange is counted as dropped and not captured, as at
    /// saturation, and what is left is the tap's reading of the stream.
    func wireParse(shedding: Bool = false) throws -> CaseResult {
        let metrics: APIMetricsService
        if shedding {
            var config = APIMetricsConfiguration(service: "bench", exporters: [.custom(DiscardingExporter())])
            config.queue = .init(maxEvents: 1, maxBytes: 1 << 30)
            metrics = try APIMetricsService(configuration: config)
        } else {
            metrics = try makeMetrics(bodies: false)
        }
        let stream = Fixtures.keepAliveStream(count: 100)
        let bytesPerStream = stream.reduce(0) { $0 + $1.request.count + $1.response.count }
        let name = shedding ? "wire.parse.shed" : "wire.parse"
        var result = harness.measure(
            name, opsPerSample: quick ? 1 : 20,
            between: { if !shedding { BenchmarkHooks.drainQueue(of: metrics) } }
        ) { count in
            for _ in 0..<count {
                let tap = WireTap(recorder: metrics.recorder, clientAddress: "127.0.0.1")
                for (request, response) in stream {
                    tap.inbound(request)
                    tap.outbound(response)
                }
                tap.close()
            }
        }
        // One operation is one request/response pair.
        result.nsMedian /= Double(stream.count)
        result.nsP99 /= Double(stream.count)
        result.allocations = result.allocations.map { $0 / Double(stream.count) }
        result.opsPerSecond *= Double(stream.count)
        result.notes = [
            ("mb_per_s", result.opsPerSecond * Double(bytesPerStream) / Double(stream.count) / 1e6),
            ("requests_per_s", result.opsPerSecond),
        ]
        return result
    }
}
