import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// What ReadMe's own SDKs (readmeio/metrics-sdks) send and we must send
/// the same way: the count of logs per request, the group id built from
/// the API key the call was made with, the marker for a body that is not
/// UTF-8, the preflights left out, the client address, a call left
/// without a response. Tests/EndToEnd/vendors/README-readme.md says which
/// SDK file each rule comes from.
@Suite("ReadMe fidelity")
struct ReadMeFidelityTests {
    static let projectKey = "rdme_xn8s9h0123456789"

    private func service(
        _ ingest: VendorStandIn, configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) throws -> APIMetricsService {
        var config = testConfiguration([
            .readMe(ReadMeExporter.Options(apiKey: Self.projectKey, baseURL: ingest.url))
        ])
        config.capture.isBodyCaptureEnabled = true
        configure(&config)
        return try APIMetricsService(configuration: config)
    }

    /// The logs of each request the stand-in took; a request it refused
    /// (one ReadMe would refuse, or its SDKs never send) fails the test.
    private func posts(_ ingest: VendorStandIn) async throws -> [[[String: Any]]] {
        let received = try await ingest.received()
        #expect(try await ingest.refusals() == [])
        return received.filter { $0.status == 202 }.map { ($0.json as? [[String: Any]]) ?? [] }
    }

    private func logs(_ ingest: VendorStandIn) async throws -> [[String: Any]] { try await posts(ingest).flatMap { $0 } }

    private static func entry(_ log: [String: Any]) -> [String: Any] {
        ((((log["request"] as? [String: Any])?["log"] as? [String: Any])?["entries"] as? [[String: Any]])?.first) ?? [:]
    }

    /// One call with a consumer, its bodies and its client address as given.
    private func call(
        _ recorder: Recorder, method: String = "POST", consumer: Consumer? = Consumer(id: "acct-7"),
        headers: HeaderFields = ["Host": "api.example.com"], clientAddress: String? = "198.51.100.4",
        requestBody: [UInt8] = [], responseBody: [UInt8] = [], contentType: String = "application/json",
        responds: Bool = true
    ) {
        var headers = headers
        if !requestBody.isEmpty { headers.append(name: "Content-Type", value: contentType) }
        let exchange = recorder.begin(
            RequestHead(method: method, target: "/files/1", headers: headers, clientAddress: clientAddress))
        exchange.setConsumer(consumer)
        if !requestBody.isEmpty { exchange.recordRequestBody(requestBody) }
        if responds {
            exchange.recordResponseHead(ResponseHead(status: 200, headers: HeaderFields([("Content-Type", contentType)])))
            if !responseBody.isEmpty { exchange.recordResponseBody(responseBody) }
        }
        exchange.finish()
    }

