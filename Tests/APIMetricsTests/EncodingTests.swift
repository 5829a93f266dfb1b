import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics
import WireFuzzing

@Suite("Event encoding")
struct EncodingTests {
    private let encoder = EventEncoder(
        identity: ServiceIdentity(
            service: "orders-api", environment: "prod", version: "1.4.2", tags: ["region:eu"]))

    private func sampleRecord() -> ExchangeRecord {
        ExchangeRecord(
            id: EventID(high: 0x9f1c_0000_0000_0001, low: 2),
            direction: .incoming,
            startTimeNanoseconds: 1_795_255_200_123_456_789,
            durationNanoseconds: 3_214_999,
            request: RequestHead(
                method: "POST", target: "/orders?page=2&tag=a&tag=b&q=caf%C3%A9+latte",
                headers: ["User-Agent": "curl/8", "X-Dup": "1", "x-dup": "2"],
                route: "/orders/{id}", clientAddress: "127.0.0.1"),
            requestBody: CapturedBody(bytes: Array(#"{"item":"a"}"#.utf8), size: 12),
            response: ResponseHead(status: 201, headers: ["Content-Type": "application/json"]),
            responseBody: CapturedBody(bytes: [], size: 88),
            consumer: Consumer(id: "customer-123", name: "Acme", group: "enterprise"),
            errors: [RecordedError(type: "DecodingError", message: "bad \"input\"\n")],
            traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
            metadata: ["k": "v"])
    }

    /// Percent-decoding done the plain way: `+` is a space, `%XY` with two
    /// hex digits is a byte, anything else stays; invalid UTF-8 is replaced.
    private static func referenceDecode(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "+") {
                output.append(0x20)
            } else if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16),
                bytes[(index + 1)...(index + 2)].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            {
                output.append(value)
                index += 2
            } else {
                output.append(bytes[index])
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    @Test func generatedQueriesAreDecodedAndGroupedAsAReferenceDoes() throws {
        var random = SplitMix(seed: 23)
        let pieces = [
            "a", "b", "A", "=", "&", "&&", "+", "%", "%2", "%20", "%41", "%e9", "%C3%A9", "%FF", "%zz", "%%", "é", "\"", "\\",
            "x=1", "?", "#",
        ]
        for _ in 0..<2000 {
            let query = (0..<Int(random.next() % 10)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            var record = sampleRecord()
            record.request = RequestHead(method: "GET", target: "/p?" + query)
            let json = try #require(jsonObject(encoder.encode(record)), "\(query)")
            let request = try #require(json["request"] as? [String: Any])
            // The reference: non-empty `&` parts, split at the first `=`, decoded, grouped in order.
            var grouped: [(String, [String])] = []
            // A fragment is not part of the query.
            let beforeFragment = query.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            for part in beforeFragment.split(separator: "&", omittingEmptySubsequences: true) {
                let equals = part.firstIndex(of: "=")
                let name = Self.referenceDecode(equals.map { part[..<$0] } ?? part)
                let value = equals.map { Self.referenceDecode(part[part.index(after: $0)...]) } ?? ""
                if let index = grouped.firstIndex(where: { $0.0 == name }) {
                    grouped[index].1.append(value)
                } else {
                    grouped.append((name, [value]))
                }
            }
            guard !grouped.isEmpty else {
                #expect(request["query"] == nil, "\(query)")
                continue
            }
            let written = try #require(request["query"] as? [String: Any], "\(query)")
            #expect(written.count == grouped.count, "\(query)")
            for (name, values) in grouped {
                if values.count == 1 {
                    #expect(written[name] as? String == values[0], "\(query): \(name)")
                } else {
                    #expect(written[name] as? [String] == values, "\(query): \(name)")
                }
            }
        }
    }

    @Test func writesSchemaVersionOne() throws {
        let json = try #require(jsonObject(encoder.encode(sampleRecord())))
        #expect(json["v"] as? Int == 1)
        #expect(json["id"] as? String == "9f1c0000000000010000000000000002")
        #expect(json["ts"] as? String == "2026-11-21T10:00:00.123Z")
        #expect(json["direction"] as? String == "incoming")
        #expect(json["service"] as? String == "orders-api")
        #expect(json["env"] as? String == "prod")
        #expect(json["version"] as? String == "1.4.2")
        #expect(json["tags"] as? [String] == ["region:eu"])
        #expect(json["duration_ms"] as? Double == 3.214)
        #expect(json["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(json["parent_id"] == nil)
        let request = try #require(json["request"] as? [String: Any])
        #expect(request["method"] as? String == "POST")
        #expect(request["url"] as? String == "/orders?page=2&tag=a&tag=b&q=caf%C3%A9+latte")
        #expect(request["path"] as? String == "/orders")
        #expect(request["route"] as? String == "/orders/{id}")
        let query = try #require(request["query"] as? [String: Any])
        #expect(query["page"] as? String == "2")
        #expect(query["tag"] as? [String] == ["a", "b"])
        #expect(query["q"] as? String == "café latte")
        let headers = try #require(request["headers"] as? [String: Any])
        #expect(headers["user-agent"] as? String == "curl/8")
        #expect(headers["x-dup"] as? [String] == ["1", "2"])
        #expect(request["size"] as? Int == 12)
        #expect(request["body"] as? String == #"{"item":"a"}"#)
        #expect(request["body_encoding"] as? String == "utf8")
        #expect(request["body_truncated"] as? Bool == false)
        #expect(request["client_ip"] as? String == "127.0.0.1")
        let response = try #require(json["response"] as? [String: Any])
        #expect(response["status"] as? Int == 201)
        #expect(response["size"] as? Int == 88)
        #expect(response["body"] == nil)
        let consumer = try #require(json["consumer"] as? [String: String])
        #expect(consumer == ["id": "customer-123", "name": "Acme", "group": "enterprise"])
        let error = try #require(json["error"] as? [String: String])
        #expect(error == ["type": "DecodingError", "message": "bad \"input\"\n"])
    }

    @Test func omitsAbsentValues() throws {
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 1), direction: .outgoing, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "GET", target: "/"))
        let json = try #require(
            jsonObject(EventEncoder(identity: ServiceIdentity(service: "s", environment: "e")).encode(record)))
        #expect(Set(json.keys) == ["v", "id", "ts", "direction", "service", "env", "request", "duration_ms"])
        #expect(json["ts"] as? String == "1970-01-01T00:00:00.000Z")
        #expect(json["direction"] as? String == "outgoing")
        let request = try #require(json["request"] as? [String: Any])
        #expect(Set(request.keys) == ["method", "url", "path", "size"])
    }

    @Test func binaryBodiesAreBase64AndCutCharactersDoNotMakeTextBinary() throws {
        var record = sampleRecord()
        let binary: [UInt8] = [0xFF, 0x00, 0xFE, 0x80, 0x41]
        record.requestBody = CapturedBody(bytes: binary, size: 5)
        // "é" is two bytes; the cap cut it in half.
        record.responseBody = CapturedBody(bytes: Array("café".utf8).dropLast(), size: 100, isTruncated: true)
        let json = try #require(jsonObject(encoder.encode(record)))
        let request = try #require(json["request"] as? [String: Any])
        #expect(request["body_encoding"] as? String == "base64")
        #expect(request["body"] as? String == Data(binary).base64EncodedString())
        let response = try #require(json["response"] as? [String: Any])
        #expect(response["body"] as? String == "caf")
        #expect(response["body_encoding"] as? String == "utf8")
        #expect(response["body_truncated"] as? Bool == true)
    }

    @Test func base64MatchesFoundationOnGeneratedInput() {
        var generator = SeededGenerator.replayable()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }

    @Test func hostileStringsRoundTripThroughJSON() throws {
        // Generated strings full of quotes, backslashes, control characters,
        // DEL, non-BMP scalars: Foundation's parser must read back each one.
        var generator = SeededGenerator.replayable()
        let pool: [Unicode.Scalar] = [
            "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "/", "a", "é", "\u{2028}", "😀", "{", "}",
        ]
        for _ in 0..<1000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                text.unicodeScalars.append(pool.randomElement(using: &generator) ?? "a")
            }
            var writer = JSONWriter()
            writer.beginObject()
            writer.key(escaping: text)
            writer.string(text)
            writer.endObject()
            let parsed = try #require(jsonObject(writer.bytes) as? [String: String])
            #expect(parsed == [text: text])
        }
    }

    @Test func numbersAndDurationsAreExact() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for value in [0, 1, -1, 42, Int.max, Int.min] { writer.int(value) }
        writer.milliseconds(fromNanoseconds: 0)
        writer.milliseconds(fromNanoseconds: 999)
        writer.milliseconds(fromNanoseconds: 1_000)
        writer.milliseconds(fromNanoseconds: 12_345_678_901)
        writer.milliseconds(fromNanoseconds: -5)
        writer.endArray()
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == "[0,1,-1,42,9223372036854775807,-9223372036854775808,0.000,0.000,0.001,12345.678,0.000]")
    }

    @Test func timestampsMatchFoundationAcrossTheCalendar() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SeededGenerator.replayable()
        var samples: [Int64] = [0, 951_782_400_000, 4_107_542_399_999, 1_709_164_800_000, -1, -86_400_000, 9_000_000_000_000]
        for _ in 0..<2000 {
            samples.append(Int64.random(in: -2_208_988_800_000...9_000_000_000_000, using: &generator))
        }
        for millis in samples {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let ours = Timestamp.rfc3339(nanosecondsSinceEpoch: millis * 1_000_000 + 456_789)
            #expect(ours == formatter.string(from: date), "at \(millis) ms")
        }
        // The ends of Int64 nanoseconds.
        #expect(Timestamp.rfc3339(nanosecondsSinceEpoch: .max) == "2262-04-11T23:47:16.854Z")
        #expect(Timestamp.rfc3339(nanosecondsSinceEpoch: .min) == "1677-09-21T00:12:43.145Z")
    }

    @Test func theBatchEnvelopeHoldsTheEventsAndTheDrops() throws {
        let batch = ExportBatch(
            identity: encoder.identity, records: [sampleRecord(), sampleRecord()], dropped: 7,
            sentAtNanoseconds: 1_795_255_200_000_000_000)
        let json = try #require(jsonObject(batch.encodedJSON()))
        #expect(json["v"] as? Int == 1)
        #expect(json["service"] as? String == "orders-api")
        #expect(json["env"] as? String == "prod")
        #expect(json["sent_at"] as? String == "2026-11-21T10:00:00.000Z")
        #expect(json["dropped"] as? Int == 7)
        #expect((json["events"] as? [[String: Any]])?.count == 2)
    }

    @Test func targetsOfEveryShapeGiveAPathAndAQuery() {
        let cases: [(String, String, [String])] = [
            ("/orders?page=2", "/orders", ["page=2"]),
            ("http://example.com:8080/a/b?x=1#frag", "/a/b", ["x=1"]),
            ("http://example.com", "/", []),
            ("*", "*", []),
            ("/a?", "/a", []),
            ("/a?&&=&x", "/a", ["=", "x="]),
            ("/p%zz?k=%zz&k2=%4", "/p%zz", ["k=%zz", "k2=%4"]),
            ("/p?k=%FF", "/p", ["k=\u{FFFD}"]),
            ("", "/", []),
            ("/a://b", "/a://b", []),
        ]
        for (target, path, query) in cases {
            let parsed = URLTarget(target)
            #expect(parsed.path == path, "path of \(target)")
            #expect(parsed.queryItems.map { "\($0.name)=\($0.value)" } == query, "query of \(target)")
        }
    }

    @Test func generatedTargetsNeverBreakTheEncoder() throws {
        var generator = SeededGenerator.replayable()
        let alphabet = Array("/?&=%#+:ab\u{0}\"\\é".unicodeScalars)
        for _ in 0..<2000 {
            var target = ""
            for _ in 0..<Int.random(in: 0...30, using: &generator) {
                target.unicodeScalars.append(alphabet.randomElement(using: &generator) ?? "a")
            }
            let record = ExchangeRecord(
                id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
                request: RequestHead(method: "GET", target: target, headers: [target: target]))
            let json = try #require(jsonObject(encoder.encode(record)), "target \(target.debugDescription)")
            #expect((json["request"] as? [String: Any])?["url"] as? String == target)
        }
    }
}

