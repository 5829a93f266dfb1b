import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// What Moesif's own SDKs and API docs say each field holds, against what
/// the exporter sends (Tests/EndToEnd/vendors/README-moesif.md names the
/// SDK source for each).
@Suite("Moesif fidelity")
struct MoesifFidelityTests {
    static let applicationID = "eyJhcHAiOiIxOTg6NzQ0IiwidmVyIjoiMi4xIn0.fidelity"

    /// An ingest answering `/v1/config` with `config` and every POST with
    /// `status(n)`, each with `X-Moesif-Config-ETag: etag(n)`.
    func ingest(
        config: @escaping @Sendable (Int) -> Int = { _ in 200 },
        status: @escaping @Sendable (Int) -> Int = { _ in 201 },
        etag: @escaping @Sendable (Int) -> String = { _ in "e1" }
    ) throws -> TestCollector {
        try TestCollector(answering: { number, request, _ in
            if request == "GET /v1/config" {
                return .body(
                    config(number), headers: [("Content-Type", "application/json"), ("X-Moesif-Config-ETag", etag(number))],
                    body: Array(#"{"sample_rate":100}"#.utf8))
            }
            return .body(status(number), headers: [("X-Moesif-Config-ETag", etag(number))], body: [])
        })
    }

    func service(
        _ ingest: TestCollector, options: (inout MoesifExporter.Options) -> Void = { _ in },
        configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) throws -> APIMetricsService {
        var moesif = MoesifExporter.Options(applicationID: Self.applicationID, baseURL: ingest.baseURL)
        options(&moesif)
        var config = testConfiguration([.moesif(moesif)])
        config.capture.isBodyCaptureEnabled = true
        config.capture.bodyContentTypes = .all
        configure(&config)
        return try APIMetricsService(configuration: config)
    }

    func events(_ ingest: TestCollector) -> [[String: Any]] {
        ingest.requests.filter { $0.target == "/v1/events/batch" && $0.isAccepted }.flatMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? []
        }
    }

    private func posted(_ ingest: TestCollector, to target: String) -> [[String: Any]] {
        ingest.requests.filter { $0.target == target }.flatMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? []
        }
    }

    // MARK: - transaction_id

    /// "A random 36 char UUID for this event. If set, Moesif will
    /// deduplicate events using this id": a UUID made from the event id, so
    /// that the retry of a failed upload carries the same ids.
    @Test func theTransactionIDIsAUUIDThatARetryKeeps() async throws {
        let ingest = try ingest(status: { $0 == 1 ? 503 : 201 })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        for index in 0..<3 { recordExchange(metrics.recorder, target: "/orders/\(index)") }
        await metrics.shutdown(timeout: .seconds(30))
        let posts = ingest.requests.filter { $0.target == "/v1/events/batch" }
        #expect(posts.count == 2)
        let attempts = posts.map { post in
            (((try? JSONSerialization.jsonObject(with: Data(post.body))) as? [[String: Any]]) ?? []).compactMap {
                $0["transaction_id"] as? String
            }
        }
        #expect(attempts.count == 2 && attempts[0].count == 3 && attempts[0] == attempts[1])
        for id in attempts.flatMap({ $0 }) {
            #expect(id.count == 36, "\(id)")
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(UUID(uuidString: id) != nil)
        }
        #expect(Set(attempts[0]).count == 3)
    }

