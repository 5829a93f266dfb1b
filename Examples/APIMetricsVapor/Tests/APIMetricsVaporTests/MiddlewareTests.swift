import APIMetrics
import APIMetricsTesting
@testable import APIMetricsVapor
import Foundation
import NIOCore
import Synchronization
import Testing
@testable import VaporExample
import VaporTesting

/// The example's configuration with the events going to `exporter` and a
/// short flush interval.
func configuration(_ exporter: CollectingExporter, maxBodyBytes: Int = 64 * 1024) -> APIMetricsConfiguration {
    var config = ExampleServer.baseConfiguration()
    config.exporters = [.custom(exporter)]
    config.batching.flushInterval = .milliseconds(20)
    config.capture = .init(isBodyCaptureEnabled: true, maxBodyBytes: maxBodyBytes)
    config.senderPriority = .normal
    return config
}

/// The example's application on a real socket (VaporTesting's running
/// mode, port 0), its metrics running beside it.
func withExample(
    _ config: APIMetricsConfiguration, instrumented: Bool = true, running: Bool = true,
    _ body: @escaping @Sendable (any TestingApplicationTester, APIMetricsService) async throws -> Void
) async throws {
    let metrics = try APIMetricsService(configuration: config)
    try await withApp { app in
        ExampleServer.configure(
            app, metrics: metrics, instrumented: instrumented,
            baseURL: { [unowned app] in
                "http://127.0.0.1:\(app.http.server.shared.localAddress?.port ?? 0)"
            })
        let runner = running ? Task { try await metrics.run() } : nil
        try await body(try app.testing(method: .running(hostname: "127.0.0.1", port: 0)), metrics)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner?.value
    }
}

extension ExchangeRecord {
    var responseText: String { String(decoding: responseBody.bytes, as: UTF8.self) }
}

