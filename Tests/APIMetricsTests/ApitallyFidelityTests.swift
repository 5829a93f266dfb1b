import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// What Apitally's own SDKs (apitally-py, apitally-js) do and ours must do
/// the same: count only routed calls, a call with no response is a 500,
/// the request log's exclusions and caps, what is kept after a refusal.
/// Each test fails on the exporter before these rules (commit ef2cf78).
@Suite("Apitally fidelity")
struct ApitallyFidelityTests {
    static let clientID = "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f"

    private func exporter(_ hub: TestCollector, logging: Bool = false) throws -> ApitallyExporter {
        let options = ApitallyExporter.Options(
            clientID: Self.clientID, environment: "prod", baseURL: hub.baseURL, isRequestLoggingEnabled: logging)
        return try ApitallyExporter(options: options, instanceID: "fidelity-tests")
    }

    private func record(
        _ n: Int, method: String = "GET", target: String = "/orders/7", route: String? = "/orders/{id}",
        status: Int? = 200, headers: HeaderFields = ["Host": "api.example.com", "X-User": "u-1"],
        requestBody: CapturedBody = .empty, startSeconds: Int64 = 1_700_000_000, consumer: Consumer? = nil,
        errors: [RecordedError] = []
    ) -> ExchangeRecord {
        ExchangeRecord(
            id: EventID(high: 7, low: UInt64(n + 1)), direction: .incoming,
            startTimeNanoseconds: startSeconds * 1_000_000_000 + Int64(n), durationNanoseconds: 12_000_000,
            request: RequestHead(method: method, target: target, headers: headers, route: route), requestBody: requestBody,
            response: status.map { ResponseHead(status: $0, headers: ["Content-Type": "application/json"]) },
            consumer: consumer, errors: errors)
    }

    private func batch(_ records: [ExchangeRecord]) -> ExportBatch {
        ExportBatch(identity: ServiceIdentity(service: "s", environment: "prod"), records: records, sentAtNanoseconds: 0)
    }

    private func syncRows(_ hub: TestCollector) -> [[String: Any]] {
        hub.requests.filter { $0.target.hasSuffix("/sync") }.compactMap { jsonObject($0.body) }
            .flatMap { ($0["requests"] as? [[String: Any]]) ?? [] }
    }

    private func logItems(_ hub: TestCollector) throws -> [[String: Any]] {
        try hub.requests.filter { $0.target.contains("/log?uuid=") }.flatMap { upload in
            String(decoding: try Gzip.decompress(upload.rawBody), as: UTF8.self).split(separator: "\n")
                .compactMap { jsonObject(Array($0.utf8)) }
        }
    }

