import APIMetrics
import APIMetricsTesting
@testable import APIMetricsFlyingFox
import FlyingFox
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import FlyingFoxExample
import Synchronization
import Testing
import FlyingSocks

struct Answer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
}

/// The example's server on a real socket, recording into `exporter` (or
/// not instrumented at all), and a client for it.
func withExample(
    _ exporter: CollectingExporter, maxBodyBytes: Int = 64 * 1024, instrumented: Bool = true,
    _ body:
        @Sendable (_ send: @Sendable (String, String, [String: String], Data?) async throws -> Answer, APIMetricsService)
        async throws -> Void
) async throws {
    var config = ExampleServer.baseConfiguration()
    config.exporters = [.custom(exporter)]
    config.batching.flushInterval = .milliseconds(20)
    config.capture = .init(isBodyCaptureEnabled: true, maxBodyBytes: maxBodyBytes)
    config.senderPriority = .normal
    let metrics = try APIMetricsService(configuration: config)
    let baseURL = Mutex("")
    let routes = ExampleServer.routes(metrics: metrics, baseURL: { baseURL.withLock { $0 } })
    let handler: any HTTPHandler = instrumented ? APIMetricsHandler(metrics, routes: routes) : routes
    let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), logger: .disabled, handler: handler)
    let serving = Task { try await server.run() }
    let sender = Task { try await metrics.run() }
    try await server.waitUntilListening()
    guard case let .ip4(_, port)? = await server.listeningAddress else { throw URLError(.cannotConnectToHost) }
    let root = "http://127.0.0.1:\(port)"
    baseURL.withLock { $0 = root }
    let send: @Sendable (String, String, [String: String], Data?) async throws -> Answer = { method, path, headers, body in
        var request = URLRequest(url: URL(string: root + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http?.statusCode ?? 0, headers: fields, body: data)
    }
    try await body(send, metrics)
    await server.stop(timeout: 1)
    serving.cancel()
    await metrics.shutdown(timeout: .seconds(30))
    try await sender.value
}

@Suite("FlyingFox handler")
struct HandlerTests {
    @Test func routesAsTemplatesHeadersAndTheClient() async throws {
        let exporter = CollectingExporter()
        try await withExample(exporter) { send, _ in
            let answer = try await send("GET", "/orders/7?expand=1", ["X-Trace-Me": "yes", "X-API-Key": "key-acme"], nil)
            #expect(answer.status == 200)
            #expect(try await send("GET", "/no/such/path", [:], nil).status == 404)
        }
        let records = exporter.records
        let record = try #require(records.first { $0.request.target == "/orders/7?expand=1" })
        #expect(record.request.route == "/orders/{id}")
        #expect(record.request.headers["x-trace-me"] == "yes" && record.request.headers["host"] != nil)
        #expect(record.request.clientAddress == "127.0.0.1")
        #expect(record.consumer?.id == "acme")
        #expect(String(decoding: record.responseBody.bytes, as: UTF8.self) == #"{"id":7,"item":"lamp","quantity":1}"#)
        let unmatched = try #require(records.first { $0.request.target == "/no/such/path" })
        #expect(unmatched.request.route == nil && unmatched.response?.status == 404)
    }

    /// The handler serves the view (no route of the user's), to this
    /// machine, and never records it: neither events nor the metrics count
    /// the dashboard's or Prometheus's calls.
    @Test func theHandlerServesTheViewAndNeverRecordsIt() async throws {
        let exporter = CollectingExporter()
        try await withExample(exporter) { send, metrics in
            for path in ["/_apimetrics", "/_apimetrics/api", "/metrics", "/_apimetrics/openapi.json"] {
                let answer = try await send("GET", path, [:], nil)
                #expect(answer.status == 200, "\(path)")
                #expect(answer.headers["content-security-policy"] != nil, "\(path)")
            }
            #expect(try await send("GET", "/orders/7", [:], nil).status == 200)
            await exporter.waitForRecords(atLeast: 1)
            #expect(exporter.records.map(\.request.target) == ["/orders/7"])
            #expect(metrics.statistics.recorded == 1)
            let text = String(decoding: try await send("GET", "/metrics", [:], nil).body, as: UTF8.self)
            #expect(text.contains(#"route="/orders/{id}""#))
            #expect(!text.contains(#"route="/metrics""#) && !text.contains(#"route="/_apimetrics"#))
        }
    }

    @Test func bodiesAreTheSameWithAndWithoutAndCaptureIsCapped() async throws {
        let item = String(repeating: "x", count: 5_000)
        let body = Data(#"{"item":"\#(item)","quantity":2}"#.utf8)
        let seen = Mutex<[Bool: [String]]>([:])
        for instrumented in [true, false] {
            let exporter = CollectingExporter()
            try await withExample(exporter, maxBodyBytes: 64, instrumented: instrumented) { send, _ in
                let posted = try await send("POST", "/orders", ["Content-Type": "application/json"], body)
                let got = try await send("GET", "/orders/3", [:], nil)
                seen.withLock {
                    $0[instrumented] = [
                        "\(posted.status) \(posted.headers["content-length"] ?? "-") \(posted.body.count) \(String(decoding: posted.body, as: UTF8.self).contains(item))",
                        "\(got.status) \(got.headers["content-length"] ?? "-") \(String(decoding: got.body, as: UTF8.self))",
                    ]
                }
            }
            if instrumented {
                let posted = try #require(exporter.records.first { $0.request.method == "POST" })
                // JSON cut at the capture limit cannot be read whole: redaction
                // fails closed and keeps the marker in its place.
                let marker = Array(RedactionOptions.default.unparseableBodyMarker.utf8)
                #expect(
                    posted.requestBody.size == body.count && posted.requestBody.bytes == marker && posted.requestBody.isTruncated)
                #expect(posted.responseBody.size > 5_000 && posted.responseBody.bytes == marker)
                #expect(posted.response?.status == 201 && posted.request.route == "/orders")
            }
        }
        #expect(seen.withLock { $0[true] } == seen.withLock { $0[false] })
        #expect(seen.withLock { $0[true]?.first?.hasSuffix("true") } == true)
    }