    @Test func theTransactionIDIsTheEventIDWrittenAsAUUID() {
        let id = EventID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        let record = ExchangeRecord(
            id: id, direction: .incoming, startTimeNanoseconds: 1_795_000_000_000_000_000,
            durationNanoseconds: 1_000_000, request: RequestHead(method: "GET", target: "/"))
        var writer = JSONWriter()
        MoesifEncoding.writeEvent(
            record, weight: 1, apiVersion: nil, maxInflatedBytes: MoesifEncoding.maxBodyBytes, into: &writer)
        let event = (try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [String: Any]
        #expect(event?["transaction_id"] as? String == "01234567-89ab-4def-bedc-ba9876543210")
    }

    // MARK: - ip_address

    /// `ip_address` is the record's client address: the adapter's, or the
    /// client resolved through trusted proxies once processing has run.
    @Test func theIPAddressIsTheRecordsClientAddress() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "GET", target: "/a", headers: ["Host": "api.example.com"],
                clientAddress: "2001:db8::7"))
        exchange.recordResponseHead(ResponseHead(status: 204))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(30))
        let request = try #require(events(ingest).first?["request"] as? [String: Any])
        #expect(request["ip_address"] as? String == "2001:db8::7")
    }

    // MARK: - bodies

    /// A body sent with `Content-Encoding: gzip` or `deflate` reaches Moesif
    /// inflated, as the SDKs send it (moesifdjango's `parse_bytes_body`),
    /// even when no redaction rule had it decoded.
    @Test(arguments: ["gzip", "deflate", "x-gzip"])
    func aCompressedBodyIsSentInflated(coding: String) async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(
            ingest,
            configure: { config in
                config.redaction.requestBody = .init(fields: [])
                config.redaction.responseBody = .init(fields: [])
                config.redaction.masksCardNumbers = false
            })
        let json = Array(#"{"items":[1,2,3],"note":"lamp"}"#.utf8)
        let binary: [UInt8] = [0x00, 0xFF, 0x10, 0x80, 0x7F]
        var compressedJSON = try Gzip.compress(json)
        var compressedBinary = try Gzip.compress(binary)
        if coding == "deflate" {
            compressedJSON = try zlibWrapped(json)
            compressedBinary = try zlibWrapped(binary)
        }
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "POST", target: "/upload",
                headers: ["Host": "api.example.com", "Content-Type": "application/json", "Content-Encoding": coding]))
        exchange.recordRequestBody(compressedJSON)
        exchange.recordResponseHead(
            ResponseHead(status: 200, headers: ["Content-Type": "application/octet-stream", "Content-Encoding": coding]))
        exchange.recordResponseBody(compressedBinary)
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(30))
        let event = try #require(events(ingest).first)
        let request = try #require(event["request"] as? [String: Any])
        let response = try #require(event["response"] as? [String: Any])
        #expect(request["transfer_encoding"] as? String == "json")
        #expect((request["body"] as? [String: Any])?["note"] as? String == "lamp")
        #expect(response["transfer_encoding"] as? String == "base64")
        #expect(response["body"] as? String == Data(binary).base64EncodedString())
    }

    /// A body that would inflate past Moesif's 450 KB body size is not
    /// inflated whole (a compression bomb costs nothing): a note says why.
    /// One in a coding that cannot be undone goes as captured, in base64.
    @Test func aBombOrAnUnknownCodingIsBoundedAndSaidSo() throws {
        let bomb = try Gzip.compress([UInt8](repeating: 0x41, count: 5_000_000))
        var writer = JSONWriter()
        writer.beginObject()
        MoesifEncoding.writeBody(
            CapturedBody(bytes: bomb, size: bomb.count), headers: ["Content-Encoding": "gzip"],
            bodies: .sent, maxInflatedBytes: MoesifEncoding.maxBodyBytes, into: &writer)
        writer.endObject()
        let object = try #require((try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [String: Any])
        #expect(object["transfer_encoding"] as? String == "json")
        #expect(((object["body"] as? [String: Any])?["msg"] as? String)?.contains("450000") == true)

        let brotli: [UInt8] = [0x1B, 0x03, 0x00, 0xF8, 0xA5]
        var other = JSONWriter()
        other.beginObject()
        MoesifEncoding.writeBody(
            CapturedBody(bytes: brotli, size: brotli.count), headers: ["Content-Encoding": "br"],
            bodies: .sent, maxInflatedBytes: MoesifEncoding.maxBodyBytes, into: &other)
        other.endObject()
        let sent = try #require((try? JSONSerialization.jsonObject(with: Data(other.bytes))) as? [String: Any])
        #expect(sent["transfer_encoding"] as? String == "base64" && sent["body"] as? String == Data(brotli).base64EncodedString())
    }

    /// Moesif's docs: "If set to json then the body must be a JSON object";
    /// moesifdjango sends as JSON only what starts with `{` or `[`. A bare
    /// JSON scalar goes as base64.
    @Test(arguments: [#"42"#, #""text""#, #"true"#, #"null"#])
    func aJSONScalarBodyGoesAsBase64(body: String) {
        var writer = JSONWriter()
        writer.beginObject()
        MoesifEncoding.writeBody(
            CapturedBody(bytes: Array(body.utf8), size: body.utf8.count), headers: [:], bodies: .sent,
            maxInflatedBytes: MoesifEncoding.maxBodyBytes, into: &writer)
        writer.endObject()
        let object = (try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [String: Any]
        #expect(object?["transfer_encoding"] as? String == "base64")
        #expect(object?["body"] as? String == Data(body.utf8).base64EncodedString())
    }

    /// Moesif's limit on one event is 1 MB: an event that would pass it goes
    /// with its bodies replaced by a note, never dropped, and a warning.
    @Test func anEventPastOneMegabyteGoesWithoutItsBodies() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(
            ingest,
            configure: { config in
                config.capture.maxBodyBytes = 2 * 1024 * 1024
            })
        let big = Array("{\"blob\":\"\(String(repeating: "x", count: 1_200_000))\"}".utf8)
        recordExchange(
            metrics.recorder, method: "POST", target: "/big", headers: ["Content-Type": "application/json"],
            requestBody: big, responseBody: Array(#"{"ok":true}"#.utf8))
        recordExchange(metrics.recorder, target: "/small", responseBody: Array(#"{"ok":true}"#.utf8))
        await metrics.shutdown(timeout: .seconds(30))
        let post = try #require(ingest.requests.first { $0.target == "/v1/events/batch" })
        let sent = events(ingest)
        #expect(sent.count == 2)
        let bigEvent = try #require(
            sent.first { (($0["request"] as? [String: Any])?["uri"] as? String)?.hasSuffix("/big") == true })
        let request = try #require(bigEvent["request"] as? [String: Any])
        #expect(((request["body"] as? [String: Any])?["msg"] as? String)?.contains("1000000") == true)
        let small = try #require(
            sent.first { (($0["request"] as? [String: Any])?["uri"] as? String)?.hasSuffix("/small") == true })
        #expect(((small["response"] as? [String: Any])?["body"] as? [String: Any])?["ok"] as? Bool == true)
        #expect(post.body.count < MoesifEncoding.maxEventBytes * 2)
        #expect(metrics.statistics.exported == 2)
    }

    // MARK: - time and URI limits

    /// "events older than 30 days are rejected by the collector API": a call
    /// that old (read back from a spool) is left out, not sent.
    @Test func aCallOlderThanThirtyDaysIsLeftOut() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let exporter = try MoesifExporter(options: .init(applicationID: Self.applicationID, baseURL: ingest.baseURL))
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let day: Int64 = 24 * 3600 * 1_000_000_000
        func record(_ low: UInt64, startedAt: Int64) -> ExchangeRecord {
            ExchangeRecord(
                id: EventID(high: 1, low: low), direction: .incoming, startTimeNanoseconds: startedAt,
                durationNanoseconds: 1_000_000, request: RequestHead(method: "GET", target: "/t/\(low)"),
                response: ResponseHead(status: 200))
        }
        let batch = ExportBatch(
            identity: ServiceIdentity(service: "s", environment: "e"),
            records: [record(1, startedAt: now - 31 * day), record(2, startedAt: now - 29 * day)],
            sentAtNanoseconds: now)
        try await exporter.export(batch)
        let uris = events(ingest).compactMap { ($0["request"] as? [String: Any])?["uri"] as? String }
        #expect(uris == ["http://localhost/t/2"])
    }

    /// Moesif keeps 500 query parameters; the URI sent holds the first 500.
    @Test func theURIHoldsAtMostFiveHundredQueryParameters() {
        let query = (0..<700).map { "k\($0)=v" }.joined(separator: "&")
        let capped = MoesifEncoding.cappingQuery("/search?" + query)
        let kept = capped.split(separator: "?", maxSplits: 1).last?.split(separator: "&") ?? []
        #expect(kept.count == 500 && kept.first == "k0=v" && kept.last == "k499=v")
        #expect(MoesifEncoding.cappingQuery("/a?b=1&c=2") == "/a?b=1&c=2")
        #expect(MoesifEncoding.cappingQuery("/a") == "/a")
    }

    // MARK: - the configuration's ETag

    /// A batch's answer with a new `X-Moesif-Config-ETag` has the
    /// configuration read at once, with the default refresh interval, as
    /// moesifdjango does after each batch.
    @Test func aNewConfigETagIsReadAtOnce() async throws {
        let ingest = try ingest(etag: { $0 >= 2 ? "e2" : "e1" })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder)
        #expect(await eventually { ingest.requests.count >= 2 })
        recordExchange(metrics.recorder)
        #expect(await eventually { ingest.requests.count >= 4 })
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        let order = ingest.requests.map { "\($0.method) \($0.target)" }
        #expect(order == ["GET /v1/config", "POST /v1/events/batch", "POST /v1/events/batch", "GET /v1/config"])
    }

    /// When the read for a new ETag fails, the next batches with that ETag
    /// do not each read it again: one try per ETag, then one per interval.
    @Test func aFailingReadIsNotRepeatedAfterEveryBatch() async throws {
        let ingest = try ingest(config: { $0 == 0 ? 200 : 500 }, etag: { $0 >= 2 ? "e2" : "e1" })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let runner = Task { try await metrics.run() }
        for round in 0..<5 {
            recordExchange(metrics.recorder, target: "/r/\(round)")
            let posts = round + 1
            #expect(await eventually { ingest.requests.filter { $0.target == "/v1/events/batch" }.count >= posts })
        }
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        #expect(ingest.requests.filter { $0.target == "/v1/config" }.count == 2)
        #expect(metrics.statistics.exported == 5)
    }

    // MARK: - subscriptions

    /// The plan goes as `items[].plan_id`, where Moesif's billing reads it;
    /// the status as Moesif spells it (`canceled` is its `cancelled`); a
    /// status outside Moesif's set is not sent, and counted with a warning.
    @Test func subscriptionsCarryThePlanAsAnItemAndAKnownStatus() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest)
        metrics.updateSubscriptions([
            SubscriptionProfile(id: "sub-1", companyID: "acme", plan: "gold", status: "active", metadata: ["seats": "5"]),
            SubscriptionProfile(id: "sub-2", companyID: "acme", plan: "silver", status: "Canceled"),
            SubscriptionProfile(id: "sub-3", companyID: "acme", plan: "gold", status: "past_due"),
            SubscriptionProfile(id: "sub-4", companyID: "acme", plan: nil, status: nil),
        ])
        await metrics.shutdown(timeout: .seconds(30))
        let sent = posted(ingest, to: "/v1/subscriptions/batch")
        #expect(sent.compactMap { $0["subscription_id"] as? String } == ["sub-1", "sub-2", "sub-4"])
        let first = try #require(sent.first)
        #expect(first["status"] as? String == "active")
        #expect((first["items"] as? [[String: Any]])?.compactMap { $0["plan_id"] as? String } == ["gold"])
        #expect(first["metadata"] as? [String: String] == ["seats": "5"])
        #expect(sent.dropFirst().first?["status"] as? String == "cancelled")
        #expect(sent.last?["status"] == nil && sent.last?["items"] == nil)
        let statistics = metrics.statistics
        #expect(statistics.destinationLeftOut == 1 && statistics.exported == 3)
    }

    @Test func subscriptionStatusesAreMoesifs() {
        for status in ["active", "cancelled", "paused", "trialing", "pending", "draft", "future"] {
            #expect(MoesifEncoding.subscriptionStatus(status) == status)
            #expect(MoesifEncoding.subscriptionStatus(status.uppercased()) == status)
        }
        #expect(MoesifEncoding.subscriptionStatus("canceled") == "cancelled")
        for status in ["", "past_due", "unpaid", "incomplete", "expired", "active\u{0}"] {
            #expect(MoesifEncoding.subscriptionStatus(status) == nil, "\(status)")
        }
    }

    /// zlib-wrapped deflate (RFC 1950), what `Content-Encoding: deflate` means.
    private func zlibWrapped(_ bytes: [UInt8]) throws -> [UInt8] {
        let gzip = try Gzip.compress(bytes)
        // The gzip member's deflate data, between its 10-byte header and
        // 8-byte trailer, wrapped in a zlib header and Adler-32 trailer.
        let deflate = Array(gzip[10..<(gzip.count - 8)])
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        let adler = b << 16 | a
        return [0x78, 0x9C] + deflate + [
            UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF),
        ]
    }
}

