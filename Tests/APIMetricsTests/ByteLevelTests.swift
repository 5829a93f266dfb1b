import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics
import WireFuzzing

/// The byte-level pieces the hot paths rely on, checked against a plain
/// reference (strings, Foundation's JSON parser) on generated and hostile input.
@Suite("Byte-level building blocks")
struct ByteLevelTests {
    // MARK: - Header fields kept as bytes

    /// The list as a plain array of pairs: what every operation must agree with.
    private struct Reference {
        var pairs: [(String, String)] = []

        func first(_ name: String) -> String? {
            pairs.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        func all(_ name: String) -> [String] {
            pairs.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }
    }

    @Test func headerListsAgreeWithAReferenceUnderGeneratedEdits() {
        var random = SplitMix(seed: 7)
        let names = ["Host", "host", "HOST", "X-Key", "x-key", "Accept", "Set-Cookie", "ÄÖ", "a b", ""]
        let values = ["", "v", "vée", "\u{0}", "long value with spaces and \"quotes\"", "😀", String(repeating: "x", count: 300)]
        for _ in 0..<300 {
            var headers = HeaderFields()
            var reference = Reference()
            for _ in 0..<Int(random.next() % 12) {
                let name = names[Int(random.next() % UInt64(names.count))]
                let value = values[Int(random.next() % UInt64(values.count))]
                switch random.next() % 5 {
                case 0:
                    headers.append(nameBytes: Array(name.utf8)[...], valueBytes: Array(value.utf8)[...])
                    reference.pairs.append((name, value))
                case 1:
                    headers.replaceOrAppend(name: name, value: value)
                    if let first = reference.pairs.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                        reference.pairs[first].1 = value
                        var index = first + 1
                        while index < reference.pairs.count {
                            if reference.pairs[index].0.lowercased() == name.lowercased() {
                                reference.pairs.remove(at: index)
                            } else {
                                index += 1
                            }
                        }
                    } else {
                        reference.pairs.append((name, value))
                    }
                case 2:
                    headers.remove(name: name)
                    reference.pairs.removeAll { $0.0.lowercased() == name.lowercased() }
                default:
                    headers.append(name: name, value: value)
                    reference.pairs.append((name, value))
                }
            }
            #expect(headers.count == reference.pairs.count)
            #expect(headers.fields.map(\.name) == reference.pairs.map(\.0))
            #expect(headers.fields.map(\.value) == reference.pairs.map(\.1))
            #expect(Array(headers).map(\.value) == reference.pairs.map(\.1))
            for name in names {
                #expect(headers[name] == reference.first(name))
                #expect(headers.values(for: name) == reference.all(name))
            }
            let lowercasedNames = reference.pairs.map { $0.0.lowercased() }
            #expect(headers.hasRepeatedName == (Set(lowercasedNames).count != lowercasedNames.count))
            // Equal lists are equal and hash alike however they were built.
            let rebuilt = HeaderFields(reference.pairs)
            #expect(rebuilt == headers)
            #expect(rebuilt.hashValue == headers.hashValue)
            #expect(headers.compacted() == headers)
        }
    }

