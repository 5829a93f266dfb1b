#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetricsTestSupport
import Testing
@testable import APIMetrics

/// The byte-level readers under the client-address walk: IP text, CIDR
/// blocks, and the hops of `Forwarded` and `X-Forwarded-For`, on published
/// vectors (RFC 4291, RFC 5952, RFC 7239's own examples), against the
/// platform's `inet_pton`, and on generated and hostile input.
@Suite("Client address parsing")
struct ClientAddressParsingTests {
    // MARK: IP addresses

    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"), ("127.0.0.1", "127.0.0.1"), ("255.255.255.255", "255.255.255.255"),
        ("::", "::"), ("::1", "::1"), ("1::", "1::"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::CAFE:17", "2001:db8::cafe:17"),
        // RFC 5952 §4.2.2/§4.2.3: one zero group is not compressed; the first of equal runs is.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        // IPv4-mapped IPv6 is the IPv4 it carries; an embedded dotted tail elsewhere stays IPv6.
        ("::ffff:192.0.2.1", "192.0.2.1"), ("::FFFF:c000:0201", "192.0.2.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        // A zone is checked, then dropped.
        ("fe80::1%eth0", "fe80::1"), ("fe80::1%25", "fe80::1"),
    ])
    func validAddressesParseToTheirCanonicalText(input: String, canonical: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1..2.3",
        "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4%eth0", "0x7f.0.0.1", "127.1", "2130706433",
        ":", ":::", "1:::2", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1",
        "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::1.2.3.4.5", "::1.2.3.4:1", "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7",
        "fe80::1%", "fe80::1%eth 0", "fe80::1%eth0%1", "[::1]", "::1/128",
        "fe80::1%" + String(repeating: "a", count: 65),
    ])
    func malformedAddressesAreRefused(input: String) {
        #expect(IPAddress(input) == nil, "\(input)")
    }

    @Test func generatedAddressesRoundTripThroughTheirText() {
        var random = SeededGenerator(seed: 0x1D_2026)
        for _ in 0..<5000 {
            // Zero groups are frequent so that the compression rules run.
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 0..<8 {
                let group: UInt64 = Int.random(in: 0..<3, using: &random) == 0 ? 0 : UInt64.random(in: 0...0xFFFF, using: &random)
                if index < 4 { high = high << 16 | group } else { low = low << 16 | group }
            }
            let address = IPAddress(high: high, low: low)
            #expect(IPAddress(address.description) == address, "\(address.description)")
            let ipv4 = IPAddress(ipv4: UInt32.random(in: 0...UInt32.max, using: &random))
            #expect(IPAddress(ipv4.description) == ipv4)
        }
    }

    #if canImport(Glibc)
    /// glibc's `inet_pton` is strict (no leading zeros, four octets), so it
    /// must agree on every string made of an address's characters: accept
    /// the same ones, read the same bits.
    @Test func theParserAgreesWithGlibcInetPton() {
        var random = SeededGenerator(seed: 7239)
        let alphabet = Array("0123456789abcdefABCDEF:.".utf8)
        let seeds = ["::", "::1", "1.2.3.4", "::ffff:1.2.3.4", "2001:db8::17", "1:2:3:4:5:6:7:8", "fe80::"]
        var agreed = 0
        for round in 0..<40_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 1...24, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? 0 }
            } else {
                bytes = Array((seeds.randomElement(using: &random) ?? "::").utf8)
                for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] = alphabet.randomElement(using: &random) ?? 0
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(alphabet.randomElement(using: &random) ?? 0, at: at)
                    }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let ours = IPAddress(text)
            let theirs = Self.inetPton(text)
            #expect(ours == theirs, "\(text)")
            if ours != nil { agreed += 1 }
        }
        #expect(agreed > 1000)
    }

    static func inetPton(_ text: String) -> IPAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return IPAddress(ipv4: UInt32(bigEndian: v4.s_addr)) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return IPAddress(high: high, low: low)
    }
    #endif

    // MARK: CIDR blocks

    private func ip(_ text: String) -> IPAddress {
        IPAddress(text)!  // the literals here are valid
    }

    @Test func blocksMatchTheirAddressesAndIPv4BlocksMatchTheMappedForm() throws {
        let block = try IPRange(parsing: "10.0.0.0/8")
        #expect(block.contains(ip("10.255.1.2")))
        #expect(block.contains(ip("::ffff:10.1.2.3")))
        #expect(!block.contains(ip("11.0.0.1")))
        #expect(!block.contains(ip("::a01:203")))  // IPv4-compatible, not mapped
        let single = try IPRange(parsing: "203.0.113.7")
        #expect(single.contains(ip("203.0.113.7")) && !single.contains(ip("203.0.113.8")))
        let v6 = try IPRange(parsing: "2001:db8:1::/48")
        #expect(v6.contains(ip("2001:db8:1:ffff::1")) && !v6.contains(ip("2001:db8:2::1")))
        #expect(try IPRange(parsing: "0.0.0.0/0").contains(ip("198.51.100.1")))
        #expect(try IPRange(parsing: "0.0.0.0/0").contains(ip("2001:db8::1")) == false)
        #expect(try IPRange(parsing: "::/0").contains(ip("2001:db8::1")))
        #expect(try IPRange(parsing: "fc00::/7").contains(ip("fd12:3456::1")))
    }

    @Test(arguments: [
        ("10.0.0.1/8", "bits set past the prefix length; the block is 10.0.0.0/8"),
        ("fc00::1/7", "the block is fc00::/7"),
        ("10.0.0.0/33", "from 0 to 32"), ("::/129", "from 0 to 128"), ("10.0.0.0/", "from 0 to 32"),
        ("10.0.0.0/08", "from 0 to 32"), ("10.0.0.0/-1", "from 0 to 32"), ("10.0.0.0/8/8", "from 0 to 32"),
        ("fe80::%eth0/64", "zone id"), ("banana", "not an IPv4 or IPv6 address"), ("", "not an IPv4 or IPv6 address"),
        (" 10.0.0.0/8", "not an IPv4 or IPv6 address"), ("10.0.0/24", "not an IPv4 or IPv6 address"),
    ])
    func badBlocksAreRefusedWithTheReason(input: String, reason: String) {
        #expect(throws: IPRange.ParseError.self) { try IPRange(parsing: input) }
        do {
            _ = try IPRange(parsing: input)
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("::1", true), ("::ffff:127.0.0.1", true), ("10.1.2.3", true),
        ("172.16.0.1", true), ("172.31.255.255", true), ("192.168.1.1", true), ("169.254.169.254", true),
        ("fe80::1", true), ("fc00::1", true), ("fdff::1", true),
        ("172.32.0.1", false), ("172.15.255.255", false), ("11.0.0.1", false), ("100.64.0.1", false),
        ("192.0.2.1", false), ("8.8.8.8", false), ("2001:db8::1", false), ("fec0::1", false), ("::", false),
    ])
    func thePrivateNetworksAreLoopbackPrivateLinkLocalAndUniqueLocal(address: String, isTrusted: Bool) throws {
        let resolver = ClientAddressResolver(options: .default)
        #expect(resolver.isTrusted(try #require(IPAddress(address))) == isTrusted)
    }

    // MARK: Forwarded and X-Forwarded-For

    private func hops(_ kind: ForwardedChain.Kind, _ lines: [String]) -> [ForwardedChain.Hop] {
        ForwardedChain(kind, lines: lines.map { Array($0.utf8)[...] }, maxHops: 32, maxBytes: 8192).hops
    }

    private func v(_ text: String) -> ForwardedChain.Hop {
        IPAddress(text).map(ForwardedChain.Hop.address) ?? .malformed
    }

    /// Every `Forwarded` example in RFC 7239's text (§4, §6.1, §6.3, §7.1, §7.4).
    @Test func everyExampleOfRFC7239Reads() {
        #expect(hops(.forwarded, [#"for="_gazonk""#]) == [.hidden])
        #expect(hops(.forwarded, [#"For="[2001:db8:cafe::17]:4711""#]) == [v("2001:db8:cafe::17")])
        #expect(hops(.forwarded, ["for=192.0.2.60;proto=http;by=203.0.113.43"]) == [v("192.0.2.60")])
        #expect(hops(.forwarded, ["for=192.0.2.43, for=198.51.100.17"]) == [v("192.0.2.43"), v("198.51.100.17")])
        #expect(hops(.forwarded, [#"for="192.0.2.43:47011""#]) == [v("192.0.2.43")])
        #expect(hops(.forwarded, [#"for="[2001:db8:cafe::17]:47011""#]) == [v("2001:db8:cafe::17")])
        #expect(hops(.forwarded, ["for=unknown"]) == [.hidden])
        #expect(hops(.forwarded, ["for=_hidden, for=_SEVKISEK"]) == [.hidden, .hidden])
        let listed: [ForwardedChain.Hop] = [v("192.0.2.43"), v("2001:db8:cafe::17"), .hidden]
        #expect(hops(.forwarded, [#"for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown"#]) == listed)
        #expect(hops(.forwarded, [#"for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown"#]) == listed)
        #expect(hops(.forwarded, ["for=192.0.2.43", #"for="[2001:db8:cafe::17]", for=unknown"#]) == listed)
        #expect(
            hops(.forwarded, ["for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"])
                == [v("192.0.2.43"), v("198.51.100.17")])
        #expect(hops(.forwarded, [#"for=192.0.2.43, for="[2001:db8:cafe::17]""#]) == [v("192.0.2.43"), v("2001:db8:cafe::17")])
    }

    @Test func forwardedEdgeCases() {
        // Obfuscated ports, `unknown` with a port, mapped and zoned addresses, quoted-pair escapes.
        #expect(hops(.forwarded, [#"for="_gazonk:_p1""#, #"for="unknown:1234""#]) == [.hidden, .hidden])
        #expect(hops(.forwarded, [#"for="[::ffff:192.0.2.1]:80""#]) == [v("192.0.2.1")])
        #expect(hops(.forwarded, [#"for="[fe80::1%eth0]""#]) == [v("fe80::1")])
        #expect(hops(.forwarded, [#"for="192.0.2\.1""#]) == [v("192.0.2.1")])
        // Spaces around `;` are tolerated; empty elements and pairs are ignored; names are case-blind.
        #expect(hops(.forwarded, ["proto=https ; FOR=192.0.2.1 ;;, ,"]) == [v("192.0.2.1")])
        // An element without `for` is a hop that did not say.
        #expect(hops(.forwarded, ["for=192.0.2.1, proto=https"]) == [v("192.0.2.1"), .hidden])
        // Malformed: unbracketed port, brackets unquoted, a bad obfuscated name, a port out of range, `for` twice.
        #expect(hops(.forwarded, ["for=192.0.2.43:47011"]) == [.malformed])
        #expect(hops(.forwarded, ["for=[2001:db8::1]"]) == [.malformed])
        #expect(
            hops(.forwarded, [#"for="_bad!name""#, #"for="192.0.2.1:65536""#, "for=1.2.3.4;for=5.6.7.8"])
                == [.malformed, .malformed, .malformed])
        #expect(hops(.forwarded, [#"for="[2001:db8::1"#]) == [.malformed])
        #expect(hops(.forwarded, [#"for="[2001:db8::1]x""#]) == [.malformed])
        #expect(hops(.forwarded, ["for= 192.0.2.1"]) == [.malformed])
    }

    /// A broken value a client sent (an open quote) cannot swallow the
    /// element a proxy appended after it on the same line.
    @Test func aBrokenElementDoesNotSwallowTheNextOne() {
        #expect(hops(.forwarded, [#"for="6.6.6.6, for=192.0.2.1"#]) == [.malformed, v("192.0.2.1")])
        #expect(hops(.forwarded, [#"for=6.6.6.6", for=192.0.2.1"#]) == [.malformed, v("192.0.2.1")])
        #expect(hops(.forwarded, [#"", for=192.0.2.1"#]) == [.malformed, v("192.0.2.1")])
        // A quoted comma is part of the value, not a separator.
        #expect(hops(.forwarded, [#"for="x, for=6.6.6.6", for=192.0.2.1"#]) == [.malformed, v("192.0.2.1")])
    }

    @Test func xForwardedForItems() {
        #expect(
            hops(.xForwardedFor, ["203.0.113.195, 2001:db8:85a3:8d3:1319:8a2e:370:7348", " 10.0.0.1 ,,"])
                == [v("203.0.113.195"), v("2001:db8:85a3:8d3:1319:8a2e:370:7348"), v("10.0.0.1")])
        #expect(
            hops(.xForwardedFor, ["192.0.2.1:5000, [2001:db8::1]:443, [2001:db8::2], fe80::1%eth0, ::ffff:10.0.0.1"])
                == [v("192.0.2.1"), v("2001:db8::1"), v("2001:db8::2"), v("fe80::1"), v("10.0.0.1")])
        #expect(
            hops(.xForwardedFor, ["unknown, _hidden, not-an-ip, 1.2.3, [::1, \"1.2.3.4\", 01.2.3.4"])
                == [.hidden, .hidden, .malformed, .malformed, .malformed, .malformed, .malformed])
    }

    // MARK: Hostile input

    @Test func randomBytesNeverCrashAndStayBounded() {
        var random = SeededGenerator(seed: 0xF0F0)
        let pieces = Array("for=\"[]:;,_unknown 0123456789abcdef.\\%\u{7F}\t".utf8) + [0, 0xFF, 0xC3]
        for round in 0..<20_000 {
            let count = Int.random(in: 0...80, using: &random)
            let line: [UInt8] = (0..<count).map { _ in
                round % 3 == 0 ? UInt8.random(in: 0...255, using: &random) : (pieces.randomElement(using: &random) ?? 0)
            }
            for kind in [ForwardedChain.Kind.forwarded, .xForwardedFor] {
                let chain = ForwardedChain(kind, lines: [line[...], line[...]], maxHops: 32, maxBytes: 8192)
                #expect(chain.hops.count <= 32)
            }
            _ = IPAddress(line)
            _ = ForwardedChain.node(line[...])
        }
    }

    @Test func thousandsOfHopsKeepOnlyTheRightmost() {
        let items = (0..<5000).map { "10.\($0 / 65536 % 256).\($0 / 256 % 256).\($0 % 256)" }
        let line = Array(items.suffix(1500).joined(separator: ",").utf8)
        let chain = ForwardedChain(.xForwardedFor, lines: [line[...]], maxHops: 32, maxBytes: 1 << 20)
        #expect(chain.hops.count == 32 && chain.isCut)
        #expect(chain.hops.last == v("10.0.19.135"))  // item 4999
        let many = (0..<3000).map { _ in "for=10.0.0.1" }.joined(separator: ", ")
        let forwarded = ForwardedChain(.forwarded, lines: [Array(many.utf8)[...]], maxHops: 32, maxBytes: 1 << 20)
        #expect(forwarded.hops.count == 32 && forwarded.isCut)
    }

    /// The byte budget is a window on the right end: lines left of it are
    /// not read, the line it cuts is read from its first comma inside it.
    @Test func theByteBudgetReadsOnlyTheRightEnd() {
        let huge = Array(String(repeating: "1.2.3.4, ", count: 2000).utf8)  // 18 kB
        let last = Array("192.0.2.1".utf8)
        let chain = ForwardedChain(.xForwardedFor, lines: [huge[...], last[...]], maxHops: 32, maxBytes: 8192)
        #expect(chain.hops == Array(repeating: v("1.2.3.4"), count: 31) + [v("192.0.2.1")] && chain.isCut)
        let alone = ForwardedChain(.xForwardedFor, lines: [huge[...]], maxHops: 32, maxBytes: 8192)
        #expect(alone.hops == Array(repeating: v("1.2.3.4"), count: 32) && alone.isCut)
        let small = ForwardedChain(.xForwardedFor, lines: [huge[...], last[...]], maxHops: 32, maxBytes: 30)
        #expect(small.hops == [.malformed, v("1.2.3.4"), v("1.2.3.4"), v("192.0.2.1")] && small.isCut)
        let wholeLines = ForwardedChain(.xForwardedFor, lines: [last[...], last[...]], maxHops: 32, maxBytes: 18)
        #expect(wholeLines.hops == [v("192.0.2.1"), v("192.0.2.1")] && !wholeLines.isCut)
    }
}
