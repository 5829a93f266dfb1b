import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The Apitally exporter against the strict stand-in of Apitally's hub
/// (Tests/EndToEnd/vendors/apitally.py): every document it sends must pass
/// the schemas written from the SDKs' payloads, or the test fails.
@Suite("Apitally stand-in", .serialized)
struct ApitallyStandInTests {
    static let clientID = "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f"

    private func options(_ standIn: VendorStandIn, logging: Bool = true) -> ApitallyExporter.Options {
        ApitallyExporter.Options(
            clientID: Self.clientID, environment: "prod", baseURL: standIn.url, isRequestLoggingEnabled: logging,
            appVersion: "1.0")
    }

    struct Declined: Error, CustomStringConvertible {
        var description: String { "declined " + String(repeating: "x", count: 3_000) }
    }

    /// Mixed traffic through a service: every request the hub gets is one
    /// it takes.
    @Test func mixedTrafficIsAllAccepted() async throws {
        let standIn = try await VendorStandIn.start("apitally")
        defer { standIn.stop() }
        var config = testConfiguration([.apitally(options(standIn))])
        config.instanceID = "apitally-stand-in-tests"
        config.metrics.routes = ["GET /orders/{id}", "POST /orders"]
        config.capture.isBodyCaptureEnabled = true
        config.identifyConsumer = ConsumerIdentifier { request in
            request.headers["x-user"].map {
                Consumer(id: $0 + String(repeating: "k", count: 200), name: String(repeating: "N", count: 90), group: "gold")
            }
        }
        let metrics = try APIMetricsService(configuration: config)
        let big = Array(("{\"k\":\"" + String(repeating: "a", count: 60_000) + "\"}").utf8)
        let calls: [(String, String, String?, HeaderFields, [UInt8], Int)] = [
            ("GET", "/orders/7?token=abc", "/orders/{id}", ["Host": "api.example.com", "X-User": "u1"], [], 200),
            (
                "POST", "/orders", "/orders", ["Host": "api.example.com", "Content-Type": "application/json"],
                Array(#"{"item":"lamp"}"#.utf8), 201
            ),
            ("POST", "/orders", "/orders", ["Host": "api.example.com", "Content-Type": "application/json"], big, 201),
            (
                "POST", "/orders", "/orders", ["Host": "api.example.com", "Content-Type": "application/octet-stream"],
                [0, 0xFF, 0xFE], 415
            ),
            ("POST", "/orders", "/orders", ["Host": "api.example.com", "Content-Type": "text/plain"], [0xC3, 0x28], 400),
            ("OPTIONS", "/orders", nil, ["Host": "api.example.com"], [], 204),
            ("GET", "/wp-login.php", nil, ["Host": "api.example.com"], [], 404),
            ("GET", "/healthz", "/healthz", ["Host": "api.example.com", "User-Agent": "kube-probe/1.29"], [], 200),
            ("WEIRD", "/orders/9", "/orders/{id}", ["Host": "api.example.com"], [], 405),
        ]
        for (method, target, route, headers, body, status) in calls {
            let exchange = metrics.recorder.begin(RequestHead(method: method, target: target, headers: headers, route: route))
            if !body.isEmpty { exchange.recordRequestBody(body) }
            exchange.recordResponseHead(ResponseHead(status: status, headers: ["Content-Type": "application/json"]))
            exchange.recordResponseBody(Array(#"{"detail":[{"loc":["body","item"],"msg":"bad","type":"value_error"}]}"#.utf8))
            exchange.finish()
        }
        let failing = metrics.recorder.begin(
            RequestHead(method: "POST", target: "/orders", headers: ["Host": "h", "X-User": "u2"], route: "/orders"))
        failing.fail(Declined())
        await metrics.shutdown(timeout: .seconds(30))

        let received = try await standIn.received()
        #expect(try await standIn.refusals() == [])
        let paths = received.map { $0.path.split(separator: "/").last.map(String.init) ?? "" }
        #expect(paths.contains("startup") && paths.contains("sync") && paths.contains("log"))
        #expect(received.allSatisfy { $0.status == 202 })
        let sync = try #require(received.first { $0.path.hasSuffix("/sync") }?.json as? [String: Any])
        let rows = (sync["requests"] as? [[String: Any]]) ?? []
        #expect(Set(rows.compactMap { $0["path"] as? String }) == ["/orders/{id}", "/orders"])
        // Every routed call but the OPTIONS; the health check never reaches
        // the exporters (the event filter's default).
        #expect(rows.reduce(0) { $0 + ($1["request_count"] as? Int ?? 0) } == 7)
        // The 404 scan is not counted but is logged; the OPTIONS is neither.
        #expect(metrics.statistics.destinationLeftOut == 1)
    }

    /// A call with no response goes as a 500: a status 0 is one the hub refuses.
    @Test func aCallWithNoResponseIsOneTheHubTakes() async throws {
        let standIn = try await VendorStandIn.start("apitally")
        defer { standIn.stop() }
        let apitally = try ApitallyExporter(options: options(standIn), instanceID: "apitally-stand-in-tests")
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 1_700_000_000_000_000_000,
            durationNanoseconds: 5_000_000,
            request: RequestHead(method: "GET", target: "/orders/1", headers: ["Host": "h"], route: "/orders/{id}"),
            errors: [RecordedError(type: "Timeout", message: "gone")])
        try await apitally.export(
            ExportBatch(identity: ServiceIdentity(service: "s", environment: "prod"), records: [record], sentAtNanoseconds: 0))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        #expect(try await standIn.refusals() == [])
        #expect(try await standIn.received().map(\.status) == [202, 202])
    }

    /// The hub's 404 for a client ID it does not know stops the exporter.
    @Test func anUnknownClientIDStopsTheExporter() async throws {
        let standIn = try await VendorStandIn.start("apitally")
        defer { standIn.stop() }
        try await standIn.configure(["known_client_ids": ["00000000-0000-4000-8000-000000000000"]])
        let apitally = try ApitallyExporter(options: options(standIn, logging: false), instanceID: "apitally-stand-in-tests")
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 3), direction: .incoming, startTimeNanoseconds: 1_700_000_000_000_000_000,
            durationNanoseconds: 5_000_000, request: RequestHead(method: "GET", target: "/o", route: "/o"),
            response: ResponseHead(status: 200))
        let batch = ExportBatch(
            identity: ServiceIdentity(service: "s", environment: "prod"), records: [record], sentAtNanoseconds: 0)
        try await apitally.export(batch)
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        try await apitally.export(batch)
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        #expect(try await standIn.received().map(\.status) == [404])
    }
}
