import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Synchronization
import Testing
@testable import APIMetrics

/// The client behind trusted proxies: the right-to-left walk, what stops
/// it, a spoof from an untrusted peer, the options and their variables,
/// and the resolved client and the socket peer in what leaves the process.
@Suite("Client address")
struct ClientAddressTests {
    private func resolve(
        _ peer: String?, _ fields: [(String, String)],
        trusting proxies: TrustedProxies = .privateNetworks, headers: ForwardingHeaders = .standard
    ) -> String? {
        ClientAddressResolver(options: ForwardingOptions(trustedProxies: proxies, headers: headers))
            .resolve(peer: peer, fields: HeaderFields(fields))
    }

    // MARK: The walk

    @Test func theWalkGoesRightToLeftPastTrustedProxiesToTheFirstUntrustedAddress() {
        // client 198.51.100.7 → CDN 203.0.113.9 → balancer 10.0.0.2 → proxy 127.0.0.1 → us
        let xff = [("X-Forwarded-For", "192.0.2.200, 198.51.100.7, 203.0.113.9, 10.0.0.2")]
        #expect(resolve("127.0.0.1", xff) == "203.0.113.9")
        #expect(
            resolve("127.0.0.1", xff, trusting: .cidrs(TrustedProxies.privateNetworks.cidrs + ["203.0.113.0/24"]))
                == "198.51.100.7")
        // Every hop trusted: the leftmost is the client.
        #expect(resolve("10.0.0.1", [("X-Forwarded-For", "10.9.9.9, 10.0.0.2")]) == "10.9.9.9")
        // Several lines are one list, in order.
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "198.51.100.7"), ("x-forwarded-for", "10.0.0.2")]) == "198.51.100.7")
        #expect(resolve("::1", [("Forwarded", #"for="[2001:db8::7]:4711", for=10.0.0.2;proto=https"#)]) == "2001:db8::7")
        // No header: the peer, exactly as the adapter gave it.
        #expect(resolve("127.0.0.1", [("Host", "example.com")]) == "127.0.0.1")
        #expect(resolve(nil, [("X-Forwarded-For", "198.51.100.7")]) == nil)
    }

    /// What the issue asks of a forged header: nothing changes.
    @Test func aSpoofFromAnUntrustedPeerChangesNothing() {
        let forged: [(String, String)] = [
            ("X-Forwarded-For", "1.1.1.1"), ("Forwarded", "for=1.1.1.1"),
            ("X-Real-IP", "1.1.1.1"), ("CF-Connecting-IP", "1.1.1.1"), ("True-Client-IP", "1.1.1.1"),
        ]
        let every: ForwardingHeaders = [.forwarded, .xForwardedFor, .xRealIP, .cfConnectingIP, .trueClientIP]
        for peer in ["198.51.100.7", "2001:db8::5", "::ffff:198.51.100.7"] {
            #expect(resolve(peer, forged, headers: every) == peer)
        }
        // Behind a trusted proxy that appends, the forged part sits left of the real client and is never reached.
        #expect(resolve("10.0.0.2", [("X-Forwarded-For", "127.0.0.1, 10.1.1.1, 198.51.100.7")]) == "198.51.100.7")
    }

    @Test func trustingNoProxyKeepsTheSocketPeer() {
        let fields = [("X-Forwarded-For", "198.51.100.7"), ("Forwarded", "for=198.51.100.7")]
        #expect(resolve("127.0.0.1", fields, trusting: .none) == "127.0.0.1")
        #expect(resolve("127.0.0.1", fields, headers: .none) == "127.0.0.1")
        #expect(resolve("127.0.0.1", fields) == "198.51.100.7")
    }

    /// Malformed values, `unknown` and obfuscated identifiers stop the walk
    /// at the last address a trusted proxy vouched for.
    @Test func theWalkStopsAtTheLastGoodAddress() {
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "198.51.100.7, garbage, 10.0.0.2")]) == "10.0.0.2")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "198.51.100.7, garbage")]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "198.51.100.7, 01.2.3.4, 10.0.0.2")]) == "10.0.0.2")
        #expect(resolve("127.0.0.1", [("Forwarded", "for=198.51.100.7, for=_hidden, for=10.0.0.2")]) == "10.0.0.2")
        #expect(resolve("127.0.0.1", [("Forwarded", "for=198.51.100.7, for=unknown")]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", [("Forwarded", #"for=198.51.100.7, for="_SEVKISEK:_p""#)]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", [("Forwarded", "for=198.51.100.7, proto=https")]) == "127.0.0.1")
        // Right of the bad value the walk is unaffected.
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "garbage, 198.51.100.7, 10.0.0.2")]) == "198.51.100.7")
        // A client's open quote does not hide the element the proxy appended.
        #expect(resolve("127.0.0.1", [("Forwarded", #"for="1.1.1.1, for=198.51.100.7"#)]) == "198.51.100.7")
    }

    @Test func ipv6PeersAndHopsWithBracketsPortsZonesAndTheMappedForm() {
        #expect(resolve("::ffff:127.0.0.1", [("X-Forwarded-For", "[2001:db8::7]:443")]) == "2001:db8::7")
        #expect(resolve("[::1]:8080", [("X-Forwarded-For", "198.51.100.7:5000")]) == "198.51.100.7")
        #expect(resolve("127.0.0.1:8080", [("X-Forwarded-For", "2001:DB8:0:0::7")]) == "2001:db8::7")
        #expect(resolve("fe80::1%eth0", [("X-Forwarded-For", "::ffff:198.51.100.7")]) == "198.51.100.7")
        #expect(resolve("fd00::2", [("Forwarded", #"for="[fe80::99%en0]:1", for="[fd00::1]""#)]) == "fe80::99")
        // A peer that is not an address (a Unix socket's path) is not a trusted proxy.
        #expect(resolve("/run/app.sock", [("X-Forwarded-For", "198.51.100.7")]) == "/run/app.sock")
    }

    @Test func theWalkIsBoundedInHopsAndBytes() {
        // 600 trusted hops: the walk stops after the rightmost 32, at the last it reached.
        let hops = (0..<600).map { "10.0.\($0 / 256).\($0 % 256)" }.joined(separator: ",")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "198.51.100.7," + hops)]) == "10.0.2.56")
        // A line past the byte budget is read from its right end, where the proxies appended.
        let huge = String(repeating: "198.51.100.7,", count: 1000)
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", huge + "198.51.100.8")]) == "198.51.100.8")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", huge), ("X-Forwarded-For", "198.51.100.8")]) == "198.51.100.8")
        // Nothing but one unreadable value in the window: the walk stays at the peer.
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", String(repeating: "7", count: 10_000))]) == "127.0.0.1")
    }

    @Test func whenBothListsNameDifferentClientsNeitherIsBelieved() {
        // nginx writes only X-Forwarded-For; a client's own Forwarded passes through.
        let fields = [("Forwarded", "for=1.1.1.1"), ("X-Forwarded-For", "198.51.100.7")]
        #expect(resolve("127.0.0.1", fields) == "127.0.0.1")
        #expect(resolve("127.0.0.1", fields, headers: .xForwardedFor) == "198.51.100.7")
        #expect(resolve("127.0.0.1", [("Forwarded", "for=198.51.100.7"), ("X-Forwarded-For", "198.51.100.7")]) == "198.51.100.7")
        // A Forwarded header with no `for` says nothing about addresses.
        #expect(resolve("127.0.0.1", [("Forwarded", "proto=https"), ("X-Forwarded-For", "198.51.100.7")]) == "198.51.100.7")
    }

    @Test func singleAddressHeadersAreReadOnlyWhenNamedAndComeFirst() {
        let fields = [("X-Real-IP", "198.51.100.9"), ("X-Forwarded-For", "198.51.100.7")]
        #expect(resolve("127.0.0.1", fields) == "198.51.100.7")
        #expect(resolve("127.0.0.1", fields, headers: .standard.union(.xRealIP)) == "198.51.100.9")
        #expect(resolve("127.0.0.1", [("CF-Connecting-IP", "2001:db8::9")], headers: [.cfConnectingIP]) == "2001:db8::9")
        #expect(resolve("127.0.0.1", [("True-Client-IP", "198.51.100.9")], headers: [.trueClientIP]) == "198.51.100.9")
        #expect(
            resolve("127.0.0.1", [("Fastly-Client-IP", "198.51.100.9")], headers: [.singleAddress("Fastly-Client-IP")])
                == "198.51.100.9")
        // An unreadable value is passed over for the next header.
        #expect(
            resolve("127.0.0.1", [("X-Real-IP", "nope")] + fields.suffix(1), headers: .standard.union(.xRealIP)) == "198.51.100.7"
        )
    }

    // MARK: Options and variables

    @Test func theDefaultTrustsPrivateNetworksAndReadsTheStandardHeaders() throws {
        let config = APIMetricsConfiguration.default
        #expect(config.forwarding.trustedProxies == .privateNetworks)
        #expect(config.forwarding.headers == [.forwarded, .xForwardedFor])
        var bad = config
        bad.forwarding.trustedProxies = .cidrs(["10.0.0.0/8", "192.168.1.1/24"])
        #expect(
            throws: ConfigurationError(
                field: "forwarding.trustedProxies[1]",
                reason: "\"192.168.1.1/24\" has bits set past the prefix length; the block is 192.168.1.0/24")
        ) { try bad.validate() }
        bad = config
        bad.forwarding.headers = [.singleAddress("x real ip")]
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        bad.forwarding.headers = [.singleAddress("X-Forwarded-For")]
        #expect(throws: ConfigurationError.self) { try bad.validate() }
    }

    @Test func theVariablesSetTheProxiesAndTheHeaders() throws {
        func read(_ environment: [String: String]) throws -> ForwardingOptions {
            try APIMetricsConfiguration.fromEnvironment(environment).forwarding
        }
        #expect(try read(["APIMETRICS_TRUSTED_PROXIES": "none"]).trustedProxies == .none)
        #expect(
            try read(["APIMETRICS_TRUSTED_PROXIES": "10.1.0.0/16, 203.0.113.7, 2001:db8::/32"]).trustedProxies
                == .cidrs(["10.1.0.0/16", "203.0.113.7", "2001:db8::/32"]))
        #expect(
            try read(["APIMETRICS_TRUSTED_PROXIES": "PRIVATE,203.0.113.0/24"]).trustedProxies
                == .cidrs(TrustedProxies.privateNetworks.cidrs + ["203.0.113.0/24"]))
        #expect(
            try read(["APIMETRICS_FORWARDED_HEADERS": "x-forwarded-for, CF-Connecting-IP"]).headers == [
                .xForwardedFor, .cfConnectingIP,
            ])
        #expect(try read(["APIMETRICS_FORWARDED_HEADERS": "none"]).headers == .none)
        #expect(try read([:]) == .default)
        let names = APIMetricsConfiguration.environmentVariables.map(\.name)
        #expect(names.contains("APIMETRICS_TRUSTED_PROXIES") && names.contains("APIMETRICS_FORWARDED_HEADERS"))
    }

    @Test(arguments: [
        ("APIMETRICS_TRUSTED_PROXIES", "10.0.0.0/33", "from 0 to 32"),
        ("APIMETRICS_TRUSTED_PROXIES", "10.0.0.1/8", "the block is 10.0.0.0/8"),
        ("APIMETRICS_TRUSTED_PROXIES", "localhost", "\"localhost\" is not an IPv4 or IPv6 address"),
        ("APIMETRICS_TRUSTED_PROXIES", "none,10.0.0.0/8", "none cannot be combined"),
        ("APIMETRICS_TRUSTED_PROXIES", "[10.0.0.0/8", "is not a JSON array"),
        ("APIMETRICS_FORWARDED_HEADERS", "x-real-ip,bad name", "\"bad name\" is not a header name"),
        ("APIMETRICS_FORWARDED_HEADERS", "none,forwarded", "none cannot be combined"),
    ])
    func badVariablesNameTheVariableAndTheReason(variable: String, value: String, reason: String) {
        do {
            _ = try APIMetricsConfiguration.fromEnvironment([variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.field == variable)
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    // MARK: End to end

    private func recordForwardedCall(_ metrics: APIMetricsService) {
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "GET", target: "/orders/1",
                headers: ["X-Forwarded-For": "1.1.1.1, 198.51.100.7", "Authorization": "Bearer s"],
                clientAddress: "10.0.0.2"))
        exchange.recordResponseHead(ResponseHead(status: 200))
        exchange.finish()
        let direct = metrics.recorder.begin(
            RequestHead(
                method: "GET", target: "/orders/2", headers: ["X-Forwarded-For": "1.1.1.1"], clientAddress: "198.51.100.8"))
        direct.recordResponseHead(ResponseHead(status: 200))
        direct.finish()
    }

    /// Through the recorder, the sender and the file: `client_ip` is the
    /// resolved client and `peer_ip` the socket peer, only where they differ;
    /// redaction (here, of every header) comes after the resolution.
    @Test func theFileCarriesTheResolvedClientAndThePeer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let collected = CollectingExporter()
        var config = testConfiguration([.file(path: path), .custom(collected)])
        config.redaction.redactEvent = { $0.request.headers = HeaderFields() }
        let metrics = try APIMetricsService(configuration: config)
        recordForwardedCall(metrics)
        await metrics.shutdown(timeout: .seconds(60))

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let requests = try lines.compactMap { try #require(jsonObject(Array($0.utf8)))["request"] as? [String: Any] }
        #expect(requests.count == 2)
        let forwarded = try #require(requests.first { $0["path"] as? String == "/orders/1" })
        #expect(forwarded["client_ip"] as? String == "198.51.100.7")
        #expect(forwarded["peer_ip"] as? String == "10.0.0.2")
        #expect(forwarded["headers"] == nil)
        let direct = try #require(requests.first { $0["path"] as? String == "/orders/2" })
        #expect(direct["client_ip"] as? String == "198.51.100.8")
        #expect(direct["peer_ip"] == nil)
        // Exporters of their own format read the same values off the record.
        let records = collected.received.flatMap(\.records)
        #expect(
            Set(records.map { "\($0.request.clientAddress ?? "-") \($0.request.peerAddress ?? "-")" })
                == ["198.51.100.7 10.0.0.2", "198.51.100.8 198.51.100.8"])
    }

    @Test func otlpSpansCarryTheClientAndTheNetworkPeer() async throws {
        let collector = try TestCollector { _ in .status(200) }
        defer { collector.stop() }
        let metrics = try APIMetricsService(
            configuration: testConfiguration([
                .otlp(.init(endpoint: collector.baseURL, signals: [.traces], encoding: .json))
            ]))
        recordForwardedCall(metrics)
        await metrics.shutdown(timeout: .seconds(60))

        var spans: [[String: String]] = []
        for request in collector.requests where request.target == "/v1/traces" {
            for resource in request.batch["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        var attributes: [String: String] = [:]
                        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                            if let key = attribute["key"] as? String,
                                let value = (attribute["value"] as? [String: Any])?["stringValue"] as? String
                            {
                                attributes[key] = value
                            }
                        }
                        spans.append(attributes)
                    }
                }
            }
        }
        #expect(spans.count == 2)
        let forwarded = try #require(spans.first { $0["url.path"] == "/orders/1" })
        #expect(forwarded["client.address"] == "198.51.100.7")
        #expect(forwarded["network.peer.address"] == "10.0.0.2")
        let direct = try #require(spans.first { $0["url.path"] == "/orders/2" })
        #expect(direct["client.address"] == "198.51.100.8" && direct["network.peer.address"] == "198.51.100.8")
    }

    /// The spool keeps both addresses; a batch written before the peer and
    /// the API key mask were kept (form version 1), with a consumer and a
    /// consumer profile, still reads.
    @Test func theRecordCodecKeepsThePeer() throws {
        var head = RequestHead(method: "GET", target: "/", clientAddress: "198.51.100.7")
        head.peerAddress = "10.0.0.2"
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 1, durationNanoseconds: 2, request: head)
        let batch = UndeliveredBatch(
            exporterName: "x", reason: .retriesExhausted, message: "m",
            identity: ServiceIdentity(service: "s", environment: "e"), records: [record], abandonedAtNanoseconds: 3)
        let back = try UndeliveredBatch(serialized: batch.serialized())
        #expect(back.records.first?.request.peerAddress == "10.0.0.2")
        #expect(back.records.first?.request.clientAddress == "198.51.100.7")

        var old = BinaryWriter()
        old.bytes.append(contentsOf: Array("AMUB".utf8) + [1])
        old.string("x")
        old.byte(batch.reason.code)
        old.string("m")
        old.signed(3)
        old.identity(batch.identity)
        var identified = record
        identified.consumer = Consumer(id: "acme", name: "Acme", company: "acme-co")
        old.array([identified]) { $0.record($1, version: 1) }
        old.array([EntityRecord(profile: .consumer(Consumer(id: "globex", email: "ops@globex.example")), timestampNanoseconds: 4)]
        ) {
            $0.entity($1, version: 1)
        }
        let read = try UndeliveredBatch(serialized: old.bytes)
        #expect(read.records.first?.request.clientAddress == "198.51.100.7")
        #expect(read.records.first?.request.peerAddress == nil)
        #expect(read.records.first?.consumer?.id == "acme" && read.records.first?.consumer?.company == "acme-co")
        #expect(read.records.first?.metadata == [:] && read.records.first?.weight == 1)
        guard case let .consumer(profile)? = read.entities.first?.profile else {
            Issue.record("the version-1 consumer profile did not read back")
            return
        }
        #expect(profile.id == "globex" && profile.email == "ops@globex.example")

        // Version 2, before alert transitions were kept: read, with none.
        var second = BinaryWriter()
        second.bytes.append(contentsOf: Array("AMUB".utf8) + [2])
        second.string("x")
        second.byte(batch.reason.code)
        second.string("m")
        second.signed(3)
        second.identity(batch.identity)
        second.array([record]) { $0.record($1, version: 2) }
        second.array([EntityRecord]()) { $0.entity($1, version: 2) }
        let readSecond = try UndeliveredBatch(serialized: second.bytes)
        #expect(readSecond.records.first?.request.peerAddress == "10.0.0.2" && readSecond.alerts.isEmpty)
        #expect(throws: UndeliveredBatch.FormatError.self) { try UndeliveredBatch(serialized: second.bytes + [0]) }
    }
}
