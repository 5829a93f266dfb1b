import APIMetricsTestSupport
import Synchronization
import Testing
@testable import APIMetrics

/// A header longer than the byte bound is read from its right end, where
/// the trusted proxies wrote; and when `Forwarded` and `X-Forwarded-For`
/// disagree, the processing stage says so once.
@Suite("Client address: long headers and disagreeing lists")
struct ClientAddressWindowTests {
    private func resolve(
        _ peer: String?, _ fields: [(String, String)], headers: ForwardingHeaders = .standard
    ) -> String? {
        ClientAddressResolver(options: ForwardingOptions(trustedProxies: .privateNetworks, headers: headers))
            .resolve(peer: peer, fields: HeaderFields(fields))
    }

    private func v(_ text: String) -> ForwardedChain.Hop {
        IPAddress(text).map(ForwardedChain.Hop.address) ?? .malformed
    }

    private func chain(_ kind: ForwardedChain.Kind, _ lines: [[UInt8]], maxBytes: Int = 8192) -> ForwardedChain {
        ForwardedChain(kind, lines: lines.map { $0[...] }, maxHops: 32, maxBytes: maxBytes)
    }

    // MARK: The right end of a long line

    /// nginx's `$proxy_add_x_forwarded_for` (and HAProxy, Envoy, ALB)
    /// append to the line the client sent: padding it must not hide the
    /// address the proxy appended.
    @Test func aPaddedXForwardedForStillYieldsTheAddressTheProxyAppended() {
        let padding = String(repeating: "198.51.100.9, ", count: 100_000 / 14)
        #expect(padding.utf8.count > 99_000)
        let fields = [("X-Forwarded-For", padding + "203.0.113.7")]
        #expect(resolve("10.0.0.2", fields) == "203.0.113.7")
        #expect(resolve("10.0.0.2", fields, headers: .xForwardedFor) == "203.0.113.7")
        // Two trusted proxies appended: the walk passes both.
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", padding + "203.0.113.7, 10.0.0.3")]) == "203.0.113.7")
        // A client inside the trusted ranges: the walk goes on left into
        // the padding, as it would for a short header.
        #expect(resolve("10.0.0.2", [("X-Forwarded-For", padding + "10.0.0.5")]) == "198.51.100.9")
        // The line of the client's own, then one the proxy added.
        #expect(resolve("10.0.0.2", [("X-Forwarded-For", padding), ("X-Forwarded-For", "203.0.113.7")]) == "203.0.113.7")
    }

