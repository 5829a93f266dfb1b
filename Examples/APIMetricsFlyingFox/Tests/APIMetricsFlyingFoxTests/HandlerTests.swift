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
    _ exporter: CollectingExporter, maxBodyBytes: Int = 64 * 1024, queueLimit: Int? = nil, instrumented: Bool = true,
    _ body:
        @Sendable (
            _ send: @Sendable (String, String, [String: String], Data?) async throws -> Answer, APIMetricsService,
            _ root: String
        ) async throws -> Void
) async throws {
    let metrics = try APIMetricsService(
        configuration: ExampleAPICheck.configuration(
            ExampleServer.baseConfiguration(), exporter: exporter, captureLimit: maxBodyBytes, queueLimit: queueLimit))
    let baseURL = Mutex("")
    let routes = ExampleServer.routes(metrics: metrics, baseURL: { baseURL.withLock { $0 } })
    let handler: any HTTPHandler = instrumented ? APIMetricsHandler(metrics, routes: routes) : routes
    let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), logger: .disabled, handler: handler)
    let serving = Task { try await server.run() }
    // A queue of the caller's size is one no sender takes from.
    let sender = queueLimit == nil ? Task { try await metrics.run() } : nil
    try await server.waitUntilListening()
    guard case let .ip4(_, port)? = await server.listeningAddress else {
        serving.cancel()
        await metrics.shutdown(timeout: .seconds(30))
        throw URLError(.cannotConnectToHost)
    }
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
    // Stopped whether the body passes or throws.
    do {
        try await body(send, metrics, root)
    } catch {
        await server.stop(timeout: 1)
        serving.cancel()
        await metrics.shutdown(timeout: .seconds(30))
        throw error
    }
    await server.stop(timeout: 1)
    serving.cancel()
    await metrics.shutdown(timeout: .seconds(30))
    try await sender?.value
}

@Suite("FlyingFox handler")
struct HandlerTests {
    /// What every example must record, checked over real HTTP
    /// (`ExampleAPICheck`, shared with the Hummingbird and Vapor packages).
    @Test(arguments: ExampleAPICheck.Scenario.all)
    func theExampleAPIIsRecorded(_ scenario: ExampleAPICheck.Scenario) async throws {
        let exporter = CollectingExporter()
        try await withExample(exporter, maxBodyBytes: scenario.captureLimit, queueLimit: scenario.queueLimit) {
            _, metrics, root in
            let problems = try await ExampleAPICheck(baseURL: root, exporter: exporter, metrics: metrics).run(scenario)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test func bodiesAreTheSameWithAndWithoutAndCaptureIsCapped() async throws {
        let item = String(repeating: "x", count: 5_000)
        let body = Data(#"{"item":"\#(item)","quantity":2}"#.utf8)
        let seen = Mutex<[Bool: [String]]>([:])
        for instrumented in [true, false] {
            let exporter = CollectingExporter()
            try await withExample(exporter, maxBodyBytes: 64, instrumented: instrumented) { send, _, _ in
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

}