    @Test func invalidUTF8InCapturedValuesIsReplacedWhenReadAndEncoded() throws {
        var headers = HeaderFields()
        headers.append(nameBytes: Array("X-Raw".utf8)[...], valueBytes: [0x61, 0xFF, 0xC3, 0x62][...])
        headers.append(nameBytes: [0x58, 0xFE][...], valueBytes: Array("ok".utf8)[...])
        #expect(headers["x-raw"] == "a\u{FFFD}\u{FFFD}b")
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "GET", target: "/p?%FF=%C3&k=v%00", headers: headers),
            requestBody: CapturedBody(bytes: [], size: 0))
        let line = EventEncoder(identity: ServiceIdentity(service: "s", environment: "e")).encode(record)
        let json = try #require(jsonObject(line))
        let request = try #require(json["request"] as? [String: Any])
        let written = try #require(request["headers"] as? [String: String])
        #expect(written["x-raw"] == "a\u{FFFD}\u{FFFD}b")
        #expect(written["x\u{FFFD}"] == "ok")
        let query = try #require(request["query"] as? [String: String])
        #expect(query["\u{FFFD}"] == "\u{FFFD}")
        #expect(query["k"] == "v\u{0}")
    }

    @Test func compactedListsHoldExactlyTheirBytes() {
        var scratch = HeaderFields()
        scratch.reserveCapacity(byteCount: 4096, fieldCount: 64)
        scratch.append(name: "Host", value: "example.com")
        let kept = scratch.compacted()
        #expect(kept == scratch)
        #expect(kept.heapBytes < scratch.heapBytes)
        scratch.removeAll(keepingCapacity: true)
        #expect(kept["host"] == "example.com")
        #expect(scratch.isEmpty)
    }

    // MARK: - JSON writer

    @Test func theEightByteEscapeScanAgreesWithTheByteCheckForEveryByteAtEveryPosition() {
        for value in 0...255 {
            let byte = UInt8(value)
            for position in 0..<8 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[position] = byte
                // Little or big endian does not matter: every lane is checked.
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(JSONWriter.wordNeedsEscape(word) == JSONWriter.needsEscape(byte), "byte \(value) at \(position)")
            }
        }
        // Neighbours that borrow or carry across lanes: high bytes next to low ones.
        for first in [0x00, 0x1F, 0x20, 0x21, 0x7F, 0x80, 0xFF] {
            for second in [0x00, 0x1F, 0x20, 0x21, 0x22, 0x5C, 0x7F, 0x80, 0xFF] {
                let bytes = [UInt8](repeating: 0x80, count: 6) + [UInt8(first), UInt8(second)]
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let expected = bytes.contains(where: JSONWriter.needsEscape)
                #expect(JSONWriter.wordNeedsEscape(word) == expected)
            }
        }
    }

    @Test func theEightByteScanNamesTheFirstByteThatNeedsAnEscape() {
        var random = SplitMix(seed: 19)
        // Mostly bytes at the edges of the checks, so that borrows cross lanes.
        let edges: [UInt8] = [
            0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xA2, 0xDC, 0xFF, 0x61,
        ]
        for _ in 0..<200_000 {
            let bytes = (0..<8).map { _ in
                random.next() % 4 == 0
                    ? UInt8(truncatingIfNeeded: random.next()) : edges[Int(random.next() % UInt64(edges.count))]
            }
            let word = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let expected = bytes.firstIndex(where: JSONWriter.needsEscape) ?? 8
            #expect(JSONWriter.firstEscapeLane(word) == expected, "\(bytes)")
        }
    }

    @Test func generatedByteStringsRoundTripThroughFoundation() throws {
        var random = SplitMix(seed: 11)
        let interesting: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x22, 0x2F, 0x5C, 0x7F, 0x41, 0x61]
        for _ in 0..<2000 {
            let length = Int(random.next() % 70)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                switch random.next() % 4 {
                case 0: bytes.append(interesting[Int(random.next() % UInt64(interesting.count))])
                case 1: bytes.append(contentsOf: Array("é😀".utf8))
                case 2: bytes.append(UInt8(truncatingIfNeeded: random.next()))
                default: bytes.append(UInt8(ascii: "x"))
                }
            }
            var writer = JSONWriter(capacity: 1)
            writer.beginArray()
            bytes.withUnsafeBufferPointer { writer.string(unvalidated: $0) }
            writer.endArray()
            let parsed = try #require((try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [String])
            #expect(parsed == [String(decoding: bytes, as: UTF8.self)])
        }
    }

    @Test func theBufferGrowsPastItsFirstCapacity() throws {
        var writer = JSONWriter(capacity: 1)
        writer.beginArray()
        let long = String(repeating: "ab\"c\\\n", count: 20_000)
        for index in 0..<50 {
            writer.int(index)
            writer.string(long)
            writer.timestamp(nanosecondsSinceEpoch: Int64(index) * 86_400_000_000_000)
        }
        writer.endArray()
        let parsed = try #require((try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [Any])
        #expect(parsed.count == 150)
        #expect(parsed[1] as? String == long)
        #expect(parsed[5] as? String == "1970-01-02T00:00:00.000Z")
    }

    // MARK: - Targets

    @Test(
        arguments: [
            ("/orders?page=2", "/orders", "page=2"),
            ("/orders", "/orders", nil),
            ("/a?b=c#frag", "/a", "b=c"),
            ("/a#frag?not=query", "/a", nil),
            ("http://api.example.com/p/q?x=1", "/p/q", "x=1"),
            ("http://api.example.com", "", nil),
            ("http://api.example.com?x=1", "", "x=1"),
            ("*", "*", nil),
            ("", "", nil),
            ("?only=query", "", "only=query"),
            ("/a:b/c?d", "/a:b/c", "d"),
            ("/p?", "/p", ""),
            ("weird:/x", "weird:/x", nil),
        ] as [(String, String, String?)])
    func targetsSplitIntoPathAndQuery(target: String, path: String, query: String?) {
        var text = target
        let parts = text.withUTF8 { bytes in
            let parts = URLTarget.parts(of: bytes)
            return (
                String(decoding: UnsafeBufferPointer(rebasing: bytes[parts.path]), as: UTF8.self),
                parts.query.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
            )
        }
        #expect(parts.0 == path)
        #expect(parts.1 == query)
        #expect(URLTarget(target).path == (path.isEmpty ? "/" : path))
        #expect(URLTarget(target).rawQuery == query)
    }

    // MARK: - Name sets

    @Test func byteLookupsAgreeWithStringLookupsPastTheCacheBound() {
        let set = NameSet([.exact("authorization"), .contains("token"), .glob("x-*-key"), "cookie"])
        let reference = NameSet([.exact("authorization"), .contains("token"), .glob("x-*-key"), "cookie"])
        var random = SplitMix(seed: 3)
        let stems = ["authorization", "x-auth-token", "x-api-key", "cookie", "accept", "x-a-key", "tokenizer", "host"]
        for round in 0..<3000 {
            var name = round % 3 == 0 ? stems[Int(random.next() % UInt64(stems.count))] : "h\(random.next() % 2000)"
            // Random ASCII case on every letter.
            name = String(name.map { random.next() % 2 == 0 ? Character($0.uppercased()) : $0 })
            let expected = reference.contains(name)
            #expect(set.contains(bytes: Array(name.utf8)[...]) == expected, "\(name)")
            #expect(set.contains(bytes: Array(name.utf8)[...]) == expected, "\(name), cached")
            #expect(set.matches(name) == expected, "\(name), uncached")
        }
    }

    /// Paths and user agents are matched in place on the request path; the
    /// answers must be the string matcher's, for generated names built from
    /// the patterns' own pieces in any case, ASCII or not.
    @Test func inPlaceMatchingAgreesWithStringMatching() {
        let patternSets: [[FieldMatcher]] = [
            EventFilterOptions.defaultExcludedPaths.map(FieldMatcher.parse),
            EventFilterOptions.defaultExcludedUserAgents.map(FieldMatcher.parse),
            ["/a*b*c", "*mid*", "x**y", "/exact", "*", "/tail*"].map(FieldMatcher.parse),
            ["/caf\u{E9}*", "/plain"].map(FieldMatcher.parse),
        ]
        let pieces = [
            "/", "health", "healthz", ".well-known", "/x", "kube-probe", "/1.0", "a", "b", "c", "mid", "x", "y",
            "/exact", "/tail", "HAProxy", "health", " ", "caf\u{E9}", "\u{C9}", "?", "Pingdom", "/plain", "z",
        ]
        var random = SplitMix(seed: 11)
        var checked = 0
        for patterns in patternSets {
            let set = NameSet(patterns)
            for _ in 0..<4000 {
                var name = ""
                for _ in 0..<Int(random.next() % 5) { name += pieces[Int(random.next() % UInt64(pieces.count))] }
                name = String(name.map { random.next() % 2 == 0 ? Character($0.uppercased()) : $0 })
                let expected = set.matches(name)
                let found = Array(name.utf8).withUnsafeBufferPointer { set.matches(bytes: $0) }
                #expect(found == expected, "\(name) against \(patterns)")
                checked += expected ? 1 : 0
            }
        }
        // The generated names must reach both answers, or the test proves nothing.
        #expect(checked > 500)
    }

    /// The one-pass body probe against looking for every name in turn, on
    /// bodies built from the names' own pieces in any case, with bytes
    /// outside ASCII, at every length from empty: the default field names
    /// (some of which hold others), short and one-byte names, and names
    /// that start outside ASCII.
    @Test func theBodyProbeAgreesWithLookingForEveryName() {
        let nameSets: [[String]] = [
            RedactionOptions.defaultFields.compactMap { if case let .exact(name) = $0.kind { name } else { nil } },
            ["x", "ab", "abc", "bca"],
            ["\u{E9}t\u{E9}", "caf\u{E9}", "pin", "p"],
        ]
        let pieces = [
            "pass", "word", "tok", "en", "_", "-", "api", "key", "auth", "card", "number", "cvv", "\"", ":", "{", "}",
            "x", "a", "b", "c", "ab", "\u{E9}", "\u{C9}", "caf", "t", "pin", "p", "zz", " ", "s", "ecret", "ssn",
        ]
        var random = SplitMix(seed: 0xB0D1)
        var found = 0
        var checked = 0
        for names in nameSets {
            let set = NameSet(names: Set(names))
            let lowered = Set(names.map { $0.lowercased() }).map { Array($0.utf8) }
            for _ in 0..<6000 {
                var body = ""
                for _ in 0..<Int(random.next() % 9) { body += pieces[Int(random.next() % UInt64(pieces.count))] }
                body = String(body.map { random.next() % 3 == 0 ? Character($0.uppercased()) : $0 })
                let bytes = Array(body.utf8)
                let expected = bytes.withUnsafeBufferPointer { haystack in
                    lowered.contains { NameSet.containsIgnoringCase(haystack, $0) }
                }
                #expect(set.mightOccur(in: bytes) == expected, "\(body) against \(names)")
                found += expected ? 1 : 0
                checked += 1
            }
        }
        // Both answers must come up often, or the test proves little.
        #expect(found > 3000 && checked - found > 3000, "\(found) of \(checked) found")
    }

    @Test(arguments: [0, 1, 63, 64, 65, 150])
    func valuesAreReplacedAtEveryPositionOfLongLists(count: Int) {
        var random = SplitMix(seed: UInt64(count) + 5)
        var pairs: [(String, String)] = []
        for index in 0..<count {
            pairs.append((random.next() % 3 == 0 ? "X-Secret-\(index % 2)" : "H\(index)", "value-\(index)"))
        }
        let headers = HeaderFields(pairs)
        let replaced = headers.replacingValues(where: { $0.starts(with: Array("X-Secret".utf8)) }, with: "[REDACTED]")
        let expected = pairs.map { ($0.0, $0.0.hasPrefix("X-Secret") ? "[REDACTED]" : $0.1) }
        #expect(replaced.map { "\($0.name)=\($0.value)" } == expected.map { "\($0.0)=\($0.1)" })
        #expect(replaced == HeaderFields(expected))
    }

    // MARK: - Case-folding patterns

    /// The plain answer: equal length, and equal bytes once ASCII letters are lowered.
    private static func foldedEqual(_ input: [UInt8], _ pattern: [UInt8]) -> Bool {
        input.count == pattern.count && zip(input, pattern).allSatisfy { ASCII.lowercased($0) == $1 }
    }

    @Test func foldedPatternsAgreeWithAByteReferenceAtEveryLength() {
        var random = SplitMix(seed: 11)
        // Letters, their neighbours across bit 5 ('@', '[', '`', '{'), digits,
        // punctuation, and a two-byte character.
        let alphabet: [String] = ["a", "z", "m", "@", "[", "`", "{", "/", "+", "-", "0", "9", ";", " ", "é"]
        for length in 0..<42 {
            for _ in 0..<40 {
                let text = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
                let pattern = FoldedPattern(text)
                let lowered = Array(text.lowercased().utf8)
                #expect(pattern.count == lowered.count)
                // Any mix of cases matches.
                var input = lowered.map { byte in
                    (byte >= 0x61 && byte <= 0x7A && random.next() % 2 == 0) ? byte - 0x20 : byte
                }
                #expect(input.withUnsafeBufferPointer { pattern.matches($0) }, "\(text)")
                guard !input.isEmpty else { continue }
                // One byte changed: bit 5 flipped, or any other value.
                let position = Int(random.next() % UInt64(input.count))
                input[position] = random.next() % 2 == 0 ? input[position] ^ 0x20 : UInt8(truncatingIfNeeded: random.next())
                let expected = Self.foldedEqual(input, lowered)
                #expect(input.withUnsafeBufferPointer { pattern.matches($0) } == expected, "\(text) vs \(input)")
                // Shorter or longer input never matches.
                #expect(!Array(input.dropLast()).withUnsafeBufferPointer { pattern.matches($0) })
                #expect(!(input + [0x61]).withUnsafeBufferPointer { pattern.matches($0) })
            }
        }
    }

    @Test(
        arguments: [
            ("application/json", true), ("APPLICATION/JSON", true), ("Application/Json; charset=utf-8", true),
            ("  application/json  ;x", true), ("application/jsoN\t", true), ("application/jso", false),
            ("application/jsonx", false), ("application/json\u{0}", false), ("applicatiOn/problem+JSON", true),
            ("text/", true), ("TEXT/plain", true), ("tex/plain", false), ("image/svg+xml", true), ("+json", true),
            ("json", false), ("application/octet-stream", false), ("", false), (";", false),
            ("application/x-www-form-urlencoded", true), ("application/x-www-form-urlencodeD", true),
            ("application/x-www-form-urlencode", false), ("application/graphql", true), ("application/jAvascript", true),
        ] as [(String, Bool)])
    func textualBodyTypesMatchInAnyCase(contentType: String, expected: Bool) {
        #expect(BodyContentTypes.textual.allows(contentType) == expected)
        #expect(BodyContentTypes.textual.allows(HeaderFields([("Content-Type", contentType)])) == expected)
    }
}
