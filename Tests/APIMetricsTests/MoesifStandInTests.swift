import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The Moesif exporter against Moesif's strict stand-in
/// (Tests/EndToEnd/vendors/moesif.py): whatever the traffic, Moesif would
/// take every request.
private struct HandlerFailure: Error {}

@Suite("Moesif against its strict stand-in", .serialized)
struct MoesifStandInTests {
    static let applicationID = "eyJhcHAiOiIxOTg6NzQ0IiwidmVyIjoiMi4xIn0.standin"

    private func service(
        _ standIn: VendorStandIn, batchLimits: ExportBatchLimits = MoesifExporter.Options.defaultBatchLimits
    ) async throws -> APIMetricsService {
        try await standIn.configure(["application_id": Self.applicationID])
        var config = testConfiguration([
            .moesif(
                MoesifExporter.Options(
                    applicationID: Self.applicationID, baseURL: standIn.url, apiVersion: "1.0.0",
                    batchLimits: batchLimits))
        ])
        config.capture.isBodyCaptureEnabled = true
        config.capture.bodyContentTypes = .all
        config.batching.maxEvents = 500
        config.identifyConsumer = ConsumerIdentifier { request in
            request.headers["x-user"].map { Consumer(id: $0, name: "Ann", email: "ann@example.com", company: "acme") }
        }
        return try APIMetricsService(configuration: config)
    }

    private func events(_ received: [VendorStandIn.Received]) -> [[String: Any]] {
        received.filter { $0.path == "/v1/events/batch" && $0.refusal == nil }.flatMap { ($0.json as? [[String: Any]]) ?? [] }
    }

