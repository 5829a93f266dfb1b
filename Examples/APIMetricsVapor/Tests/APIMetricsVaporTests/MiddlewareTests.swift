import APIMetrics
import APIMetricsTesting
@testable import APIMetricsVapor
import Foundation
import NIOCore
import Synchronization
import Testing
@testable import VaporExample
import VaporTesting

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

/// The example's server started on a real socket for the length of `body`
/// (VaporTesting's running mode starts one per request), given its root.
func withRunningExample(
    _ config: APIMetricsConfiguration, runsSender: Bool = true,
    _ body: @escaping @Sendable (String, APIMetricsService) async throws -> Void
) async throws {
    let metrics = try APIMetricsService(configuration: config)
    try await withApp { app in
        let root: @Sendable () -> String = { [unowned app] in "http://127.0.0.1:\(app.http.server.shared.localAddress?.port ?? 0)"
        }
        ExampleServer.configure(app, metrics: metrics, instrumented: true, baseURL: root)
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let runner = runsSender ? Task { try await metrics.run() } : nil
        do {
            try await body(root(), metrics)
        } catch {
            await app.server.shutdown()
            await metrics.shutdown(timeout: .seconds(30))
            throw error
        }
        await app.server.shutdown()
        await metrics.shutdown(timeout: .seconds(30))
        try await runner?.value
    }
}

@Suite("Vapor middleware")
struct MiddlewareTests {
    @Test func templatesAreBuiltFromEveryKindOfPathComponent() {
        #expect(APIMetricsMiddleware.routeTemplate(["orders", ":id"]) == "/orders/{id}")
        #expect(APIMetricsMiddleware.routeTemplate(["files", "**"]) == "/files/**")
        #expect(APIMetricsMiddleware.routeTemplate(["a", "*", "b"]) == "/a/*/b")
        #expect(APIMetricsMiddleware.routeTemplate([]) == "/")
    }

    /// What every example must record, checked over real HTTP
    /// (`ExampleAPICheck`, shared with the Hummingbird and FlyingFox packages).
    @Test(arguments: ExampleAPICheck.Scenario.all)
    func theExampleAPIIsRecorded(_ scenario: ExampleAPICheck.Scenario) async throws {
        let exporter = CollectingExporter()
        let config = configuration(exporter, maxBodyBytes: scenario.captureLimit, queueLimit: scenario.queueLimit)
        try await withRunningExample(config, runsSender: scenario.queueLimit == nil) { baseURL, metrics in
            var check = ExampleAPICheck(baseURL: baseURL, exporter: exporter, metrics: metrics)
            check.streamedPath = "/stream?chunks=5"
            let problems = try await check.run(scenario)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    /// Vapor's own: its ErrorMiddleware answers a thrown error with a JSON
    /// body, which the event has.
    @Test func aThrownErrorIsRecordedWithVaporsJSONBody() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { app, _ in
            try await app.test(.GET, "/fail") { #expect($0.status == .internalServerError) }
        }
        let failed = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(failed.response?.status == 500 && failed.responseText.contains(#""error":true"#))
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

}
