import Foundation
import Testing
@testable import APIMetrics

/// Gaps a review found in redaction that fails closed (issue 25, finding
/// 5): text in UTF-16/32 without a byte order mark, transfer codings,
/// multipart bodies, XML namespaces and CDATA, run-together key names,
/// padded card numbers, more URL-valued headers.
@Suite("Redaction gaps")
struct RedactionGapsTests {
    static let marker = "[REDACTED: body could not be parsed]"

    private func redacted(
        _ body: [UInt8], _ headers: HeaderFields, isTruncated: Bool = false, options: RedactionOptions = .default
    ) -> CapturedBody {
        var record = ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: "/", headers: headers),
            requestBody: CapturedBody(bytes: body, size: body.count, isTruncated: isTruncated),
            response: ResponseHead(status: 200, headers: [:]), responseBody: .empty)
        Redactor(options: options, maxDecodedBytes: 64 * 1024).redact(&record)
        return record.requestBody
    }

    private func text(_ body: CapturedBody) -> String { String(decoding: body.bytes, as: UTF8.self) }

    private func encoded(_ text: String, _ encoding: String.Encoding) throws -> [UInt8] {
        Array(try #require(text.data(using: encoding)))
    }

    // MARK: a. UTF-16/32 without a byte order mark

    @Test func utf16And32TextWithoutAMarkIsDecodedWhateverItHolds() throws {
        let cases: [(String, String, String.Encoding, String, String)] = [
            (
                "application/x-www-form-urlencoded", "user=ann&password=s1", .utf16LittleEndian, "user=ann&password=[REDACTED]",
                "utf-16le"
            ),
            (
                "application/soap+xml", "<Envelope><Password>s2</Password></Envelope>", .utf16BigEndian,
                "<Envelope><Password>[REDACTED]</Password></Envelope>", "utf-16be"
            ),
            ("text/plain", "client_secret: s3\n", .utf32LittleEndian, "client_secret: [REDACTED]\n", "utf-32le"),
            ("text/plain", "token=s4 é", .utf32BigEndian, "token=[REDACTED] é", "utf-32be"),
        ]
        for (type, plain, encoding, expected, note) in cases {
            let body = redacted(try encoded(plain, encoding), ["Content-Type": type])
            #expect(text(body) == expected, "\(note) \(type)")
            #expect(body.decodedFrom == note)
        }
    }

    @Test func utf16WithoutAMarkThatDoesNotDecodeIsTheMarker() throws {
        // `p=1` then a lone high surrogate, in UTF-16LE; and UTF-32LE past U+10FFFF.
        let loneSurrogate: [UInt8] = [0x70, 0, 0x3D, 0, 0x31, 0, 0x00, 0xD8, 0x41, 0]
        #expect(text(redacted(loneSurrogate, ["Content-Type": "text/plain"])) == Self.marker)
        #expect(
            text(redacted(loneSurrogate, HeaderFields([("Content-Type", "image/png"), ("Content-Type", "text/plain")])))
                == Self.marker)
        // Untyped or binary: zero bytes are common there, and only JSON is
        // taken for UTF-16/32 without a mark.
        #expect(redacted(loneSurrogate, [:]).bytes == loneSurrogate)
        #expect(redacted(loneSurrogate, ["Content-Type": "application/octet-stream"]).bytes == loneSurrogate)
        let json = try encoded(#"{"password":"s6"}"#, .utf16LittleEndian)
        #expect(text(redacted(json, ["Content-Type": "application/octet-stream"])) == #"{"password":"[REDACTED]"}"#)
        let beyond: [UInt8] = [0x41, 0, 0, 0, 0, 0, 0x11, 0]
        #expect(text(redacted(beyond, ["Content-Type": "application/xml"])) == Self.marker)
        // An odd length is a cut tail only when the capture cut the body.
        let odd = try encoded("password=s5", .utf16LittleEndian) + [0x41]
        #expect(text(redacted(odd, ["Content-Type": "text/plain"])) == Self.marker)
        let cut = redacted(odd, ["Content-Type": "text/plain"], isTruncated: true)
        #expect(text(cut) == "password=[REDACTED]")
    }

    // MARK: b. Transfer codings

    @Test func transferCodingsOtherThanChunkedAreUndoneFirst() throws {
        let login = Array(#"{"user":"ann","password":"s1"}"#.utf8)
        let expected = #"{"user":"ann","password":"[REDACTED]"}"#
        let gzip = try Gzip.compress(login)
        let cases: [([UInt8], HeaderFields, String)] = [
            (gzip, ["Content-Type": "application/json", "Transfer-Encoding": "gzip, chunked"], "gzip"),
            (gzip, ["Content-Type": "text/plain", "Transfer-Encoding": "GZIP ;q=1,chunked"], "gzip"),
            (
                gzip,
                HeaderFields([
                    ("Content-Type", "application/json"), ("Transfer-Encoding", "gzip"),
                    ("Transfer-Encoding", "chunked"),
                ]), "gzip"
            ),
            (
                try Gzip.compress(gzip),
                [
                    "Content-Type": "application/json", "Content-Encoding": "gzip",
                    "Transfer-Encoding": "gzip, chunked",
                ], "gzip, gzip"
            ),
            (login, ["Content-Type": "application/json", "Transfer-Encoding": "identity, chunked"], ""),
        ]
        for (bytes, headers, note) in cases {
            let body = redacted(bytes, headers)
            #expect(text(body) == expected, "\(headers)")
            #expect(body.decodedFrom == (note.isEmpty ? nil : note), "\(headers)")
        }
        #expect(
            BodyDecoding.contentCodings(of: ["Content-Encoding": "deflate", "Transfer-Encoding": "gzip, chunked"])
                == ["deflate", "gzip"])
        for coding in ["br, chunked", "compress, chunked", "gzip, gzip, chunked"] {
            let body = redacted(
                gzip, ["Content-Type": "application/json", "Content-Encoding": "gzip", "Transfer-Encoding": coding])
            #expect(text(body) == Self.marker, "\(coding)")
        }
    }

    // MARK: c. Multipart

    private func multipart(
        _ parts: [(headers: String, content: String)], boundary: String = "XyZ-42",
        preamble: String = "", epilogue: String = ""
    ) -> [UInt8] {
        var body = preamble.isEmpty ? "" : preamble + "\r\n"
        for part in parts { body += "--\(boundary)\r\n\(part.headers)\r\n\r\n\(part.content)\r\n" }
        body += "--\(boundary)--\r\n" + epilogue
        return Array(body.utf8)
    }

    @Test func multipartPartsNamedAsSecretsAreHidden() throws {
        let body = multipart(
            [
                (#"Content-Disposition: form-data; name="user""#, "ann"),
                (#"Content-Disposition: form-data; name="password""#, "s1\r\nwith a line"),
                (#"content-disposition: form-data; filename="a.txt"; name=user[password]"#, "s2"),
                (#"Content-Disposition: form-data; name*=UTF-8''pass%77ord"#, "s3"),
                ("Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json", #"{"token":"s4","n":1}"#),
                (#"Content-Disposition: form-data; name="note""#, "api_key=s5 and 4111 1111 1111 1111"),
                (#"Content-Disposition: form-data; name="filename""#, "--XyZ-4 is not the boundary"),
                (#"Content-Disposition: form-data; name="empty""#, ""),
            ], preamble: "preamble token=s6", epilogue: "epilogue password=s7")
        for type in [
            "multipart/form-data; boundary=XyZ-42", #"Multipart/Form-Data; charset=utf-8; boundary="XyZ-42""#,
            "multipart/mixed;boundary=XyZ-42",
        ] {
            let result = text(redacted(body, ["Content-Type": type]))
            for secret in ["s1", "with a line", "s2", "s3", "s4", "s5", "4111", "s6", "s7"] {
                #expect(!result.contains(secret), "\(secret) in \(type)")
            }
            #expect(result.contains("\r\n\r\nann\r\n--XyZ-42\r\n"))
            #expect(result.contains(#"name="password""# + "\r\n\r\n[REDACTED]\r\n--XyZ-42"))
            #expect(result.contains(#"{"token":"[REDACTED]","n":1}"#))
            #expect(result.contains("--XyZ-4 is not the boundary"))
            #expect(result.hasSuffix("--XyZ-42--\r\nepilogue password=[REDACTED]"))
        }
    }

    @Test func multipartThatDoesNotSplitIsTheMarker() {
        let body = multipart([(#"Content-Disposition: form-data; name="password""#, "s1")])
        let types = [
            "multipart/form-data", "multipart/form-data; boundary=other", "multipart/form-data; boundary=",
            "multipart/form-data; boundary=" + String(repeating: "b", count: 71),
            "multipart/form-data; boundary=\"XyZ-42\r\"",
        ]
        for type in types {
            #expect(text(redacted(body, ["Content-Type": type])) == Self.marker, "\(type)")
        }
        // Two types naming different boundaries.
        let two = HeaderFields([
            ("Content-Type", "multipart/form-data; boundary=XyZ-42"),
            ("Content-Type", "multipart/form-data; boundary=other"),
        ])
        #expect(text(redacted(body, two)) == Self.marker)
        let type: HeaderFields = ["Content-Type": "multipart/form-data; boundary=XyZ-42"]
        // Unterminated, LF line ends, a part whose headers never end.
        let unterminated = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "--XyZ-42--\r\n", with: "").utf8)
        #expect(text(redacted(unterminated, type)) == Self.marker)
        let lf = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
        #expect(text(redacted(lf, type)) == Self.marker)
        let endless = Array(
            ("--XyZ-42\r\nContent-Disposition: form-data; name=\"a\"" + String(repeating: "x", count: 20_000)).utf8)
        #expect(text(redacted(endless, type)) == Self.marker)
        // A bare LF where a lenient server could see a line end: before a
        // delimiter inside a part's content, or in a part's headers.
        let hiddenPart = multipart([
            (
                #"Content-Disposition: form-data; name="note""#,
                "x\n--XyZ-42\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\ns3"
            )
        ])
        #expect(text(redacted(hiddenPart, type)) == Self.marker)
        let bareLF = multipart([("X-A: 1\nContent-Disposition: form-data; name=\"password\"", "s4")])
        #expect(text(redacted(bareLF, type)) == Self.marker)
        let bareCR = multipart([("Content-Disposition: form-data; name=\"note\"\r\n\rs5", "x")])
        #expect(text(redacted(bareCR, type)) == Self.marker)
        // Too many parts.
        let many = multipart(
            Array(repeating: (#"Content-Disposition: form-data; name="a""#, "1"), count: MultipartBody.maxParts + 1))
        #expect(text(redacted(many, type)) == Self.marker)
        // Nested past the limit.
        let inner = multipart([(#"Content-Disposition: form-data; name="password""#, "s2")], boundary: "in")
        let nested = multipart([
            (
                "Content-Type: multipart/mixed; boundary=mid",
                String(
                    decoding: multipart(
                        [("Content-Type: multipart/mixed; boundary=in", String(decoding: inner, as: UTF8.self))], boundary: "mid"),
                    as: UTF8.self)
            )
        ])
        let nestedText = text(redacted(nested, type))
        #expect(!nestedText.contains("s2") && nestedText.contains(Self.marker))
        // A part coded as base64 is not read.
        let coded = multipart([
            ("Content-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64", "cGFzc3dvcmQ9czM=")
        ])
        #expect(text(redacted(coded, type)).contains("\r\n\r\n" + Self.marker + "\r\n"))
    }

    @Test func multipartCutAtTheCaptureLimitIsReadAsFarAsItGoes() {
        let body = multipart([
            (#"Content-Disposition: form-data; name="user""#, "ann"),
            (#"Content-Disposition: form-data; name="password""#, "s1-long-secret"),
        ])
        let type: HeaderFields = ["Content-Type": "multipart/form-data; boundary=XyZ-42"]
        let whole = String(decoding: body, as: UTF8.self)
        let secretStart = whole.utf8.count - whole.components(separatedBy: "s1-long")[1].utf8.count - "s1-long".utf8.count
        for cut in [secretStart + 3, secretStart - 10, 12, 9] {
            let result = text(redacted(Array(body.prefix(cut)), type, isTruncated: true))
            #expect(result != Self.marker, "\(cut)")
            #expect(!result.contains("s1-"), "\(cut)")
        }
        #expect(text(redacted(Array(body.prefix(secretStart + 3)), type)) == Self.marker)
    }

    @Test func generatedMultipartHidesEverySecretPartAndKeepsTheOthers() {
        let secretHeaders = [
            #"Content-Disposition: form-data; name="password""#, "Content-Disposition: form-data; name=password",
            #"Content-Disposition: form-data; filename="f.txt"; name="user[password]""#,
            "Content-Disposition: form-data; name*=UTF-8''pass%77ord", #"content-disposition: form-data; NAME="Api-Key""#,
            "Content-Type: text/plain\r\nContent-Disposition: form-data; name=\"token\"",
        ]
        let otherHeaders = [
            #"Content-Disposition: form-data; name="note""#,
            "Content-Disposition: form-data; name=\"f\"; filename=\"password.txt\"", "",
        ]
        let pieces = ["--b", "\r\n", "--", "\"", "\\", " ", "name=", "x", "\r", "<p>", "{", "é"]
        var state: UInt64 = 0xBADC0DE
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        func filler() -> String {
            let text = (0..<(next() % 6)).map { _ in pieces[next() % pieces.count] }.joined()
            return text.contains("\r\n--b") || text.hasSuffix("\r") ? "" : text
        }
        let type: HeaderFields = ["Content-Type": "multipart/form-data; boundary=b"]
        for round in 0..<400 {
            var parts: [(headers: String, content: String)] = []
            var kept: [String] = []
            for index in 0..<(1 + next() % 5) {
                if next() % 2 == 0 {
                    parts.append((secretHeaders[next() % secretHeaders.count], filler() + "SECRET\(index)" + filler()))
                } else {
                    let value = "ok\(round)x\(index)"
                    kept.append(value)
                    parts.append((otherHeaders[next() % otherHeaders.count], value + filler()))
                }
            }
            let body = multipart(parts, boundary: "b")
            let cut = next() % 3 == 0 ? next() % (body.count + 1) : body.count
            let result = text(redacted(Array(body.prefix(cut)), type, isTruncated: cut < body.count))
            #expect(!result.contains("SECRET"), "\(String(decoding: body, as: UTF8.self).debugDescription)")
            if cut == body.count {
                for value in kept { #expect(result.contains(value), "\(value) in \(result.debugDescription)") }
            }
        }
    }

    // MARK: d. XML namespaces and CDATA

    @Test func xmlQualifiedNamesAndCDATAAreRedacted() {
        let cases: [(String, String)] = [
            (
                "<wsse:UsernameToken><wsse:Username>ann</wsse:Username><wsse:Password Type=\"t\">s1</wsse:Password></wsse:UsernameToken>",
                "<wsse:UsernameToken><wsse:Username>ann</wsse:Username><wsse:Password Type=\"t\">[REDACTED]</wsse:Password></wsse:UsernameToken>"
            ),
            ("<a:b:token>s2</a:b:token>", "<a:b:token>[REDACTED]</a:b:token>"),
            ("<password><![CDATA[s3]]></password>", "<password><![CDATA[[REDACTED]]]></password>"),
            ("<password>\n  <![CDATA[s4 <x> ]]>\n</password>", "<password>\n  <![CDATA[[REDACTED]]]>\n</password>"),
            ("<ns:Secret>a<![CDATA[s5]]>b</ns:Secret>", "<ns:Secret>[REDACTED]<![CDATA[[REDACTED]]]>[REDACTED]</ns:Secret>"),
            ("<password><![CDATA[s6", "<password><![CDATA[[REDACTED]"),
            ("<Auth wsse:Password=\"s7\" ns:user=\"ann\"/>", "<Auth wsse:Password=\"[REDACTED]\" ns:user=\"ann\"/>"),
            (
                "<ns:user>ann</ns:user><ns:note><![CDATA[kept]]></ns:note>",
                "<ns:user>ann</ns:user><ns:note><![CDATA[kept]]></ns:note>"
            ),
            ("<token:>x</token:>", "<token:>[REDACTED]</token:>"),
        ]
        for (body, expected) in cases {
            #expect(text(redacted(Array(body.utf8), ["Content-Type": "application/xml"])) == expected, "\(body)")
        }
    }

    // MARK: e. Run-together key names

    static let runTogether = ["clientkey", "appkey", "authkey", "sessionkey", "subscriptionkey", "masterkey", "apikeys"]

    @Test(arguments: runTogether)
    func runTogetherKeyNamesAreSecrets(name: String) {
        let body = redacted(
            Array(#"{"\#(name)":"s1","monkey":"m","turnkey":"t","hotkey":"h"}"#.utf8), ["Content-Type": "application/json"])
        #expect(text(body) == #"{"\#(name)":"[REDACTED]","monkey":"m","turnkey":"t","hotkey":"h"}"#)
        var record = ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(
                method: "GET", target: "/p?\(name)=s2&x=1",
                headers: ["X-\(name)": "s3", "X-Functions-Key": "s4", "X-Application-Key": "s5", "X-Keyboard": "k"]),
            requestBody: .empty, response: nil, responseBody: .empty)
        Redactor(options: .default).redact(&record)
        #expect(record.request.target == "/p?\(name)=[REDACTED]&x=1")
        #expect(record.request.headers["x-\(name)"] == "[REDACTED]")
        #expect(record.request.headers["x-functions-key"] == "[REDACTED]")
        #expect(record.request.headers["x-application-key"] == "[REDACTED]")
        #expect(record.request.headers["x-keyboard"] == "k")
    }

    // MARK: f. Padded card numbers

    @Test func cardNumbersWithBlankSpaceAroundThemAreMasked() throws {
        let json =
            #"{"a":" 4111 1111 1111 1111 ","b":"  4111111111111111","c":"4111111111111111 ","d":" 4111111111111112 ","e":"   "}"#
        let expected = #"{"a":"[REDACTED]","b":"[REDACTED]","c":"[REDACTED]","d":" 4111111111111112 ","e":"   "}"#
        #expect(text(redacted(Array(json.utf8), ["Content-Type": "application/json"])) == expected)
        // The tree (with a JSONPath) and the one pass agree.
        var options = RedactionOptions.default
        options.requestBody.paths = [try JSONPath("$.zz")]
        #expect(text(redacted(Array(json.utf8), ["Content-Type": "application/json"], options: options)) == expected)
        let padded = String(repeating: " ", count: 100) + "4111111111111111" + String(repeating: " ", count: 100)
        #expect(
            text(redacted(Array(#"{"a":"\#(padded)"}"#.utf8), ["Content-Type": "application/json"])) == #"{"a":"[REDACTED]"}"#)
        let form = redacted(
            Array("n=+4111+1111+1111+1111+&m=%204111111111111111%20&k=1".utf8),
            ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(text(form) == "n=[REDACTED]&m=[REDACTED]&k=1")
        #expect(CardNumber.matches(Substring("\t4111111111111111\r\n")))
        #expect(!CardNumber.matches(Substring(" 4111 1111 1111 1111 x")))
    }

    // MARK: g. More URL-valued headers

    @Test func moreURLValuedHeadersAreRedacted() {
        var record = ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(
                method: "GET", target: "/",
                headers: [
                    "X-Original-URI": "/a?token=s1", "X-Forwarded-Uri": "/b?x=1&api_key=s2",
                    "X-Envoy-Original-Path": "/c;jsessionid=s3",
                ]),
            requestBody: .empty, response: nil, responseBody: .empty)
        Redactor(options: .default).redact(&record)
        #expect(record.request.headers["x-original-uri"] == "/a?token=[REDACTED]")
        #expect(record.request.headers["x-forwarded-uri"] == "/b?x=1&api_key=[REDACTED]")
        #expect(record.request.headers["x-envoy-original-path"] == "/c;jsessionid=[REDACTED]")
    }
}