@Suite("Vapor middleware")
struct MiddlewareTests {
    @Test func routesHeadersHostAndTheClientAreRecorded() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, _ in
            try await app.test(.GET, "/orders/7?expand=1", headers: ["X-Trace-Me": "yes"]) { response in
                #expect(response.status == .ok)
            }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.request.route == "/orders/{id}")
        #expect(record.request.method == "GET" && record.request.target == "/orders/7?expand=1")
        #expect(record.request.headers["host"]?.hasPrefix("127.0.0.1") == true)
        #expect(record.request.headers["x-trace-me"] == "yes")
        #expect(record.request.clientAddress == "127.0.0.1")
        #expect(record.response?.status == 200 && record.response?.headers["content-type"] == "application/json; charset=utf-8")
        #expect(record.responseText == #"{"id":7,"item":"lamp","quantity":1}"#)
        #expect(record.durationNanoseconds > 0)
    }

    /// The middleware serves the view (no route of the user's), to this
    /// machine, and never records it: neither events nor the metrics count
    /// the dashboard's or Prometheus's calls.
    @Test func theMiddlewareServesTheViewAndNeverRecordsIt() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, metrics in
            for path in ["/_apimetrics", "/_apimetrics/api", "/metrics", "/_apimetrics/openapi.json"] {
                try await app.test(.GET, path) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers.first(name: "Content-Security-Policy") != nil, "\(path)")
                }
            }
            try await app.test(.GET, "/orders/7") { #expect($0.status == .ok) }
            let records = await exporter.waitForRecords(atLeast: 1)
            #expect(records.map(\.request.target) == ["/orders/7"])
            #expect(metrics.statistics.recorded == 1)
            try await app.test(.GET, "/metrics") { response in
                let text = response.body.string
                #expect(text.contains(#"route="/orders/{id}""#))
                #expect(!text.contains(#"route="/metrics""#) && !text.contains(#"route="/_apimetrics"#))
            }
        }
    }

    @Test func templatesAreBuiltFromEveryKindOfPathComponent() {
        #expect(APIMetricsMiddleware.routeTemplate(["orders", ":id"]) == "/orders/{id}")
        #expect(APIMetricsMiddleware.routeTemplate(["files", "**"]) == "/files/**")
        #expect(APIMetricsMiddleware.routeTemplate(["a", "*", "b"]) == "/a/*/b")
        #expect(APIMetricsMiddleware.routeTemplate([]) == "/")
    }

    @Test func notFoundIsTheUnmatchedSeriesNeverAPlaceholderRoute() async throws {
        let exporter = CollectingExporter()
        let seenRoutes = Mutex<Set<String>>([])
        try await withExample(configuration(exporter)) { app, metrics in
            try await app.test(.GET, "/no/such/path") { #expect($0.status == .notFound) }
            try await app.test(.GET, "/orders/9999") { #expect($0.status == .notFound) }
            await exporter.waitForRecords(atLeast: 2)
            let answer = try #require(
                metrics.view.response(
                    method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
            let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] ?? [:]
            let endpoints = object["endpoints"] as? [[String: Any]] ?? []
            let routes = Set(endpoints.compactMap { $0["route"] as? String })
            seenRoutes.withLock { $0 = routes }
        }
        let records = exporter.records
        let unmatched = try #require(records.first { $0.request.target == "/no/such/path" })
        #expect(unmatched.request.route == nil && unmatched.response?.status == 404)
        let missing = try #require(records.first { $0.request.target == "/orders/9999" })
        #expect(missing.request.route == "/orders/{id}" && missing.response?.status == 404)
        // The body the client got from Vapor's ErrorMiddleware, not an empty one.
        #expect(missing.responseText.contains("order not found"))
        let routes = seenRoutes.withLock { $0 }
        #expect(routes.contains("(unmatched)") && routes.contains("/orders/{id}"))
        #expect(!routes.contains("vapor_route_undefined") && !routes.contains("/no/such/path"))
    }

    @Test func bodiesReachTheClientByteForByteWithTheirFraming() async throws {
        // The same requests against the example with and without the
        // middleware: same status, same headers that frame the body, same bytes.
        struct Seen: Sendable, Equatable { var status: UInt; var length: String?; var chunked: Bool; var body: [UInt8] }
        let paths = ["/orders/3", "/stream?chunks=200", "/stream?chunks=0", "/health", "/proxy?to=/orders/4"]
        let results = Mutex<[Bool: [Seen]]>([:])
        for instrumented in [true, false] {
            let exporter = CollectingExporter()
            try await withExample(configuration(exporter, maxBodyBytes: 100), instrumented: instrumented) { app, _ in
                var seen: [Seen] = []
                for path in paths {
                    try await app.test(.GET, path) { response in
                        seen.append(
                            Seen(
                                status: response.status.code, length: response.headers.first(name: .contentLength),
                                chunked: response.headers.first(name: .transferEncoding) == "chunked",
                                body: Array(buffer: response.body)))
                    }
                }
                results.withLock { $0[instrumented] = seen }
            }
            if instrumented {
                // The proxy's outgoing call and its target, less /health (a
                // health check, not recorded by default).
                let records = await exporter.waitForRecords(atLeast: paths.count + 1)
                let streamed = try #require(records.first { $0.request.target == "/stream?chunks=200" })
                #expect(streamed.responseBody.size == (0..<200).map { "chunk \($0)\n".utf8.count }.reduce(0, +))
                #expect(streamed.responseBody.bytes.count == 100 && streamed.responseBody.isTruncated)
                #expect(streamed.metadata["response_body"] == nil)
                #expect(!records.contains { $0.request.target == "/health" })
            }
        }
        let with = results.withLock { $0[true] ?? [] }, without = results.withLock { $0[false] ?? [] }
        #expect(with == without)
        #expect(with.first?.length != nil && with[1].chunked && with[1].body.count > 1_000)
    }

    @Test func aCallbackStreamIsRecordedAsItIsWrittenAnotherOneIsMarked() async throws {
        // Vapor's other kind of stream: a callback on the event loop, with a
        // declared length; made the plain way, it is counted and marked.
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: configuration(exporter))
        try await withApp { app in
            app.middleware.useAPIMetrics(metrics)
            app.get("long") { _ in
                // Past the in-memory limit: recorded as it is written.
                Response(
                    status: .ok, headers: ["Content-Type": "text/plain"],
                    body: .init(string: String(repeating: "0123456789abcdef", count: 1_500)))
            }
            app.get("plain") { _ in
                Response(
                    status: .ok,
                    body: .init(
                        asyncStream: { writer in
                            try await writer.writeBuffer(ByteBuffer(string: "plain"))
                            try await writer.write(.end)
                        }, count: 5))
            }
            app.get("callback") { request in
                Response(
                    status: .ok, headers: ["Content-Type": "text/plain"],
                    body: .init(
                        recordingFor: request, count: 12,
                        stream: { writer in
                            writer.write(.buffer(ByteBuffer(string: "hello, "))).whenSuccess {
                                writer.write(.buffer(ByteBuffer(string: "world"))).whenSuccess {
                                    writer.write(.end, promise: nil)
                                }
                            }
                        }))
            }
            let runner = Task { try await metrics.run() }
            let tester = try app.testing(method: .running(hostname: "127.0.0.1", port: 0))
            try await tester.test(.GET, "/callback") { response in
                #expect(response.body.string == "hello, world")
                #expect(response.headers.first(name: .contentLength) == "12")
            }
            try await tester.test(.GET, "/long") { response in
                #expect(response.body.readableBytes == 24_000)
                #expect(response.headers.first(name: .contentLength) == "24000")
            }
            try await tester.test(.GET, "/plain") { response in
                #expect(response.body.string == "plain")
                #expect(response.headers.first(name: .contentLength) == "5")
            }
            await metrics.shutdown(timeout: .seconds(30))
            try await runner.value
        }
        let records = await exporter.waitForRecords(atLeast: 3)
        let long = try #require(records.first { $0.request.route == "/long" })
        #expect(long.responseBody.size == 24_000 && long.responseText.hasPrefix("0123456789abcdef"))
        let record = try #require(records.first { $0.request.route == "/callback" })
        #expect(record.responseText == "hello, world" && record.responseBody.size == 12)
        #expect(record.metadata["response_body"] == nil)
        let plain = try #require(records.first { $0.request.route == "/plain" })
        #expect(plain.responseBody.size == 5 && plain.responseBody.bytes.isEmpty)
        #expect(plain.metadata["response_body"] == "streamed: not captured")
    }

    /// A body the handler streams itself, with no declared length, cannot
    /// be counted from here: the event says so, in the core's words.
    @Test func aStreamedRequestBodyOfUnknownSizeIsMarked() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: configuration(exporter))
        try await withApp { app in
            let request = Request(
                application: app, method: .POST, url: "/upload", headers: ["Transfer-Encoding": "chunked"],
                on: app.eventLoopGroup.any())
            let exchange = metrics.recorder.begin(RequestHead(method: "POST", target: "/upload"))
            APIMetricsMiddleware.recordRequestBody(of: request, into: exchange)
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
            await metrics.shutdown(timeout: .seconds(30))
        }
        let record = try #require(exporter.records.first)
        #expect(record.metadata["request_body"] == "streamed: not captured, size unknown")
        #expect(record.requestBody.size == 0 && record.requestBody.bytes.isEmpty)
    }

    @Test func theRequestBodyIsCappedWhileTheHandlerGetsAllOfIt() async throws {
        let exporter = CollectingExporter()
        let item = String(repeating: "x", count: 5_000)
        let body = #"{"item":"\#(item)","quantity":2}"#
        try await withExample(configuration(exporter, maxBodyBytes: 64)) { app, _ in
            try await app.test(.POST, "/orders", headers: ["Content-Type": "application/json"], body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .created)
                #expect(response.body.string.contains(item))
            }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.request.route == "/orders")
        #expect(record.requestBody.size == body.utf8.count)
        // JSON cut at the capture limit cannot be read whole: redaction fails
        // closed and keeps the marker in its place.
        #expect(
            record.requestBody.bytes == Array(RedactionOptions.default.unparseableBodyMarker.utf8)
                && record.requestBody.isTruncated)
        #expect(record.response?.status == 201)
    }

    @Test func errorsAreRecordedAsTheClientReceivedThem() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, _ in
            try await app.test(.GET, "/fail") { #expect($0.status == .internalServerError) }
            try await app.test(
                .POST, "/orders", headers: ["Content-Type": "application/json"],
                body: ByteBuffer(string: #"{"item":"lamp","quantity":0}"#)
            ) { #expect($0.status == .unprocessableEntity) }
            try await app.test(
                .POST, "/orders", headers: ["Content-Type": "application/json"], body: ByteBuffer(string: "not json")
            ) {
                #expect($0.status == .badRequest)
            }
        }
        let records = await exporter.waitForRecords(atLeast: 3)
        let failed = try #require(records.first { $0.request.target == "/fail" })
        // Vapor's ErrorMiddleware answers with a JSON body: the event has it.
        #expect(failed.response?.status == 500 && failed.responseText.contains(#""error":true"#))
        #expect(failed.errors.first?.type == "ExampleFailure" && failed.errors.first?.message == "the example failed on purpose")
        #expect(failed.request.route == "/fail")
        let invalid = try #require(records.first { $0.response?.status == 422 })
        #expect(invalid.responseText.contains("quantity must be from 1 to 1000"))
        #expect(invalid.response?.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(invalid.errors.isEmpty)  // a client error, not a failure of the server
        #expect(records.contains { $0.response?.status == 400 && $0.request.route == "/orders" })
    }

    @Test func consumersAreIdentifiedAndSecretsRedacted() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, _ in
            try await app.test(
                .GET, "/orders/1?api_key=SECRET-QUERY",
                headers: ["X-API-Key": "key-acme", "Authorization": "Bearer SECRET-TOKEN", "Cookie": "sid=SECRET-COOKIE"]
            ) { #expect($0.status == .ok) }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.consumer?.id == "acme")
        let text = "\(record.request.target) \(record.request.headers.fields)"
        #expect(!text.contains("SECRET"))
        #expect(record.request.headers["authorization"] == "[REDACTED]")
    }

    @Test func theHandlersOutgoingCallsLinkToItsExchange() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, _ in
            try await app.test(.GET, "/proxy?to=/orders/5") { response in
                #expect(response.status == .ok)
                #expect(response.body.string.contains(#""id":5"#))
            }
        }
        let records = await exporter.waitForRecords(atLeast: 3)
        let proxy = try #require(records.first { $0.request.route == "/proxy" })
        let outgoing = try #require(records.first { $0.direction == .outgoing })
        let served = try #require(records.first { $0.direction == .incoming && $0.request.route == "/orders/{id}" })
        #expect(outgoing.parentID == proxy.id)
        #expect(outgoing.traceID == proxy.traceID && served.traceID == proxy.traceID)
    }

    @Test func whileTheQueueIsFullCallsAreShedButEveryOneCounts() async throws {
        let exporter = CollectingExporter()
        var config = configuration(exporter)
        config.queue = .init(maxEvents: 3, maxBytes: 1 << 20)
        // No sender runs: the queue fills after three calls.
        try await withExample(config, running: false) { app, metrics in
            for index in 0..<20 {
                try await app.test(.GET, index % 4 == 0 ? "/stream?chunks=5" : "/orders/\(index + 1)") {
                    #expect($0.status == .ok)
                }
            }
            let answer = try #require(
                metrics.view.response(
                    method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
            let api = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
            #expect(api["requests"] as? Int == 20)
            let endpoints = api["endpoints"] as? [[String: Any]] ?? []
            #expect(endpoints.first { $0["route"] as? String == "/stream" }?["requests"] as? Int == 5)
            #expect(metrics.statistics.dropped == 17)
        }
    }
}
