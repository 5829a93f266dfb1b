import APIMetrics
import APIMetricsTesting
@testable import APIMetricsHummingbird
import Foundation
import Hummingbird
@testable import HummingbirdExample
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The example's application on a real socket, its metrics running beside it.
func withExample(
    _ config: APIMetricsConfiguration, instrumented: Bool = true, runsSender: Bool = true,
    _ body: @escaping @Sendable (any TestClientProtocol, APIMetricsService, String) async throws -> Void
) async throws {
    let metrics = try APIMetricsService(configuration: config)
    let baseURL = Mutex("")
    let router = ExampleServer.router(
        metrics: metrics, variant: instrumented ? .apimetrics : .bare, baseURL: { baseURL.withLock { $0 } })
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in baseURL.withLock { $0 = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" } })
    let runner = runsSender ? Task { try await metrics.run() } : nil
    try await app.test(.live) { client in try await body(client, metrics, baseURL.withLock { $0 }) }
    await metrics.shutdown(timeout: .seconds(30))
    try await runner?.value
}

@Suite("Hummingbird middleware")
struct MiddlewareTests {
    @Test func aClientAddressIsWrittenAsNIOWritesIt() throws {
        var addresses = [
            "0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.9", "192.168.100.20", "1.22.103.250", "::1",
            "2001:db8::ff00:42:8329",
        ]
        // Every octet in every place, from a seeded generator.
        var state: UInt64 = 0x5EED
        for _ in 0..<500 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            addresses.append(
                (0..<4).map { String(UInt8(truncatingIfNeeded: state >> (8 * UInt64($0) + 24))) }.joined(separator: "."))
        }
        for text in addresses {
            let address = try SocketAddress(ipAddress: text, port: 443)
            #expect(APIMetricsMiddleware<BasicRequestContext>.text(of: address) == address.ipAddress)
        }
        #expect(
            APIMetricsMiddleware<BasicRequestContext>.text(of: try SocketAddress(ipAddress: "203.0.113.7", port: 1))
                == "203.0.113.7")
    }

    /// What every example must record, checked over real HTTP
    /// (`ExampleAPICheck`, shared with the Vapor and FlyingFox packages).
    @Test(arguments: ExampleAPICheck.Scenario.all)
    func theExampleAPIIsRecorded(_ scenario: ExampleAPICheck.Scenario) async throws {
        let exporter = CollectingExporter()
        let config = configuration(exporter, maxBodyBytes: scenario.captureLimit, queueLimit: scenario.queueLimit)
        try await withExample(config, runsSender: scenario.queueLimit == nil) { _, metrics, baseURL in
            var check = ExampleAPICheck(baseURL: baseURL, exporter: exporter, metrics: metrics)
            check.streamedPath = "/stream?chunks=5"
            let problems = try await check.run(scenario)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    /// The check can fail: the example without the middleware records nothing.
    @Test func theCheckSaysWhatDidNotHold() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter), instrumented: false) { _, metrics, baseURL in
            var check = ExampleAPICheck(baseURL: baseURL, exporter: exporter, metrics: metrics)
            check.timeout = .milliseconds(300)
            let problems = try await check.run(.routesHeadersAndClient)
            #expect(problems.contains("0 calls were exported, not 1"), "\(problems)")
        }
    }

    /// Hummingbird's own: the view refuses another machine's Host, and a
    /// thrown error is answered (and recorded) with an empty body.
    @Test func theViewRefusesAnotherHostAndAThrownErrorHasNoBody() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, _, _ in
            try await client.execute(uri: "/metrics", method: .get, headers: [.init("Host")!: "api.example.com"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/fail", method: .get) { #expect($0.status == .internalServerError) }
        }
        let failed = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(failed.request.target == "/fail" && failed.responseBody.size == 0)
    }

    @Test func bodiesReachTheClientByteForByteWithTheirFraming() async throws {
        // The same requests against the example with and without the
        // middleware: same status, same headers that frame the body, same bytes.
        struct Seen: Sendable, Equatable { var status: Int; var length: String?; var chunked: Bool; var body: [UInt8] }
        let paths = ["/orders/3", "/stream?chunks=200", "/stream?chunks=0", "/proxy?to=/orders/4"]
        let results = Mutex<[Bool: [Seen]]>([:])
        for instrumented in [true, false] {
            let exporter = CollectingExporter()
            try await withExample(configuration(exporter, maxBodyBytes: 100), instrumented: instrumented) { client, _, _ in
                var seen: [Seen] = []
                for path in paths {
                    try await client.execute(uri: path, method: .get) { response in
                        seen.append(
                            Seen(
                                status: response.status.code, length: response.headers[.contentLength],
                                chunked: response.headers[.transferEncoding] == "chunked", body: Array(buffer: response.body)))
                    }
                }
                results.withLock { $0[instrumented] = seen }
            }
            if instrumented {
                let records = await exporter.waitForRecords(atLeast: paths.count + 2)  // the proxy's outgoing call and its target
                let streamed = try #require(records.first { $0.request.target == "/stream?chunks=200" })
                #expect(streamed.responseBody.size == (0..<200).map { "chunk \($0)\n".utf8.count }.reduce(0, +))
                #expect(streamed.responseBody.bytes.count == 100 && streamed.responseBody.isTruncated)
            }
        }
        let with = results.withLock { $0[true] ?? [] }, without = results.withLock { $0[false] ?? [] }
        #expect(with == without)
        #expect(with.first?.length != nil && with[1].chunked && with[1].body.count > 1_000)
    }

    @Test func bodiesOfKnownLengthAreRecordedOnEitherSideOfTheInMemoryLimit() async throws {
        // Written in pieces with a declared length: a small one is gathered
        // before it is written, a long one recorded as it is written; the
        // client gets the same bytes and length either way.
        let small = (0..<4).map { "piece \($0);" }.joined()
        let long = String(repeating: "0123456789abcdef", count: 1_500)  // 24,000 bytes
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: configuration(exporter, maxBodyBytes: 100_000))
        for instrumented in [true, false] {
            let router = Router()
            if instrumented { router.add(middleware: APIMetricsMiddleware(metrics)) }
            for (path, text) in [("/small", small), ("/long", long)] {
                router.get(RouterPath(path)) { _, _ -> Response in
                    let bytes = Array(text.utf8)
                    return Response(
                        status: .ok, headers: [.contentType: "text/plain"],
                        body: ResponseBody(contentLength: bytes.count) { writer in
                            for start in stride(from: 0, to: bytes.count, by: 5_000) {
                                try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 5_000, bytes.count)]))
                            }
                            try await writer.finish(nil)
                        })
                }
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                for (path, text) in [("/small", small), ("/long", long)] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.headers[.contentLength] == "\(text.utf8.count)")
                        #expect(String(buffer: response.body) == text)
                    }
                }
            }
        }
        let runner = Task { try await metrics.run() }
        let records = await exporter.waitForRecords(atLeast: 2)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        #expect(records.first { $0.request.target == "/small" }?.responseText == small)
        #expect(records.first { $0.request.target == "/long" }?.responseText == long)
        #expect(records.count == 2)
    }

}