extension MoesifFidelityTests {
    /// `ip_address` is an IP literal: brackets and ports off, anything else
    /// (an obfuscated `Forwarded` name, a socket path) left out.
    @Test func theIPAddressIsAnIPLiteral() {
        #expect(MoesifEncoding.ipAddress("203.0.113.9") == "203.0.113.9")
        #expect(MoesifEncoding.ipAddress("203.0.113.9:5000") == "203.0.113.9")
        #expect(MoesifEncoding.ipAddress("[2001:DB8::1]:443") == "2001:db8::1")
        #expect(MoesifEncoding.ipAddress("2001:db8::1") == "2001:db8::1")
        #expect(MoesifEncoding.ipAddress("fe80::1%eth0") == "fe80::1")
        for bad in ["", "_hidden", "unknown", "/tmp/socket", "[2001:db8::1", "999.1.1.1", "1.2.3.4.5", "[::1]]"] {
            #expect(MoesifEncoding.ipAddress(bad) == nil, "\(bad)")
        }
    }

    /// The SDKs take `ip_address` from the forwarding headers: a call
    /// forwarded by a trusted proxy (loopback here) goes with the client
    /// it names, while the same header from a peer that is not trusted
    /// changes nothing. Through the strict stand-in, which refuses an
    /// `ip_address` that is not an IP.
    @Test func theIPAddressIsTheClientBehindTrustedProxies() async throws {
        let standIn = try await VendorStandIn.start("moesif")
        defer { standIn.stop() }
        var config = testConfiguration([.moesif(MoesifExporter.Options(applicationID: Self.applicationID, baseURL: standIn.url))])
        config.forwarding.trustedProxies = .cidrs(["127.0.0.0/8", "10.0.0.0/8"])
        let metrics = try APIMetricsService(configuration: config)
        let calls: [(target: String, peer: String, headers: HeaderFields)] = [
            ("/forwarded", "127.0.0.1", ["X-Forwarded-For": "203.0.113.7, 10.0.0.2"]),
            ("/rfc7239", "127.0.0.1", ["Forwarded": #"for="[2001:db8:cafe::17]:4711";proto=https"#]),
            ("/spoofed", "198.51.100.20", ["X-Forwarded-For": "203.0.113.66"]),
            ("/direct", "127.0.0.1", [:]),
        ]
        for call in calls {
            var headers = call.headers
            headers.append(name: "Host", value: "api.example.com")
            let exchange = metrics.recorder.begin(
                RequestHead(method: "GET", target: call.target, headers: headers, clientAddress: call.peer))
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(30))
        #expect(try await standIn.refusals() == [])
        let events = try await standIn.received().filter { $0.path == "/v1/events/batch" }.flatMap {
            ($0.json as? [[String: Any]]) ?? []
        }
        var addresses: [String: String] = [:]
        for event in events {
            guard let request = event["request"] as? [String: Any], let uri = request["uri"] as? String else { continue }
            addresses[String(uri.split(separator: "/").last ?? "")] = request["ip_address"] as? String
        }
        #expect(
            addresses == [
                "forwarded": "203.0.113.7", "rfc7239": "2001:db8:cafe::17", "spoofed": "198.51.100.20", "direct": "127.0.0.1",
            ])
    }
}