    /// packages/node/src/lib/log.ts clamps `bufferLength` to 1…30: no
    /// request carries more than 30 logs, and none is lost in the split.
    @Test func noRequestCarriesMoreThanThirtyLogs() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest) { config in
            // One flush holds them all: only the exporter's own cap splits them.
            config.batching.flushInterval = .seconds(30)
        }
        for index in 0..<75 { call(metrics.recorder, consumer: Consumer(id: "acct-\(index)")) }
        await metrics.shutdown(timeout: .seconds(30))
        let counts = try await posts(ingest).map(\.count)
        #expect(counts.allSatisfy { (1...ReadMeExporter.maxLogsPerRequest).contains($0) }, "\(counts)")
        #expect(counts.reduce(0, +) == 75 && metrics.statistics.exported == 75)
        let ids = Set(try await logs(ingest).compactMap { $0["_id"] as? String })
        #expect(ids.count == 75, "each call once")
    }

    /// packages/python/readme_metrics/PayloadBuilder.py `_process_body`:
    /// bytes that do not decode as UTF-8 are the text `[NOT VALID UTF-8]`,
    /// in the request's `postData.text` and the response's `content.text`,
    /// with no `encoding`.
    @Test func aBodyThatIsNotUTF8GoesAsReadMesMarker() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest) { config in
            // Binary types too: by default only textual bodies are kept.
            config.capture.bodyContentTypes = .all
        }
        let binary: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0xFF, 0xFE, 0x00, 0xC3]
        call(
            metrics.recorder, consumer: Consumer(id: "a"), requestBody: binary, responseBody: binary.reversed(),
            contentType: "application/octet-stream")
        // Latin-1 text, declared as such: still not UTF-8.
        let latin1: [UInt8] = [0x63, 0x61, 0x66, 0xE9]
        call(
            metrics.recorder, consumer: Consumer(id: "b"), requestBody: latin1, responseBody: latin1,
            contentType: "text/plain; charset=iso-8859-1")
        call(
            metrics.recorder, consumer: Consumer(id: "c"), requestBody: Array("héllo".utf8), responseBody: Array("wörld".utf8),
            contentType: "text/plain")
        await metrics.shutdown(timeout: .seconds(30))
        var entries: [String: [String: Any]] = [:]
        for log in try await logs(ingest) {
            if let id = (log["group"] as? [String: String])?["id"] { entries[String(id.suffix(1))] = Self.entry(log) }
        }
        try #require(entries.count == 3)
        for (name, size) in [("a", binary.count), ("b", latin1.count)] {
            let entry = try #require(entries[name])
            let postData = try #require((entry["request"] as? [String: Any])?["postData"] as? [String: String], "\(name)")
            #expect(postData["text"] == "[NOT VALID UTF-8]", "\(name): \(postData)")
            let content = try #require((entry["response"] as? [String: Any])?["content"] as? [String: Any])
            #expect(content["text"] as? String == "[NOT VALID UTF-8]" && content["encoding"] == nil, "\(name): \(content)")
            #expect(content["size"] as? Int == size, "the size is still the body's")
        }
        // UTF-8 goes as it is.
        let utf8 = try #require(entries["c"])
        #expect(((utf8["request"] as? [String: Any])?["postData"] as? [String: String])?["text"] == "héllo")
        #expect((((utf8["response"] as? [String: Any])?["content"] as? [String: Any])?["text"] as? String) == "wörld")
    }

    /// packages/node/src/lib/construct-payload.ts: `group.id` is
    /// `mask(apiKey)`, "API Key used to make the request". The built-in
    /// API key identifier gives the key: the group id is the mask of the
    /// key itself, not of the `sha256:` id we keep for the consumer, so
    /// it matches the id ReadMe's own SDKs give the same caller.
    @Test func theGroupIDIsTheMaskOfTheAPIKeyTheCallWasMadeWith() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let key = "key_live_4f9a0c1d2e3b7788"
        let metrics = try service(ingest) { config in
            config.identifyConsumer = .apiKey(header: "x-api-key")
        }
        call(metrics.recorder, consumer: nil, headers: HeaderFields([("Host", "api.example.com"), ("X-API-Key", key)]))
        await metrics.shutdown(timeout: .seconds(30))
        let group = try #require(try await logs(ingest).first?["group"] as? [String: String])
        #expect(group["id"] == Self.pythonMask(key), "\(group)")
        #expect(group["id"]?.hasSuffix("?7788") == true)
    }

    /// A consumer the app names with its key: the group id is the key's
    /// mask, the label and email the consumer's; without a key, the mask of
    /// the id, as the SDKs mask their grouping function's `id`
    /// (packages/python/readme_metrics/PayloadBuilder.py `_validate_group`).
    @Test func aConsumerNamedWithItsKeyIsGroupedByTheKey() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder, consumer: Consumer(id: "acct-1", name: "Acme", email: "ops@acme.test", apiKey: " sk_acme_0001 "))
        call(metrics.recorder, consumer: Consumer(id: "acct-2", name: "Beta"))
        await metrics.shutdown(timeout: .seconds(30))
        let groups = try await logs(ingest).compactMap { $0["group"] as? [String: String] }
        #expect(groups.contains(["id": Self.pythonMask("sk_acme_0001"), "label": "Acme", "email": "ops@acme.test"]), "\(groups)")
        #expect(groups.contains(["id": Self.pythonMask("acct-2"), "label": "Beta"]), "\(groups)")
    }

    /// The key is never kept: normalization leaves its mask and drops it;
    /// the spool's form carries the mask, so a batch sent later groups the
    /// same way; normalizing again keeps the mask.
    @Test func theKeyItselfIsNeverKept() throws {
        let consumer = try #require(Consumer(id: "acct-1", apiKey: "sk_secret_value_9876").normalized())
        #expect(consumer.apiKey == nil)
        #expect(consumer.apiKeyMask == Self.pythonMask("sk_secret_value_9876"))
        #expect(consumer.normalized()?.apiKeyMask == consumer.apiKeyMask)
        #expect(Consumer(id: "acct-1", apiKey: "  ").normalized()?.apiKeyMask == nil, "an empty key is none")
        var writer = BinaryWriter()
        writer.entity(EntityRecord(profile: .consumer(consumer), timestampNanoseconds: 1))
        #expect(!String(decoding: writer.bytes, as: UTF8.self).contains("sk_secret"))
        var reader = BinaryReader(writer.bytes)
        guard case let .consumer(read) = try reader.entity().profile else {
            Issue.record("not a consumer")
            return
        }
        #expect(read == consumer)
    }

    /// Every SDK returns before logging an `OPTIONS` request
    /// (packages/node/src/lib/log.ts, packages/python/readme_metrics/django.py,
    /// packages/php/src/Metrics.php, packages/ruby/lib/readme/metrics.rb,
    /// packages/dotnet/ReadMe/Metrics.cs): preflights are left out, counted.
    @Test func preflightsAreLeftOutAndCounted() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder, method: "OPTIONS")
        call(metrics.recorder, method: "GET")
        await metrics.shutdown(timeout: .seconds(30))
        let methods = try await logs(ingest).compactMap { (Self.entry($0)["request"] as? [String: Any])?["method"] as? String }
        #expect(methods == ["GET"])
        #expect(metrics.statistics.destinationLeftOut == 1 && metrics.statistics.exported == 1)
    }

    /// `clientIPAddress` is the call's client address, and is always
    /// there: the Node SDK sends `''` when it has none
    /// (packages/node/src/lib/construct-payload.ts), and ReadMe's SDK
    /// schemas require it (packages/ruby/spec/schema/payload.json).
    @Test func theClientAddressIsAlwaysSent() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder, clientAddress: "2001:db8::7")
        call(metrics.recorder, clientAddress: nil)
        await metrics.shutdown(timeout: .seconds(30))
        let addresses = try await logs(ingest).map { $0["clientIPAddress"] as? String }
        #expect(Set(addresses.compactMap { $0 }) == ["2001:db8::7", ""] && addresses.count == 2, "\(addresses)")
    }

    /// A call the handler left without any response: frameworks answer it
    /// with 500, which the SDKs then log (status 0 would be no HTTP status).
    @Test func aCallWithNoResponseIsLoggedAs500() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder, method: "GET", responds: false)
        await metrics.shutdown(timeout: .seconds(30))
        let response = try #require(try await logs(ingest).first.map(Self.entry)?["response"] as? [String: Any])
        #expect(response["status"] as? Int == 500 && response["statusText"] as? String == "Internal Server Error")
    }

    /// A key ReadMe does not know: 401 with ReadMe's error body, and the
    /// exporter stops sending for the pause, as the SDKs back off
    /// (packages/node/src/lib/metrics-log.ts `shouldBackoff`).
    @Test func anUnknownProjectKeyIsRefusedAndPauses() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        try await ingest.configure(["apiKey": "rdme_another_project"])
        let metrics = try service(ingest)
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.failed == 1 })
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.destinationPaused == 1 })
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        let received = try await ingest.received()
        #expect(received.count == 1 && received.first?.status == 401)
        #expect(received.first?.refusal?.contains("not the project's") == true)
        #expect(metrics.statistics.retried == 0)
    }

    /// A 413 halves the request, as for every exporter; every log still
    /// arrives once.
    @Test func aRequestAnswered413IsHalved() async throws {
        let ingest = try await VendorStandIn.start("readme")
        defer { ingest.stop() }
        try await ingest.script([(status: 413, headers: [:], body: "")])
        let metrics = try service(ingest) { config in
            config.batching.flushInterval = .seconds(30)
        }
        for index in 0..<20 { call(metrics.recorder, consumer: Consumer(id: "acct-\(index)")) }
        await metrics.shutdown(timeout: .seconds(30))
        let received = try await ingest.received()
        let counts = received.map { (($0.json as? [Any]) ?? []).count }
        #expect(received.first?.status == 413 && counts.first == 20, "\(counts)")
        let accepted = received.filter { $0.status == 202 }.map { (($0.json as? [Any]) ?? []).count }
        #expect(accepted.allSatisfy { $0 <= 10 } && accepted.reduce(0, +) == 20, "\(accepted)")
        #expect(metrics.statistics.exported == 20)
    }

    /// ReadMe's mask as packages/python/readme_metrics/util.py computes it,
    /// with Foundation's base64 and our SHA-512 (whose vectors are tested
    /// on their own): `sha512-` + base64(SHA-512(key)) + `?` + key[-4:].
    static func pythonMask(_ key: String) -> String {
        "sha512-" + Data(SHA512.hash(key.utf8)).base64EncodedString() + "?" + String(key.suffix(4))
    }
}