@Suite("JSON line separators")
struct JSONLineSeparatorTests {
    private func encoded(_ text: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.string(text)
        return writer.bytes
    }

    @Test func lineAndParagraphSeparatorsAreEscapedOtherE2SequencesAreNot() throws {
        let text = "a\u{2028}b\u{2029}c — “d” € \u{2028}"
        let bytes = encoded(text)
        #expect(String(decoding: bytes, as: UTF8.self) == #""a\u2028b\u2029c — “d” € \u2028""#)
        // Python's splitlines (and JavaScript before ES2019) would cut a raw one.
        #expect(String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).count == 1)
        let decoded = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? String
        #expect(decoded == text)
    }

    @Test func generatedStringsNeverHoldARawSeparatorAndDecodeToThemselves() throws {
        var random = SeededGenerator(seed: 0x2028)
        let pieces: [String] = [
            "\u{2028}", "\u{2029}", "\u{2027}", "\u{202A}", "—", "€", "a", "\"", "\\", "\n", "\u{1}", "é", "😀", "\u{E2}",
        ]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let bytes = encoded(text)
            #expect(!Self.holdsRawSeparator(bytes))
            let decoded = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? String
            #expect(decoded == text)
        }
    }

    private static func holdsRawSeparator(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 3 else { return false }
        for index in 0..<(bytes.count - 2) where bytes[index] == 0xE2 && bytes[index + 1] == 0x80 {
            if bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 { return true }
        }
        return false
    }

    @Test func anEmbeddedJSONBodyHasItsSeparatorsEscaped() throws {
        let body = Array(#"{"note":"x"#.utf8) + [0xE2, 0x80, 0xA8] + Array(#"y","n":[1,"—"]}"#.utf8)
        var writer = JSONWriter()
        writer.embeddedJSON(body[...])
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"note":"x\u2028y","n":[1,"—"]}"#)
    }
}
