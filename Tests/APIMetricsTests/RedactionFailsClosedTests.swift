import Foundation
import Testing
@testable import APIMetrics

/// A captured body is redacted by its structure or replaced by the marker,
/// never kept as sent because it could not be read (issue 25, finding 5).
@Suite("Redaction fails closed")
struct RedactionFailsClosedTests {
    static let marker = "[REDACTED: body could not be parsed]"
    static let login = #"{"user":"ann","password":"hunter2","card":{"number":"4111 1111 1111 1111"},"pan":5555555555554444}"#
    static let redactedLogin = #"{"user":"ann","password":"[REDACTED]","card":{"number":"[REDACTED]"},"pan":"[REDACTED]"}"#

    private func exchange(_ body: [UInt8], headers: HeaderFields, isTruncated: Bool = false) -> ExchangeRecord {
        ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: "/", headers: headers),
            requestBody: CapturedBody(bytes: body, size: body.count, isTruncated: isTruncated),
            response: ResponseHead(status: 200, headers: [:]), responseBody: .empty)
    }

    private func redacted(
        _ body: [UInt8], _ headers: HeaderFields, isTruncated: Bool = false, maxDecodedBytes: Int = 64 * 1024
    ) -> CapturedBody {
        var record = exchange(body, headers: headers, isTruncated: isTruncated)
        Redactor(options: .default, maxDecodedBytes: maxDecodedBytes).redact(&record)
        return record.requestBody
    }

    private func text(_ body: CapturedBody) -> String { String(decoding: body.bytes, as: UTF8.self) }

    private func zlib(_ bytes: [UInt8]) throws -> [UInt8] {
        // A gzip stream's deflate data, wrapped as zlib (RFC 1950).
        let gzip = try Gzip.compress(bytes)
        let raw = Array(gzip[10..<(gzip.count - 8)])
        var adler: (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            adler.0 = (adler.0 + UInt32(byte)) % 65521
            adler.1 = (adler.1 + adler.0) % 65521
        }
        let sum = adler.1 << 16 | adler.0
        return [0x78, 0x9C] + raw + [UInt8(sum >> 24), UInt8(sum >> 16 & 0xFF), UInt8(sum >> 8 & 0xFF), UInt8(sum & 0xFF)]
    }

    @Test func gzipAndDeflateBodiesAreDecodedThenRedacted() throws {
        let plain = Array(Self.login.utf8)
        let gzip = try Gzip.compress(plain)
        let raw = Array(gzip[10..<(gzip.count - 8)])
        let cases: [([UInt8], String, String)] = [
            (gzip, "gzip", "gzip"), (gzip, "x-gzip", "x-gzip"), (try zlib(plain), "deflate", "deflate"),
            (raw, "Deflate", "deflate"), (try Gzip.compress(gzip), "gzip, gzip", "gzip, gzip"),
            (gzip, "identity, gzip", "gzip"),
        ]
        for (bytes, coding, note) in cases {
            let body = redacted(bytes, ["Content-Type": "application/json", "Content-Encoding": coding])
            #expect(text(body) == Self.redactedLogin, "\(coding)")
            #expect(body.decodedFrom == note)
            #expect(body.size == bytes.count)
        }
    }

    @Test func undecodableCodingsAreTheMarker() throws {
        let gzip = try Gzip.compress(Array(Self.login.utf8))
        let cases: [([UInt8], String)] = [
            (gzip, "br"), (gzip, "zstd"), (gzip, "compress"), (gzip, "x-unknown"),
            (try Gzip.compress(try Gzip.compress(gzip)), "gzip, gzip, gzip"),
            (Array(Self.login.utf8), "gzip"), (gzip + [0x1F, 0x8B, 0, 0], "gzip"),
            (Array(gzip.dropLast(20)), "gzip"),
        ]
        for (bytes, coding) in cases {
            for type in ["application/json", "text/plain", "application/xml"] {
                let body = redacted(bytes, ["Content-Type": type, "Content-Encoding": coding])
                #expect(text(body) == Self.marker, "\(coding) \(type)")
            }
        }
    }

    @Test func aCompressionBombIsTheMarker() throws {
        var bomb = Array(#"{"a":""#.utf8)
        bomb += [UInt8](repeating: UInt8(ascii: "0"), count: 4 * 1024 * 1024)
        bomb += Array(#""}"#.utf8)
        let compressed = try Gzip.compress(bomb, level: 9)
        #expect(compressed.count < 16 * 1024)
        let body = redacted(
            compressed, ["Content-Type": "application/json", "Content-Encoding": "gzip"], maxDecodedBytes: 64 * 1024)
        #expect(text(body) == Self.marker)
        #expect(throws: Gzip.InflateFailure.tooLarge) { try Gzip.inflate(compressed, framing: .gzip, maxOutput: 1 << 20) }
    }

    @Test func inflateRoundTripsGeneratedPayloadsAndKeepsItsLimit() throws {
        var state: UInt64 = 0xC0FFEE
        for round in 0..<60 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let count = Int(state >> 50)
            let payload = (0..<count).map { index in
                UInt8(truncatingIfNeeded: (state >> UInt64(index % 7)) &+ UInt64(index % (round + 1)))
            }
            let gzip = try Gzip.compress(payload)
            let whole = try Gzip.inflate(gzip, framing: .gzip, maxOutput: count)
            #expect(whole.bytes == payload && whole.isComplete)
            if count > 0 {
                #expect(throws: Gzip.InflateFailure.tooLarge) { try Gzip.inflate(gzip, framing: .gzip, maxOutput: count - 1) }
            }
            // Cut anywhere: a prefix of the payload, or refused; never more.
            let cut = Int(state % UInt64(gzip.count))
            if let partial = try? Gzip.inflate(Array(gzip[..<cut]), framing: .gzip, maxOutput: count) {
                #expect(payload.starts(with: partial.bytes))
            }
            // Hostile bytes under a gzip label never crash and never pass through.
            var garbled = gzip
            garbled[Int(state % UInt64(garbled.count))] ^= 0x5A
            let body = redacted(garbled, ["Content-Encoding": "gzip", "Content-Type": "text/plain"])
            #expect(!body.bytes.isEmpty)
        }
    }

    @Test func aGzipBodyCutAtTheCaptureLimitIsReadAsFarAsItGoes() throws {
        let text = "password=hunter2 lorem ipsum " + (0..<3000).map { String($0 &* 7919 % 10007) }.joined(separator: " ")
        let gzip = try Gzip.compress(Array(text.utf8))
        let body = redacted(
            Array(gzip.prefix(gzip.count / 2)), ["Content-Type": "text/plain", "Content-Encoding": "gzip"], isTruncated: true)
        #expect(self.text(body).hasPrefix("password=[REDACTED] lorem ipsum"))
        #expect(body.isTruncated && body.decodedFrom == "gzip")
    }

    @Test(arguments: [
        (String.Encoding.utf16LittleEndian, [UInt8](), "utf-16le"), (.utf16LittleEndian, [0xFF, 0xFE], "utf-16le"),
        (.utf16BigEndian, [], "utf-16be"), (.utf16BigEndian, [0xFE, 0xFF], "utf-16be"),
        (.utf32LittleEndian, [], "utf-32le"), (.utf32LittleEndian, [0xFF, 0xFE, 0, 0], "utf-32le"),
        (.utf32BigEndian, [], "utf-32be"), (.utf32BigEndian, [0, 0, 0xFE, 0xFF], "utf-32be"),
    ])
    func utf16AndUTF32JSONIsDecodedThenRedacted(encoding: String.Encoding, mark: [UInt8], note: String) throws {
        let json = #"{"name":"Zoë 🎉","password":"hunter2"}"#
        let bytes = mark + Array(try #require(json.data(using: encoding)))
        for type: String? in ["application/json", "text/plain", nil] {
            var headers: HeaderFields = [:]
            if let type { headers.append(name: "Content-Type", value: type) }
            let body = redacted(bytes, headers)
            #expect(text(body) == #"{"name":"Zoë 🎉","password":"[REDACTED]"}"#, "\(note) \(type ?? "none")")
            #expect(body.decodedFrom == note)
        }
    }

    @Test func invalidUTF16WithAByteOrderMarkIsTheMarker() {
        // A lone high surrogate.
        let bytes: [UInt8] = [0xFF, 0xFE, 0x7B, 0, 0x00, 0xD8, 0x7D, 0]
        #expect(text(redacted(bytes, ["Content-Type": "application/json"])) == Self.marker)
    }

    @Test func jsonIsFoundWhateverTheDeclaredType() {
        let cases: [HeaderFields] = [
            ["Content-Type": "text/plain"], ["Content-Type": "application/x-ndjson"], [:],
            HeaderFields([("Content-Type", "text/plain"), ("Content-Type", "application/json")]),
            HeaderFields([("Content-Type", "text/plain;charset=UTF-8"), ("Content-Type", "text/html")]),
            ["Content-Type": "application/xml"], ["Content-Type": "application/octet-stream"],
        ]
        for headers in cases {
            for prefix in ["", "\u{FEFF}", " \r\n\t"] {
                let body = redacted(Array((prefix + Self.login).utf8), headers)
                #expect(text(body) == prefix + Self.redactedLogin, "\(headers)")
            }
        }
    }

    @Test func ndjsonIsRedactedLineByLine() {
        let lines = #"{"a":1,"token":"t1"}"# + "\n\n" + #"[{"password":"p2"}]"# + "\r\n" + #"{"pan":"4111111111111111"}"#
        let expected =
            #"{"a":1,"token":"[REDACTED]"}"# + "\n\n" + #"[{"password":"[REDACTED]"}]"# + "\r\n" + #"{"pan":"[REDACTED]"}"#
        for type in ["application/x-ndjson", "text/plain", "application/jsonl"] {
            #expect(text(redacted(Array(lines.utf8), ["Content-Type": type])) == expected, "\(type)")
        }
        let broken = #"{"a":1}"# + "\n" + #"{"password":"p3""#
        #expect(text(redacted(Array(broken.utf8), ["Content-Type": "application/x-ndjson"])) == #"{"a":1}"# + "\n" + Self.marker)
        #expect(!text(redacted(Array(broken.utf8), ["Content-Type": "text/plain"])).contains("p3"))
    }

    @Test func textualFormsAreRedacted() {
        let cases: [(String, String, String)] = [
            (
                "application/xml", "<login><user>ann</user><password>s1</password></login>",
                "<login><user>ann</user><password>[REDACTED]</password></login>"
            ),
            (
                "application/soap+xml", #"<Auth ApiKey="s2" user='ann'><Token kind="x">s3</Token></Auth>"#,
                #"<Auth ApiKey="[REDACTED]" user='ann'><Token kind="x">[REDACTED]</Token></Auth>"#
            ),
            (
                "application/graphql", #"mutation { login(user: "ann", password: "s4\"x") { accessToken } }"#,
                #"mutation { login(user: "ann", password: "[REDACTED]") { accessToken } }"#
            ),
            ("text/csv", "user,note\nann,password=s5;pin=1234\n", "user,note\nann,password=[REDACTED];pin=[REDACTED]\n"),
            (
                "text/csv", "user,\"Password\",note\r\nann,s8,\"a,b\"\r\n\"bob, jr\",s9,\r\nx",
                "user,\"Password\",note\r\nann,[REDACTED],\"a,b\"\r\n\"bob, jr\",[REDACTED],\r\nx"
            ),
            ("text/tab-separated-values", "id\tapi_key\n1\ts10\n", "id\tapi_key\n1\t[REDACTED]\n"),
            ("text/plain", "client_secret: s6\nname: ann", "client_secret: [REDACTED]\nname: ann"),
            ("text/plain", #"{"user":"ann","password":"s7","cut"#, #"{"user":"ann","password":"[REDACTED]","cut"#),
            (
                "text/plain", "card 4111-1111-1111-1111 exp 12/29, ref 4111-1111-1111-1112",
                "card [REDACTED] exp 12/29, ref 4111-1111-1111-1112"
            ),
            ("text/html", "<p>keyboard=qwerty monkey: 1 author=ann</p>", "<p>keyboard=qwerty monkey: 1 author=ann</p>"),
        ]
        for (type, body, expected) in cases {
            #expect(text(redacted(Array(body.utf8), ["Content-Type": type])) == expected, "\(type)")
        }
    }

    @Test func cardNumbersAreMaskedInJSONWhateverTheirName() {
        let body =
            #"{"a":"4111111111111111","b":4111111111111111,"c":"4111 1111 1111 1111","d":"4111111111111112","#
            + #""e":"378282246310005","f":41111111111111110000,"g":"4111  1111 1111 1111","h":-4111111111111111,"i":[6011111111111117]}"#
        let expected =
            #"{"a":"[REDACTED]","b":"[REDACTED]","c":"[REDACTED]","d":"4111111111111112","#
            + #""e":"[REDACTED]","f":41111111111111110000,"g":"4111  1111 1111 1111","h":-4111111111111111,"i":["[REDACTED]"]}"#
        #expect(text(redacted(Array(body.utf8), ["Content-Type": "application/json"])) == expected)
        // With JSONPaths the tree is rebuilt: cards are still masked.
        var options = RedactionOptions.default
        options.requestBody.paths = [try! JSONPath("$.zz")]
        var record = exchange(Array(#"{"n":4111111111111111,"s":"x"}"#.utf8), headers: ["Content-Type": "application/json"])
        Redactor(options: options).redact(&record)
        #expect(text(record.requestBody) == #"{"n":"[REDACTED]","s":"x"}"#)
    }

    @Test func theTextScannerNeverCrashesOnGeneratedBytes() {
        let pieces = [
            "password", "=", ":", "\"", "'", "<", ">", "</", "/", " ", "\n", "\\", "4111", "1111", "-", "token", "x", "[", "]",
            "é", "\u{0}",
        ]
        var state: UInt64 = 0xFEED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let fields = NameSet(RedactionOptions.defaultFields)
        for _ in 0..<4000 {
            let body = Array((0..<(next() % 24)).map { _ in pieces[next() % pieces.count] }.joined().utf8)
            let ranges = body.withUnsafeBufferPointer { TextSecretScanner.valuesToHide(in: $0, named: fields, masksCards: true) }
            var position = 0
            for range in ranges {
                #expect(range.lowerBound >= position && range.upperBound <= body.count && !range.isEmpty)
                position = range.upperBound
            }
        }
    }

    @Test func nothingIsDecodedOrHiddenWhenRedactionIsOff() throws {
        let gzip = try Gzip.compress(Array(Self.login.utf8))
        var record = exchange(gzip, headers: ["Content-Encoding": "gzip", "Content-Type": "application/json"])
        Redactor(options: .none).redact(&record)
        #expect(record.requestBody.bytes == gzip && record.requestBody.decodedFrom == nil)
    }
}