    @Test func errorsValidationAndOutgoingLinks() async throws {
        let exporter = CollectingExporter()
        try await withExample(exporter) { send, _ in
            #expect(try await send("GET", "/fail", [:], nil).status == 500)
            let invalid = try await send("POST", "/orders", ["Content-Type": "application/json"], Data(#"{"quantity":0}"#.utf8))
            #expect(invalid.status == 422)
            #expect(try await send("GET", "/proxy?to=/orders/5", [:], nil).status == 200)
            await exporter.waitForRecords(atLeast: 5)
        }
        let records = exporter.records
        let failed = try #require(records.first { $0.request.target == "/fail" })
        #expect(
            failed.response?.status == 500 && failed.errors.first?.type == "ExampleFailure" && failed.request.route == "/fail")
        let proxy = try #require(records.first { $0.request.route == "/proxy" })
        let outgoing = try #require(records.first { $0.direction == .outgoing })
        #expect(outgoing.parentID == proxy.id && outgoing.traceID == proxy.traceID)
        #expect(records.contains { $0.response?.status == 422 && $0.request.route == "/orders" })
    }

    @Test func aChunkedBodyIsLeftAsItIsAndMarked() async throws {
        let exporter = CollectingExporter()
        var config = ExampleServer.baseConfiguration()
        config.exporters = [.custom(exporter)]
        config.batching.flushInterval = .milliseconds(20)
        let metrics = try APIMetricsService(configuration: config)
        let sender = Task { try await metrics.run() }
        var routes = RoutedHTTPHandler()
        let payload = Data(repeating: UInt8(ascii: "a"), count: 100)
        routes.appendRoute("GET /chunked") { _ in
            // A body of unknown length: FlyingFox sends it chunked.
            HTTPResponse(
                statusCode: .ok,
                body: HTTPBodySequence(
                    from: RecordingBytes(
                        base: HTTPBodySequence(data: payload), count: payload.count, onChunk: { _ in }, onEnd: {})))
        }
        let response = try await APIMetricsHandler(metrics, routes: routes)
            .handleRequest(HTTPRequest(method: .GET, version: .http11, path: "/chunked", query: [], headers: [:], body: Data()))
        #expect(try await response.bodyData.count > payload.count)  // the chunk framing, unchanged
        await exporter.waitForRecords(atLeast: 1)
        let record = try #require(exporter.records.first)
        #expect(record.metadata["response_body"] == "streamed: not captured, size unknown")
        #expect(record.responseBody.size == 0 && record.response?.status == 200)
        await metrics.shutdown(timeout: .seconds(30))
        try await sender.value
    }

    /// A request body of unknown size (chunked) is left for the handler
    /// to read and marked, in the core's words.
    @Test func aRequestBodyOfUnknownSizeIsMarked() async throws {
        let exporter = CollectingExporter()
        var config = APIMetricsConfiguration(service: "flyingfox-test", exporters: [.custom(exporter)])
        config.diagnostics = .silent
        let metrics = try APIMetricsService(configuration: config)
        var request = HTTPRequest(method: .POST, version: .http11, path: "/upload", query: [], headers: [:], body: Data())
        // A sequence of bytes whose length the request does not know.
        request.bodySequence = HTTPBodySequence(
            from: RecordingBytes(base: HTTPBodySequence(data: Data("chunk".utf8)), count: 5, onChunk: { _ in }, onEnd: {}))
        let exchange = metrics.recorder.begin(RequestHead(method: "POST", target: "/upload"))
        APIMetricsHandler.tapRequestBody(of: &request, into: exchange)
        exchange.recordResponseHead(ResponseHead(status: 200))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(30))
        let record = try #require(exporter.records.first)
        #expect(record.metadata["request_body"] == "streamed: not captured, size unknown")
        // Left as it is for the handler to read: not gathered, not replaced.
        #expect(request.bodySequence.count == nil)
        #expect(record.requestBody.bytes.isEmpty)
    }

    @Test func whileTheQueueIsFullCallsAreShedButEveryOneCounts() async throws {
        var config = ExampleServer.baseConfiguration()
        config.exporters = [.custom(CollectingExporter())]
        config.queue = .init(maxEvents: 3, maxBytes: 1 << 20)
        let metrics = try APIMetricsService(configuration: config)
        let handler = APIMetricsHandler(metrics, routes: ExampleServer.routes(metrics: metrics, baseURL: { "" }))
        // No sender runs: the queue fills after three calls.
        for index in 0..<20 {
            let request = HTTPRequest(
                method: .GET, version: .http11, path: index % 4 == 0 ? "/nope" : "/orders/\(index + 1)", query: [], headers: [:],
                body: Data())
            _ = try? await handler.handleRequest(request)
        }
        let answer = try #require(
            metrics.view.response(
                method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
        let api = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
        #expect(api["requests"] as? Int == 20)
        let routes = (api["endpoints"] as? [[String: Any]] ?? []).compactMap { $0["route"] as? String }
        #expect(Set(routes) == ["/orders/{id}", "(unmatched)"])
        #expect(metrics.statistics.dropped == 17)
        await metrics.shutdown(timeout: .seconds(30))
    }
}
