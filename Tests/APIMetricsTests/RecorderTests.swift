import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics

@Suite("Recorder")
struct RecorderTests {
    private func makeMetrics(
        bodies: Bool = true, maxBodyBytes: Int = 64 * 1024, exporter: CollectingExporter
    ) throws -> APIMetricsService {
        var config = testConfiguration([.custom(exporter)])
        config.capture = .init(isBodyCaptureEnabled: bodies, maxBodyBytes: maxBodyBytes)
        return try APIMetricsService(configuration: config)
    }

    @Test func anExchangeSaysWhetherItKeepsRequestBodyBytes() throws {
        let exporter = CollectingExporter()
        let json: HeaderFields = ["Content-Type": "application/json"]
        let capturing = try makeMetrics(maxBodyBytes: 4, exporter: exporter).recorder
        let exchange = capturing.begin(RequestHead(method: "POST", target: "/", headers: json))
        #expect(exchange.isCapturingRequestBody)
        exchange.recordRequestBody(Array("12345".utf8))
        #expect(!exchange.isCapturingRequestBody)  // truncated: nothing more is kept
        #expect(
            !capturing.begin(RequestHead(method: "POST", target: "/", headers: ["Content-Type": "image/png"]))
                .isCapturingRequestBody)
        #expect(
            !(try makeMetrics(bodies: false, exporter: exporter).recorder.begin(
                RequestHead(method: "POST", target: "/", headers: json))).isCapturingRequestBody)
    }

    @Test func anExchangeSaysWhetherItKeepsResponseBodyBytes() throws {
        let exporter = CollectingExporter()
        let recorder = try makeMetrics(maxBodyBytes: 4, exporter: exporter).recorder
        let json = recorder.begin(RequestHead(method: "GET", target: "/"))
        json.recordResponseHead(ResponseHead(status: 200, headers: ["Content-Type": "application/json"]))
        #expect(json.isCapturingResponseBody)
        json.recordResponseBody(Array("12345".utf8))
        #expect(!json.isCapturingResponseBody)  // truncated: nothing more is kept
        let image = recorder.begin(RequestHead(method: "GET", target: "/"))
        image.recordResponseHead(ResponseHead(status: 200, headers: ["Content-Type": "image/png"]))
        #expect(!image.isCapturingResponseBody)
        let off = try makeMetrics(bodies: false, exporter: exporter).recorder.begin(RequestHead(method: "GET", target: "/"))
        off.recordResponseHead(ResponseHead(status: 200, headers: ["Content-Type": "application/json"]))
        #expect(!off.isCapturingResponseBody)
    }

    /// Every kind of byte collection goes through the two entries (raw
    /// bytes, and the generic one): contiguous or not, each byte counted
    /// once and kept in order; counted-only bytes add to the size alone.
    @Test func bodiesOfEveryKindOfCollectionAreCountedAndKeptInOrder() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let runner = Task { try await metrics.run() }
        let exchange = metrics.recorder.begin(
            RequestHead(method: "POST", target: "/", headers: ["Content-Type": "text/plain"]))
        exchange.recordRequestBody(Array("ab".utf8))
        exchange.recordRequestBody(Array("xcdx".utf8).dropFirst().dropLast())
        exchange.recordRequestBody("ef".utf8)  // not contiguous: copied once
        exchange.recordRequestBody(Set([UInt8(ascii: "g")]))
        Array("h".utf8).withUnsafeBytes { exchange.recordRequestBody($0) }
        exchange.countRequestBody(byteCount: 3)
        exchange.countRequestBody(byteCount: -5)
        exchange.recordResponseHead(ResponseHead(status: 200, headers: ["Content-Type": "text/plain"]))
        exchange.recordResponseBody([UInt8(ascii: "o"), UInt8(ascii: "k")][...])
        exchange.countResponseBody(byteCount: 0)
        exchange.finish()
        _ = await exporter.waitForRecords(atLeast: 1, timeout: .seconds(30))
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        let record = try #require(exporter.records.first)
        #expect(String(decoding: record.requestBody.bytes, as: UTF8.self) == "abcdefgh")
        #expect(record.requestBody.size == 11 && record.requestBody.isTruncated)
        #expect(String(decoding: record.responseBody.bytes, as: UTF8.self) == "ok" && record.responseBody.size == 2)
        #expect(record.duration == .nanoseconds(record.durationNanoseconds))
        var summary = CallSummary(method: "GET", route: nil, target: "/", status: 200, durationNanoseconds: 0)
        summary.duration = .milliseconds(1_500)
        #expect(summary.durationNanoseconds == 1_500_000_000 && summary.duration == .seconds(1.5))
    }

    @Test func recordsEveryPartOfAnExchange() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "POST", target: "/orders?page=2",
                headers: ["Content-Type": "application/json", "User-Agent": "curl/8"],
                clientAddress: "127.0.0.1"))
        exchange.setRoute("/orders")
        exchange.recordRequestBody(Array(#"{"item":"a"}"#.utf8))
        exchange.recordResponseHead(ResponseHead(status: 201, headers: ["Content-Type": "application/json"]))
        exchange.recordResponseBody(Array(#"{"id":1}"#.utf8))
        exchange.setConsumer(Consumer(id: "  acme  ", name: "Acme", group: "enterprise"))
        exchange.setMetadata("blue", forKey: "colour")
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(60))

        let event = try #require(exporter.events.first)
        #expect(exporter.events.count == 1)
        let record = event.record
        #expect(record.id == exchange.id)
        #expect(record.request.route == "/orders")
        #expect(record.requestBody.size == 12)
        #expect(record.responseBody.bytes == Array(#"{"id":1}"#.utf8))
        #expect(record.response?.status == 201)
        #expect(record.consumer == Consumer(id: "acme", name: "Acme", group: "enterprise"))
        #expect(record.durationNanoseconds >= 0)
        let json = try #require(jsonObject(event.json))
        #expect(json["v"] as? Int == 1)
        #expect((json["metadata"] as? [String: String]) == ["colour": "blue"])
    }

    @Test func bodiesAreCappedWhileTheFullSizeIsCounted() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(maxBodyBytes: 1000, exporter: exporter)
        let exchange = metrics.recorder.begin(
            RequestHead(method: "POST", target: "/upload", headers: ["Content-Type": "text/plain"]))
        // A chunked upload: 300 chunks of 1 KiB, 300 KiB in all.
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1024)
        for _ in 0..<300 { exchange.recordRequestBody(chunk) }
        exchange.recordResponseHead(ResponseHead(status: 200, headers: ["Content-Type": "text/plain; charset=utf-8"]))
        exchange.recordResponseBody([UInt8](repeating: UInt8(ascii: "b"), count: 999))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.requestBody.size == 300 * 1024)
        #expect(record.requestBody.bytes.count == 1000)
        #expect(record.requestBody.isTruncated)
        #expect(record.responseBody.size == 999)
        #expect(record.responseBody.bytes.count == 999)
        #expect(!record.responseBody.isTruncated)
    }

    @Test func onlyTextualBodiesAreKeptByDefault() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let cases: [(String?, Bool)] = [
            ("application/json", true), ("Application/JSON; charset=utf-8", true), ("text/html", true),
            ("application/x-www-form-urlencoded", true), ("application/problem+json", true),
            ("application/xml", true), ("image/svg+xml", true), ("image/png", false),
            ("application/octet-stream", false), ("multipart/form-data; boundary=x", false), (nil, false),
        ]
        for (index, (type, _)) in cases.enumerated() {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "POST", target: "/\(index)", headers: type.map { ["Content-Type": $0] } ?? [:]))
            exchange.recordRequestBody(Array("body".utf8))
            exchange.recordResponseHead(ResponseHead(status: 200, headers: type.map { ["Content-Type": $0] } ?? [:]))
            exchange.recordResponseBody(Array("reply".utf8))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(60))
        for (index, (type, kept)) in cases.enumerated() {
            let record = try #require(exporter.events.first { $0.record.request.target == "/\(index)" }?.record)
            #expect(record.requestBody.bytes.isEmpty == !kept, "request body of \(type ?? "no type")")
            #expect(record.responseBody.bytes.isEmpty == !kept, "response body of \(type ?? "no type")")
            #expect(record.requestBody.size == 4)
            #expect(record.responseBody.size == 5)
        }
    }

    @Test func everyBodyIsKeptWhenConfigured() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.capture = .init(isBodyCaptureEnabled: true, bodyContentTypes: .all)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder, requestBody: [0xFF, 0x00, 0x01])
        await metrics.shutdown(timeout: .seconds(60))
        let event = try #require(exporter.events.first)
        let request = try #require(jsonObject(event.json)?["request"] as? [String: Any])
        #expect(request["body_encoding"] as? String == "base64")
        #expect(request["body"] as? String == "/wAB")
    }

    @Test func bodiesAreCountedButNotKeptWhenCaptureIsOff() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(bodies: false, exporter: exporter)
        recordExchange(metrics.recorder, requestBody: Array("hello".utf8), responseBody: Array("world!".utf8))
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.requestBody == CapturedBody(bytes: [], size: 5, isTruncated: false))
        #expect(record.responseBody.size == 6)
        let first = try #require(exporter.events.first)
        let json = try #require(jsonObject(first.json))
        let request = try #require(json["request"] as? [String: Any])
        #expect(request["body"] == nil)
        #expect(request["size"] as? Int == 5)
    }

    @Test func bodyCapAtEveryBoundary() {
        // Generated splits: the kept prefix is always the first `limit` bytes.
        var generator = SeededGenerator.replayable()
        for _ in 0..<500 {
            let limit = Int.random(in: 0...64, using: &generator)
            let total = Int.random(in: 0...200, using: &generator)
            let body = (0..<total).map { UInt8(truncatingIfNeeded: $0) }
            var accumulator = BodyAccumulator(limit: limit)
            var offset = 0
            while offset < total {
                let size = Int.random(in: 1...17, using: &generator)
                accumulator.append(body[offset..<min(total, offset + size)])
                offset += size
            }
            #expect(accumulator.size == total)
            #expect(accumulator.bytes == Array(body.prefix(limit)))
            #expect(accumulator.isTruncated == (limit > 0 && total > limit))
        }
    }

    @Test func failRecordsTheErrorAndAStatus() async throws {
        struct NotFound: Error, ResponseStatusProviding { var responseStatus: Int { 404 } }
        struct Plain: Error {}
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        metrics.recorder.begin(RequestHead(method: "GET", target: "/a")).fail(NotFound())
        metrics.recorder.begin(RequestHead(method: "GET", target: "/b")).fail(Plain())
        metrics.recorder.begin(RequestHead(method: "GET", target: "/c")).fail(Plain(), status: 502)
        let answered = metrics.recorder.begin(RequestHead(method: "GET", target: "/d"))
        answered.recordResponseHead(ResponseHead(status: 418))
        answered.fail(Plain())
        await metrics.shutdown(timeout: .seconds(60))
        let byTarget = Dictionary(uniqueKeysWithValues: exporter.events.map { ($0.record.request.target, $0.record) })
        #expect(byTarget["/a"]?.response?.status == 404)
        #expect(byTarget["/b"]?.response?.status == 500)
        #expect(byTarget["/c"]?.response?.status == 502)
        #expect(byTarget["/d"]?.response?.status == 418)
        #expect(byTarget["/b"]?.errors.first?.type == "Plain")
    }

    @Test func anAbandonedExchangeIsStillRecorded() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        do {
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/gone"))
            exchange.recordRequestBody([1, 2, 3])
        }
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.errors.first?.type == "ExchangeAbandoned")
        #expect(record.response == nil)
    }

    @Test func callsAfterFinishAreIgnored() async throws {
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/once"))
        exchange.finish()
        exchange.recordResponseHead(ResponseHead(status: 500))
        exchange.finish()
        exchange.fail(CancellationError())
        await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.count == 1)
        #expect(exporter.events.first?.record.response == nil)
    }

    @Test func errorsPerExchangeAreBounded() async throws {
        struct Numbered: Error { var n: Int }
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/errors"))
        for n in 0..<40 { exchange.reportError(Numbered(n: n)) }
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(60))
        let errors = try #require(exporter.events.first?.record.errors)
        #expect(errors.count == ActiveExchange.maxErrors + 1)
        #expect(errors.last?.message == "24 more errors were reported")
    }

    @Test func theClosureAdapterRecordsSuccessAndThrownErrors() async throws {
        struct Teapot: Error, ResponseStatusProviding { var responseStatus: Int { 418 } }
        let exporter = CollectingExporter()
        let metrics = try makeMetrics(exporter: exporter)
        let ok = metrics.recorder.instrument(route: "/orders/{id}") { request in
            ActiveExchange.current?.setConsumer(Consumer(id: "from-handler"))
            return ServerResponse(status: 200, headers: ["Content-Type": "application/json"], body: Array(#"{"id":7}"#.utf8))
        }
        let failing = metrics.recorder.instrument(route: "/fail") { _ in
            try await Task.sleep(for: .milliseconds(20))
            throw Teapot()
        }
        let response = try await ok(ServerRequest(method: "GET", target: "/orders/7"))
        #expect(response.status == 200)
        await #expect(throws: Teapot.self) {
            _ = try await failing(ServerRequest(method: "GET", target: "/fail", body: Array("x".utf8)))
        }
        await metrics.shutdown(timeout: .seconds(60))
        let records = exporter.events.map(\.record)
        #expect(records.count == 2)
        let success = try #require(records.first { $0.request.route == "/orders/{id}" })
        #expect(success.consumer?.id == "from-handler")
        #expect(success.responseBody.size == 8)
        let failure = try #require(records.first { $0.request.route == "/fail" })
        #expect(failure.response?.status == 418)
        #expect(failure.errors.first?.type == "Teapot")
        #expect(failure.requestBody.size == 1)
        // Latency on the error path counts the handler's time.
        #expect(failure.durationNanoseconds >= 20_000_000)
    }

    @Test func aDisabledRecorderRecordsNothing() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.isEnabled = false
        let metrics = try APIMetricsService(configuration: config)
        #expect(!metrics.recorder.isRecording)
        recordExchange(metrics.recorder)
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.isEmpty)
        #expect(report.statistics.recorded == 0)
    }
}