    /// JSON, binary, gzip'd, non-UTF-8 and scalar bodies, OPTIONS, a call
    /// with no response, spoofed and odd client addresses, profiles and
    /// subscriptions, more calls than one request holds: every request is
    /// one Moesif takes.
    @Test func mixedTrafficIsAllTaken() async throws {
        let standIn = try await VendorStandIn.start("moesif")
        defer { standIn.stop() }
        let metrics = try await service(standIn)
        metrics.updateConsumer(Consumer(id: "u-1", name: "Ann", email: "ann@example.com", company: "acme"))
        metrics.updateCompany(CompanyProfile(id: "acme", name: "Acme", domain: "acme.example"))
        metrics.updateSubscriptions([
            SubscriptionProfile(
                id: "sub-1", companyID: "acme", plan: "gold", status: "active",
                currentPeriodStartNanoseconds: 1_795_000_000_000_000_000, currentPeriodEndNanoseconds: 1_797_000_000_000_000_000),
            SubscriptionProfile(id: "sub-2", companyID: "acme", plan: "silver", status: "canceled"),
            SubscriptionProfile(id: "sub-3", companyID: "acme", plan: "gold", status: "past_due"),
        ])
        let recorder = metrics.recorder
        func call(
            _ method: String, _ target: String, headers: HeaderFields = [:], address: String? = "203.0.113.9",
            body: [UInt8] = [], status: Int? = 200, responseHeaders: HeaderFields = [:], responseBody: [UInt8] = []
        ) {
            var all = headers
            all.append(name: "Host", value: "api.example.com")
            let exchange = recorder.begin(RequestHead(method: method, target: target, headers: all, clientAddress: address))
            exchange.recordRequestBody(body)
            if let status {
                exchange.recordResponseHead(ResponseHead(status: status, headers: responseHeaders))
                exchange.recordResponseBody(responseBody)
                exchange.finish()
            } else {
                exchange.fail(HandlerFailure())
            }
        }
        let json = Array(#"{"item":"lamp","password":"p"}"#.utf8)
        call(
            "POST", "/orders", headers: ["Content-Type": "application/json", "X-User": "u-1"], body: json,
            status: 201, responseHeaders: ["Content-Type": "application/json"], responseBody: Array(#"[1,2]"#.utf8))
        call("POST", "/upload", headers: ["Content-Type": "application/octet-stream"], body: [0, 0xFF, 0x80, 0x10])
        call(
            "POST", "/gz", headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"],
            body: try Gzip.compress(json),
            responseHeaders: ["Content-Type": "text/plain", "Content-Encoding": "gzip"],
            responseBody: try Gzip.compress(Array("plain".utf8)))
        call("POST", "/latin1", headers: ["Content-Type": "text/plain; charset=iso-8859-1"], body: [0x63, 0x61, 0x66, 0xE9])
        call("GET", "/scalar", responseHeaders: ["Content-Type": "application/json"], responseBody: Array("42".utf8))
        call("OPTIONS", "/orders", status: 204)
        call("GET", "/drop", status: nil)
        call("GET", "/v6", address: "[2001:db8::1]:443")
        call("GET", "/hidden", address: "_hidden")
        call("GET", "/wp-login.php", status: 404)
        call("GET", "/search?" + (0..<600).map { "k\($0)=v" }.joined(separator: "&"))
        for index in 0..<450 { call("GET", "/items/\(index)", headers: ["X-User": "u-\(index % 7)"]) }
        await metrics.shutdown(timeout: .seconds(60))

        let received = try await standIn.received()
        #expect(try await standIn.refusals() == [])
        let sent = events(received)
        #expect(sent.count == 461)
        #expect(received.filter { $0.path == "/v1/events/batch" }.allSatisfy { (($0.json as? [Any])?.count ?? 0) <= 200 })
        #expect(received.filter { $0.path == "/v1/events/batch" }.count >= 3)
        #expect(Set(sent.compactMap { $0["transaction_id"] as? String }).count == 461)
        func event(_ path: String) -> [String: Any]? {
            sent.first { (($0["request"] as? [String: Any])?["uri"] as? String)?.hasSuffix(path) == true }
        }
        let gz = try #require(event("/gz")?["request"] as? [String: Any])
        #expect(gz["transfer_encoding"] as? String == "json" && (gz["body"] as? [String: Any])?["item"] as? String == "lamp")
        let gzResponse = try #require(event("/gz")?["response"] as? [String: Any])
        #expect(gzResponse["body"] as? String == Data("plain".utf8).base64EncodedString())
        #expect((event("/scalar")?["response"] as? [String: Any])?["transfer_encoding"] as? String == "base64")
        #expect(event("/drop") != nil)
        #expect((event("/v6")?["request"] as? [String: Any])?["ip_address"] as? String == "2001:db8::1")
        #expect((event("/hidden")?["request"] as? [String: Any])?["ip_address"] == nil)
        let subscriptions = received.filter { $0.path == "/v1/subscriptions/batch" }.flatMap {
            ($0.json as? [[String: Any]]) ?? []
        }
        #expect(subscriptions.compactMap { $0["subscription_id"] as? String } == ["sub-1", "sub-2"])
        #expect(metrics.statistics.destinationLeftOut == 1)
    }

    /// A request over the byte limit is not sent: the sender halves it
    /// until each fits, and every call arrives.
    @Test func aBatchOverTheByteLimitIsSentInHalves() async throws {
        let standIn = try await VendorStandIn.start("moesif")
        defer { standIn.stop() }
        let metrics = try await service(standIn, batchLimits: ExportBatchLimits(maxEvents: 200, maxBytes: 64 * 1024))
        let body = Array("{\"blob\":\"\(String(repeating: "y", count: 10_000))\"}".utf8)
        for index in 0..<40 {
            recordExchange(
                metrics.recorder, method: "POST", target: "/blobs/\(index)", headers: ["Content-Type": "application/json"],
                requestBody: body)
        }
        await metrics.shutdown(timeout: .seconds(60))
        let received = try await standIn.received()
        #expect(try await standIn.refusals() == [])
        let posts = received.filter { $0.path == "/v1/events/batch" }
        #expect(posts.count >= 8 && posts.allSatisfy { $0.body.count <= 64 * 1024 })
        #expect(events(received).count == 40)
        #expect(metrics.statistics.exported == 40 && metrics.statistics.failed == 0)
    }

    /// A changed ETag on the stand-in's answers has the configuration read
    /// again at once, and the new sampling applies.
    @Test func aNewETagAtTheStandInIsReadAtOnce() async throws {
        let standIn = try await VendorStandIn.start("moesif")
        defer { standIn.stop() }
        let metrics = try await service(standIn)
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder, target: "/before")
        #expect(await eventuallyAsync { (try? await standIn.received().count) ?? 0 >= 2 })
        try await standIn.configure(["config": ["sample_rate": 0], "etag": "standin-config-2"])
        recordExchange(metrics.recorder, target: "/changed")
        #expect(await eventuallyAsync { (try? await standIn.received().filter { $0.path == "/v1/config" }.count) ?? 0 >= 2 })
        for index in 0..<20 { recordExchange(metrics.recorder, target: "/after/\(index)") }
        await metrics.shutdown(timeout: .seconds(60))
        _ = try? await runner.value
        let received = try await standIn.received()
        #expect(try await standIn.refusals() == [])
        let uris = events(received).compactMap { ($0["request"] as? [String: Any])?["uri"] as? String }
        #expect(
            uris == ["http://api.example.com/before", "http://api.example.com/changed"]
                || uris == ["http://localhost/before", "http://localhost/changed"])
        #expect(metrics.statistics.destinationLeftOut == 20)
    }
}