    /// apitally/starlette.py counts a call only `if path is not None` (the
    /// route template) and skips `OPTIONS`: a 404 scan is no endpoint.
    @Test func onlyCallsWithARouteTemplateAreCounted() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        var config = testConfiguration([
            .apitally(
                ApitallyExporter.Options(
                    clientID: Self.clientID, environment: "prod", baseURL: hub.baseURL))
        ])
        config.instanceID = "fidelity-tests"
        let metrics = try APIMetricsService(configuration: config)
        for (method, target, route) in [
            ("GET", "/orders/7", "/orders/{id}"), ("GET", "/wp-login.php", nil),
            ("GET", "/.env", nil), ("OPTIONS", "/orders/7", "/orders/{id}"),
        ] as [(String, String, String?)] {
            let exchange = metrics.recorder.begin(RequestHead(method: method, target: target, route: route))
            exchange.recordResponseHead(ResponseHead(status: route == nil ? 404 : 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(30))
        let rows = syncRows(hub)
        #expect(rows.map { $0["path"] as? String } == ["/orders/{id}"])
        #expect(rows.map { $0["method"] as? String } == ["GET"])
        #expect(metrics.statistics.destinationLeftOut == 3, "the unrouted calls and the OPTIONS are left out, and counted")
    }

    /// `if response_status == 0 and exception is not None: response_status = 500`.
    @Test func aCallWithNoResponseCountsAsA500() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        let failed = record(1, status: nil, errors: [RecordedError(type: "Timeout", message: "upstream gone")])
        try await apitally.export(batch([failed]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        #expect(syncRows(hub).map { $0["status_code"] as? Int } == [500])
        let sync = try #require(hub.requests.first { $0.target.hasSuffix("/sync") }.flatMap { jsonObject($0.body) })
        #expect((sync["server_errors"] as? [[String: Any]])?.first?["type"] as? String == "Timeout")
        let response = try #require(try logItems(hub).first?["response"] as? [String: Any])
        #expect(response["status_code"] as? Int == 500)
    }

    /// Request headers are off by default (`log_request_headers: False`);
    /// health paths and probes' user agents are not logged at all.
    @Test func theRequestLogLeavesOutRequestHeadersHealthChecksAndProbes() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        try await apitally.export(
            batch([
                record(1),
                record(2, target: "/healthz", route: "/healthz"),
                record(3, target: "/api/v1/health-check?x=1", route: nil),
                record(4, target: "/favicon-32x32.png", route: nil),
                record(5, target: "/.well-known/security.txt", route: nil),
                record(6, headers: ["Host": "api.example.com", "User-Agent": "kube-probe/1.29"]),
                record(7, headers: ["Host": "api.example.com", "User-Agent": "ELB-HealthChecker/2.0"]),
                record(8, target: "/pingpong", route: "/pingpong"),
            ]))
        await apitally.shutdown()
        let items = try logItems(hub)
        #expect(
            items.compactMap { ($0["request"] as? [String: Any])?["url"] as? String }
                == ["http://api.example.com/orders/7", "http://api.example.com/pingpong"])
        let request = try #require(items.first?["request"] as? [String: Any])
        #expect(request["headers"] == nil, "request headers are off by default")
        #expect(request["body"] == nil, "an empty member is left out, as the SDK leaves it out")
        let response = try #require(items.first?["response"] as? [String: Any])
        #expect((response["headers"] as? [[String]]) == [["Content-Type", "application/json"]])
    }

    /// `MAX_BODY_SIZE = 50_000` → `<body too large>`; only JSON and text
    /// bodies are logged.
    @Test func bodiesOverFiftyThousandBytesAreTooLargeAndBinaryOnesLeftOut() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        let json: HeaderFields = ["Host": "h", "Content-Type": "application/json"]
        let big = Array(("{\"k\":\"" + String(repeating: "a", count: 50_000) + "\"}").utf8)
        let small = Array(#"{"k":"v"}"#.utf8)
        try await apitally.export(
            batch([
                record(1, method: "POST", headers: json, requestBody: CapturedBody(bytes: big, size: big.count)),
                record(2, method: "POST", headers: json, requestBody: CapturedBody(bytes: small, size: small.count)),
                record(
                    3, method: "POST", headers: ["Host": "h", "Content-Type": "application/octet-stream"],
                    requestBody: CapturedBody(bytes: [0, 1, 2, 0xFF], size: 4)),
            ]))
        await apitally.shutdown()
        let bodies = try logItems(hub).map { (($0["request"] as? [String: Any])?["body"] as? String) ?? "-" }
        #expect(bodies == [Data("<body too large>".utf8).base64EncodedString(), Data(small).base64EncodedString(), "-"])
    }