    @Test func aPaddedForwardedStillYieldsTheElementTheProxyAppended() {
        let padding = String(repeating: "for=198.51.100.9;proto=https, ", count: 100_000 / 30)
        #expect(padding.utf8.count > 99_000)
        #expect(resolve("10.0.0.2", [("Forwarded", padding + "for=203.0.113.7")]) == "203.0.113.7")
        #expect(
            resolve("10.0.0.2", [("Forwarded", padding + #"for="[2001:db8::7]:4711";proto=https"#)], headers: .forwarded)
                == "2001:db8::7")
        #expect(resolve("::1", [("Forwarded", padding + "for=203.0.113.7, for=10.0.0.3;by=10.0.0.4")]) == "203.0.113.7")
    }

    /// Padding of any printable bytes (commas, quotes, semicolons, escapes
    /// among them), of many lengths around the bound.
    @Test func garbagePaddingOfAnyLengthLeavesTheAppendedAddress() {
        var random = SeededGenerator(seed: 0x1F26)
        let alphabet = Array(##" !"#$%&'()*+,-./0123456789:;<=>?@[\]^_`{|}~abcdefxyzABCDEFXYZ"##.utf8) + [0x09]
        for round in 0..<100 {
            let count = [8000, 8190, 8192, 8200, 100_000][round % 5] + Int.random(in: 0...64, using: &random)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &random) ?? 0x20 }
            let padding = String(decoding: bytes, as: UTF8.self)
            for (name, appended, headers) in [
                ("X-Forwarded-For", ", 203.0.113.7", ForwardingHeaders.xForwardedFor),
                ("Forwarded", ", for=203.0.113.7", ForwardingHeaders.forwarded),
                ("Forwarded", #", for="[2001:db8::7]";proto=https"#, ForwardingHeaders.forwarded),
            ] {
                let expected = appended.contains("2001") ? "2001:db8::7" : "203.0.113.7"
                #expect(
                    resolve("10.0.0.2", [(name, padding + appended)], headers: headers) == expected, "round \(round), \(name)")
            }
        }
        // Raw bytes (not UTF-8, controls, NUL) straight into the chain.
        for round in 0..<100 {
            let count = 8000 + Int.random(in: 0...20_000, using: &random)
            let line = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            for kind in [ForwardedChain.Kind.forwarded, .xForwardedFor] {
                let read = chain(kind, [line + Array((kind == .forwarded ? ", for=203.0.113.7" : ", 203.0.113.7").utf8)])
                #expect(read.hops.count <= 32 && read.hops.last == v("203.0.113.7"), "round \(round)")
                if count > 8192 { #expect(read.isCut, "round \(round)") }
            }
        }
    }

    /// The window's first comma may sit inside a quoted string the client
    /// opened left of it: what the quote held is never taken for a hop a
    /// trusted proxy vouched for, and the elements whole inside the window
    /// are still read.
    @Test func aWindowStartingInsideAQuotedString() {
        // for="aaaa…, for=6.6.6.6, x", for=192.0.2.1 — cut inside the quotes.
        let quoted =
            Array(#"for=""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 9000)
            + Array(#", for=6.6.6.6, x""#.utf8)
        let read = chain(.forwarded, [quoted + Array(", for=192.0.2.1".utf8)])
        #expect(read.isCut && read.hops.last == v("192.0.2.1"))
        #expect(read.hops == [.malformed, v("6.6.6.6"), .malformed, v("192.0.2.1")])
        #expect(
            resolve("10.0.0.2", [("Forwarded", String(decoding: quoted, as: UTF8.self) + ", for=203.0.113.7")]) == "203.0.113.7")
        // A trusted client: the walk stops at the broken element, never reaching the quoted address.
        #expect(resolve("10.0.0.2", [("Forwarded", String(decoding: quoted, as: UTF8.self) + ", for=10.0.0.5")]) == "10.0.0.5")
        // A quote that, read from the window, seems to open just before the
        // proxy's element: the recovery after it still reads that element.
        let opening =
            Array(#"for=""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 9000)
            + Array(#", x=""#.utf8)
        for appended in [", for=192.0.2.1", #", for="[2001:db8::1]:80""#, ", for=192.0.2.1;by=\"x\""] {
            let hops = chain(.forwarded, [opening + Array(appended.utf8)]).hops
            #expect(hops.last == (appended.contains("2001") ? v("2001:db8::1") : v("192.0.2.1")), "\(appended)")
        }
        // Escaped quotes, commas and addresses in quoted strings, the window
        // cut at every offset: once it holds the proxy's element, that is
        // the client; before, the walk stays at the peer.
        let line = Array(#"for="a\"b, for=6.6.6.6\\", for="d, for=6.6.6.7,\"e", for=192.0.2.1"#.utf8)
        let resolver = ClientAddressResolver(options: .default)
        for bound in 1..<line.count {
            let read = chain(.forwarded, [line], maxBytes: bound)
            let expected = bound >= ", for=192.0.2.1".utf8.count ? "192.0.2.1" : "10.0.0.2"
            #expect(resolver.walk(read, from: "10.0.0.2") == expected, "bound \(bound)")
        }
    }

    /// The part cut in two is one unreadable hop; without a comma in the
    /// window nothing else is read, and the walk stays at the peer.
    @Test func aWindowWithoutAnyCommaIsOneMalformedHop() {
        let line = [UInt8](repeating: UInt8(ascii: "7"), count: 20_000)
        for kind in [ForwardedChain.Kind.forwarded, .xForwardedFor] {
            let read = chain(kind, [line])
            #expect(read.hops == [.malformed] && read.isCut && read.namesAnyNode)
        }
        #expect(resolve("10.0.0.2", [("X-Forwarded-For", String(repeating: "9", count: 20_000))]) == "10.0.0.2")
        // The lines before the window are not read; the window's budget is what the later lines left.
        let last = Array("192.0.2.1".utf8)
        let read = chain(.xForwardedFor, [Array("1.1.1.1".utf8), Array("2.2.2.2, 3.3.3.3".utf8), last], maxBytes: 18)
        #expect(read.hops == [.malformed, v("3.3.3.3"), v("192.0.2.1")] && read.isCut)
    }

    // MARK: Lists that disagree

    /// One warning for many calls, through the processing stage's
    /// diagnostics; the record keeps the socket peer.
    @Test func disagreeingListsAreWarnedOfOncePerResolver() throws {
        let messages = Mutex<[Diagnostics.Message]>([])
        var config = APIMetricsConfiguration.default
        config.diagnostics = .custom { message in messages.withLock { $0.append(message) } }
        let processor = EventProcessor(configuration: config, encoder: nil)
        let copy = processor

        func call(_ fields: [(String, String)], on processor: EventProcessor) -> String? {
            let record = ExchangeRecord(
                id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 1, durationNanoseconds: 2,
                request: RequestHead(method: "GET", target: "/", headers: HeaderFields(fields), clientAddress: "10.0.0.2"))
            guard case let .record(processed, _) = processor.process(.exchange(record)) else {
                Issue.record("not processed")
                return nil
            }
            return processed.request.clientAddress
        }

        let agreeing = [("Forwarded", "for=198.51.100.7"), ("X-Forwarded-For", "198.51.100.7")]
        #expect(call(agreeing, on: processor) == "198.51.100.7")
        #expect(messages.withLock { $0.isEmpty })

        let disagreeing = [("Forwarded", "for=1.1.1.1"), ("X-Forwarded-For", "198.51.100.7")]
        for round in 0..<500 {
            #expect(call(disagreeing, on: round.isMultiple(of: 2) ? processor : copy) == "10.0.0.2")
        }
        let logged = messages.withLock { $0 }
        #expect(logged.count == 1)
        let warning = try #require(logged.first)
        #expect(warning.level == .warning)
        for words in ["Forwarded", "X-Forwarded-For", "forwarding.headers", "APIMETRICS_FORWARDED_HEADERS"] {
            #expect(warning.text.contains(words), "\(words)")
        }
        // No address of a client's in the message.
        #expect(!warning.text.contains("1.1.1.1") && !warning.text.contains("198.51.100.7"))

        // Another pipeline's resolver has its own once.
        let other = EventProcessor(configuration: config, encoder: nil)
        for _ in 0..<10 { _ = call(disagreeing, on: other) }
        #expect(messages.withLock { $0.count } == 2)
    }
}