    /// The SDK's write buffer holds 100 calls and is written once a second.
    @Test func atMostOneHundredCallsASecondAreLogged() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        try await apitally.export(
            batch((0..<150).map { record($0) } + (150..<160).map { record($0, startSeconds: 1_700_000_001) }))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        #expect(try logItems(hub).count == 100 + 10, "100 of the first second, 10 of the next, none past")
        #expect(syncRows(hub).first?["request_count"] as? Int == 160, "every call is counted in the sync")
    }

    /// `MAX_FILE_SIZE = 1_000_000` compressed bytes per upload.
    @Test func noUploadPassesAMegabyteCompressed() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        var generator = SeededGenerator.replayable()
        let json: HeaderFields = ["Host": "h", "Content-Type": "application/json"]
        let records = (0..<100).map { n -> ExchangeRecord in
            let text = (0..<24_000).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
            let body = Array("{\"k\":\"\(text)\"}".utf8)
            return record(n, method: "POST", headers: json, requestBody: CapturedBody(bytes: body, size: body.count))
        }
        try await apitally.export(batch(records))
        await apitally.shutdown()
        let uploads = hub.requests.filter { $0.target.contains("/log?uuid=") }
        #expect(uploads.count >= 2)
        #expect(uploads.allSatisfy { $0.rawBody.count <= 1_000_000 })
        #expect(Set(uploads.map(\.target)).count == uploads.count, "each file has a UUID of its own")
        #expect(try logItems(hub).count == 100)
    }

    /// `retry_file_later`: a file the hub did not take goes again, first.
    @Test func aFailedLogUploadIsKeptAndSentAgain() async throws {
        let hub = try TestCollector(answering: { number, request, _ in
            request.contains("/log?") && number == 0 ? .status(503) : .status(202)
        })
        defer { hub.stop() }
        let apitally = try exporter(hub, logging: true)
        try await apitally.export(batch([record(1)]))
        try await apitally.export(batch([record(2, startSeconds: 1_700_000_002)]))
        await apitally.shutdown()
        let uploads = hub.requests.filter { $0.target.contains("/log?uuid=") }
        #expect(uploads.count == 3)
        #expect(uploads.count == 3 && uploads[0].target == uploads[1].target && uploads[0].rawBody == uploads[1].rawBody)
        #expect(try logItems(hub).count == 3, "the first call's line twice (sent, refused, sent again), the second's once")
    }

    /// `_handle_hub_response`: only 404 and 422 end a sync; any other
    /// refusal raises and the sync goes back in the queue.
    @Test(arguments: [400, 401, 403, 413])
    func aSyncRefusedOtherwiseThan404Or422IsKept(status: Int) async throws {
        let hub = try TestCollector(answering: { number, request, _ in
            request.hasSuffix("/sync") && number == 0 ? .status(status) : .status(202)
        })
        defer { hub.stop() }
        let apitally = try exporter(hub)
        try await apitally.export(batch([record(1)]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        try await apitally.export(batch([record(2)]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        let syncs = hub.requests.filter { $0.target.hasSuffix("/sync") }
        #expect(syncs.count == 3)
        #expect(syncs.count == 3 && syncs[0].body == syncs[1].body, "the refused sync goes again as it was")
        #expect(syncRows(hub).dropFirst().reduce(0) { $0 + ($1["request_count"] as? Int ?? 0) } == 2)
    }

    @Test func aSyncRefusedWith422IsGivenUp() async throws {
        let hub = try TestCollector(answering: { number, request, _ in
            request.hasSuffix("/sync") && number == 0 ? .status(422) : .status(202)
        })
        defer { hub.stop() }
        let apitally = try exporter(hub)
        try await apitally.export(batch([record(1)]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        try await apitally.export(batch([record(2)]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        let syncs = hub.requests.filter { $0.target.hasSuffix("/sync") }
        #expect(syncs.count == 2 && syncs[0].body != syncs[1].body)
    }

    /// `Consumer`: identifier cut to 128 characters, name and group to 64.
    @Test func consumersAreCutAsTheSDKCutsThem() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub)
        let consumer = Consumer(id: String(repeating: "é", count: 200), name: String(repeating: "n", count: 100), group: " gold ")
        try await apitally.export(batch([record(1, consumer: consumer)]))
        await apitally.sync(now: CaptureClock.monotonicNanoseconds())
        await apitally.shutdown()
        #expect(syncRows(hub).first?["consumer"] as? String == String(repeating: "é", count: 128))
        let sync = try #require(hub.requests.first { $0.target.hasSuffix("/sync") }.flatMap { jsonObject($0.body) })
        let profile = try #require((sync["consumers"] as? [[String: Any]])?.first)
        #expect(profile["name"] as? String == String(repeating: "n", count: 64) && profile["group"] as? String == "gold")
    }
}
