import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Redaction")
struct RedactionTests {
    private func record(
        target: String = "/",
        requestHeaders: HeaderFields = [:],
        requestBody: String? = nil,
        requestType: String? = "application/json",
        responseHeaders: HeaderFields = [:],
        responseBody: String? = nil
    ) -> ExchangeRecord {
        var headers = requestHeaders
        if let requestType { headers.append(name: "Content-Type", value: requestType) }
        var response = responseHeaders
        response.append(name: "Content-Type", value: "application/json")
        return ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: target, headers: headers),
            requestBody: CapturedBody(bytes: Array((requestBody ?? "").utf8), size: requestBody?.utf8.count ?? 0),
            response: ResponseHead(status: 200, headers: response),
            responseBody: CapturedBody(bytes: Array((responseBody ?? "").utf8), size: responseBody?.utf8.count ?? 0))
    }

    private func body(_ captured: CapturedBody) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(captured.bytes))
    }

    @Test func defaultHeadersAreHiddenWithTheirNamesKept() {
        var event = record(
            requestHeaders: [
                "Authorization": "Bearer abc", "Cookie": "sid=1", "X-API-Key": "k", "X-Auth-Token": "t",
                "X-Client-Secret": "s", "X-Session-ID": "sess", "Accept": "*/*", "User-Agent": "curl/8",
            ], responseHeaders: ["Set-Cookie": "sid=2", "X-Request-ID": "r1"])
        Redactor(options: .default).redact(&event)
        let headers = event.request.headers
        for name in ["authorization", "cookie", "x-api-key", "x-auth-token", "x-client-secret", "x-session-id"] {
            #expect(headers[name] == "[REDACTED]", "\(name)")
        }
        #expect(headers["accept"] == "*/*")
        #expect(headers["user-agent"] == "curl/8")
        #expect(event.response?.headers["set-cookie"] == "[REDACTED]")
        #expect(event.response?.headers["x-request-id"] == "r1")
    }

    @Test func queryValuesAreHiddenInTheURLKeepingItsShape() {
        var event = record(target: "/search?q=shoes&api_key=K1&Token=T2&page=2&pass%77ord=P3&flag#frag")
        Redactor(options: .default).redact(&event)
        #expect(
            event.request.target == "/search?q=shoes&api_key=[REDACTED]&Token=[REDACTED]&page=2&pass%77ord=[REDACTED]&flag#frag")
    }

    @Test func jsonFieldsAreHiddenAtAnyDepthAndInArrays() throws {
        var event = record(
            requestBody:
                #"{"user":{"name":"ann","Password":"p1","cards":[{"card_number":"4111","cvv":123}]},"token":{"nested":"obj"},"note":"password"}"#
        )
        Redactor(options: .default).redact(&event)
        let json = try #require(body(event.requestBody) as? [String: Any])
        let user = try #require(json["user"] as? [String: Any])
        #expect(user["name"] as? String == "ann")
        #expect(user["Password"] as? String == "[REDACTED]")
        let card = try #require((user["cards"] as? [[String: Any]])?.first)
        #expect(card["card_number"] as? String == "[REDACTED]")
        #expect(card["cvv"] as? String == "[REDACTED]")
        #expect(json["token"] as? String == "[REDACTED]")
        #expect(json["note"] as? String == "password")
    }

    @Test func requestAndResponseRulesAreSeparate() throws {
        var options = RedactionOptions.default
        options.requestBody.paths = [try JSONPath("$.a")]
        options.responseBody = .init(fields: ["b"])
        var event = record(requestBody: #"{"a":1,"b":2}"#, responseBody: #"{"a":1,"b":2}"#)
        Redactor(options: options).redact(&event)
        #expect(String(decoding: event.requestBody.bytes, as: UTF8.self) == #"{"a":"[REDACTED]","b":2}"#)
        #expect(String(decoding: event.responseBody.bytes, as: UTF8.self) == #"{"a":1,"b":"[REDACTED]"}"#)
    }

    /// JSON is redacted as JSON whatever the type says: `text/plain` is
    /// what browsers send to avoid a CORS preflight.
    @Test(arguments: [
        "application/json", "Application/JSON; charset=utf-8", " text/json ;x=1", "application/problem+JSON", "+json",
        "application/jsonl", "text/plain", "application/x-ndjson", "application/octet-stream", "text/html",
    ])
    func aJSONBodyIsRedactedWhateverItsDeclaredType(type: String) {
        var event = record(requestBody: #"{"password":"hunter2"}"#, requestType: type)
        Redactor(options: .default).redact(&event)
        #expect(String(decoding: event.requestBody.bytes, as: UTF8.self) == #"{"password":"[REDACTED]"}"#, "\(type)")
    }

    @Test func formFieldsAreHidden() {
        var event = record(
            requestBody: "user=ann&password=hunter2&pwd=x&remember=1", requestType: "application/x-www-form-urlencoded")
        Redactor(options: .default).redact(&event)
        #expect(
            String(decoding: event.requestBody.bytes, as: UTF8.self) == "user=ann&password=[REDACTED]&pwd=[REDACTED]&remember=1")
    }

    @Test func anUnparseableJSONBodyIsReplacedByTheMarker() {
        var event = record(requestBody: #"{"password":"hunter2","cut":"#)
        event.requestBody.isTruncated = true
        Redactor(options: .default).redact(&event)
        #expect(String(decoding: event.requestBody.bytes, as: UTF8.self) == "[REDACTED: body could not be parsed]")
        #expect(event.requestBody.size == 28)
    }

    @Test func bodiesNoRuleCanReachAreLeftAsTheyAre() {
        var event = record(requestBody: "nothing to hide in plain text, not even a pass word", requestType: "text/plain")
        Redactor(options: .default).redact(&event)
        #expect(String(decoding: event.requestBody.bytes, as: UTF8.self) == "nothing to hide in plain text, not even a pass word")
        var broken = record(requestBody: "{not json")
        Redactor(options: .none).redact(&broken)
        #expect(String(decoding: broken.requestBody.bytes, as: UTF8.self) == "{not json")
    }

    @Test func untypedBodiesThatLookLikeJSONAreRedactedAsJSON() throws {
        var event = record(requestBody: #" {"secret":"s"}"#, requestType: nil)
        Redactor(options: .default).redact(&event)
        #expect(body(event.requestBody) as? [String: String] == ["secret": "[REDACTED]"])
    }

    /// A JSON body that begins with a UTF-8 byte order mark and has no
    /// Content-Type is still recognised as JSON, as the parser reads it.
    @Test func anUntypedJSONBodyAfterAByteOrderMarkIsRedacted() throws {
        var event = record(requestBody: "\u{FEFF}  {\"password\":\"hunter2\",\"item\":\"book\"}", requestType: nil)
        Redactor(options: .default).redact(&event)
        let text = String(decoding: event.requestBody.bytes, as: UTF8.self)
        #expect(!text.contains("hunter2") && text.contains("book"), "\(text)")
    }

    /// Names match after Unicode lowercasing; the shortcut that skips
    /// bodies holding no name must agree, backslash or not: U+212A KELVIN
    /// SIGN lowercases to k.
    @Test(arguments: [
        "{\"to\u{212A}en\":\"abc123\"}", "{\"to\u{212A}en\":\"abc123\",\"note\":\"a\\\\b\"}",
        "{\"TO\u{212A}EN\":\"abc123\"}", "{\"nested\":{\"PASSWORD\":\"abc123\"}}",
    ])
    func namesThatFoldToASecretAreCaughtWithOrWithoutABackslash(body: String) throws {
        var event = record(requestBody: body)
        Redactor(options: .default).redact(&event)
        let text = String(decoding: event.requestBody.bytes, as: UTF8.self)
        #expect(!text.contains("abc123"), "\(body) became \(text)")
    }

    @Test func theFoldingCheckFindsOnlyTheTwoCharacters() {
        func holds(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBufferPointer { NameSet.holdsASCIIFoldingCharacter($0) }
        }
        #expect(holds("a\u{212A}b") && holds("\u{0130}") && holds("xx\u{0130}"))
        #expect(!holds("") && !holds("plain ascii") && !holds("\u{2122}\u{0131}é☺") && !holds("\u{E2}\u{84}"))
    }

    @Test func theAllowlistKeepsOnlyTheNamedValues() throws {
        var options = RedactionOptions.default
        options.allowlist = ["id", "user-agent", "page", "items"]
        var event = record(
            target: "/x?page=2&q=secret",
            requestHeaders: ["User-Agent": "curl", "X-Other": "o"],
            requestBody: #"{"id":7,"name":"ann","items":[{"sku":"a"}],"meta":{"id":8,"x":"y"},"list":[1,"two"]}"#)
        Redactor(options: options).redact(&event)
        #expect(event.request.target == "/x?page=2&q=[REDACTED]")
        #expect(event.request.headers["user-agent"] == "curl")
        #expect(event.request.headers["x-other"] == "[REDACTED]")
        #expect(
            String(decoding: event.requestBody.bytes, as: UTF8.self)
                == #"{"id":7,"name":"[REDACTED]","items":[{"sku":"a"}],"meta":{"id":8,"x":"[REDACTED]"},"list":["[REDACTED]","[REDACTED]"]}"#
        )
    }

    @Test func customMatchersAndReplacement() {
        var options = RedactionOptions(headers: [.glob("x-*-sig"), .exact("x-exact")], replacement: "***")
        options.queryParameters = [.contains("secret")]
        var event = record(target: "/?my_secret_value=1&ok=2", requestHeaders: ["X-Hub-Sig": "a", "X-Exact": "b", "X-Sig": "c"])
        Redactor(options: options).redact(&event)
        #expect(event.request.headers["x-hub-sig"] == "***")
        #expect(event.request.headers["x-exact"] == "***")
        #expect(event.request.headers["x-sig"] == "c")
        #expect(event.request.target == "/?my_secret_value=***&ok=2")
    }

    @Test func generatedJSONRedactsToValidJSONIdempotentlyAndNeverThrows() throws {
        var generator = JSONGenerator()
        var options = RedactionOptions.default
        options.requestBody.paths = [try JSONPath("$..items[*].name"), try JSONPath("$.a[0]"), try JSONPath("$..*.b")]
        let redactor = Redactor(options: options)
        var allowlisting = options
        allowlisting.allowlist = ["id", "a"]
        let allowlistRedactor = Redactor(options: allowlisting)
        for _ in 0..<3000 {
            let source = generator.value().serialized
            for redactor in [redactor, allowlistRedactor] {
                var once = record(requestBody: String(decoding: source, as: UTF8.self))
                redactor.redact(&once)
                #expect(
                    (try? JSONSerialization.jsonObject(with: Data(once.requestBody.bytes), options: [.fragmentsAllowed])) != nil,
                    "invalid JSON from \(String(decoding: source, as: UTF8.self))")
                var twice = once
                redactor.redact(&twice)
                #expect(twice.requestBody.bytes == once.requestBody.bytes)
            }
        }
    }

    @Test func mutatedJSONNeverLeaksPastTheRules() throws {
        // Whatever the bytes, the result is valid JSON, or the marker, or —
        // when no rule could apply to it — the body as it came.
        var generator = JSONGenerator()
        let redactor = Redactor(options: .default)
        for _ in 0..<3000 {
            let source = generator.mutate(Array(#"{"user":{"password":"hunter2","list":[1,{"token":"t0k"}]},"ok":true}"#.utf8))
            var event = record(requestBody: String(decoding: source, as: UTF8.self))
            redactor.redact(&event)
            let text = String(decoding: event.requestBody.bytes, as: UTF8.self)
            let isJSON =
                (try? JSONSerialization.jsonObject(with: Data(event.requestBody.bytes), options: [.fragmentsAllowed])) != nil
            if text != "[REDACTED: body could not be parsed]" && !isJSON {
                // Sent as it came only when no rule could apply: no escape,
                // and none of the rule's names anywhere in it.
                let lowered = text.lowercased()
                #expect(event.requestBody.bytes == Array(String(decoding: source, as: UTF8.self).utf8))
                #expect(!text.contains("\\"))
                #expect(!lowered.contains("password") && !lowered.contains("token"))
            }
        }
    }

    @Test func hugeAndDeepBodiesCostBoundedWork() {
        // Deep enough to be refused, with a member a rule names at the bottom.
        let deep = String(repeating: "{\"a\":", count: 50_000) + "{\"password\":1}" + String(repeating: "}", count: 50_000)
        var event = record(requestBody: deep)
        Redactor(options: .default).redact(&event)
        #expect(String(decoding: event.requestBody.bytes, as: UTF8.self) == "[REDACTED: body could not be parsed]")
        let wide = "[" + Array(repeating: #"{"password":"p","x":1}"#, count: 20_000).joined(separator: ",") + "]"
        var large = record(requestBody: wide)
        Redactor(options: .default).redact(&large)
        #expect(!String(decoding: large.requestBody.bytes, as: UTF8.self).contains(#""p""#))
    }
}

/// The one-pass redactor of named fields against the tree it replaced
/// (still used for JSONPaths and the allowlist): on generated documents,
/// whole and mutated into invalid ones, both hide the same values and
/// refuse the same bytes.
@Suite("Redaction, one pass against the tree")
struct StreamingRedactionTests {
    private let onePass = Redactor(options: .default)
    /// A path that matches nothing sends every body down the tree's way.
    private let treeWay: Redactor = {
        var options = RedactionOptions.default
        options.requestBody.paths = [try! JSONPath("$.__matches_nothing__")]
        return Redactor(options: options)
    }()

    private func redact(_ bytes: [UInt8], tree: Bool) -> [UInt8] {
        var record = ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: "/", headers: ["Content-Type": "application/json"]),
            requestBody: CapturedBody(bytes: bytes, size: bytes.count))
        (tree ? treeWay : onePass).redact(&record)
        return record.requestBody.bytes
    }

    @Test func bothWaysHideTheSameValuesAndRefuseTheSameBytes() throws {
        var generator = JSONGenerator()
        var compared = 0, refused = 0
        for round in 0..<4000 {
            var document = generator.value().serialized
            if round % 3 == 0 { document = generator.mutate(document) }
            if round % 7 == 0 { document = Array("  \n".utf8) + document + Array("\t ".utf8) }
            let oneWay = redact(document, tree: false)
            let other = redact(document, tree: true)
            let oneParsed = try? JSONParser.parse(oneWay)
            let otherParsed = try? JSONParser.parse(other)
            if otherParsed == nil {
                // The tree refused it (the marker), so must the one pass,
                // unless no rule's name occurs in it at all: such a body is
                // left unparsed, as it was before.
                let untouchable =
                    !document.contains(UInt8(ascii: "\\"))
                    && !NameSet(RedactionOptions.default.requestBody.fields).mightOccur(in: document)
                #expect(
                    oneWay == other || (untouchable && oneWay == document),
                    "round \(round): \(String(decoding: document, as: UTF8.self))")
                refused += 1
            } else {
                #expect(
                    oneParsed == otherParsed,
                    "round \(round): \(String(decoding: document, as: UTF8.self)) → \(String(decoding: oneWay, as: UTF8.self)) vs \(String(decoding: other, as: UTF8.self))"
                )
                compared += 1
            }
        }
        #expect(compared > 1000 && refused > 100)
    }

    @Test(arguments: [
        #"{"password":{"nested":{"token":"x"}},"ok":1}"#, #"{"a":[{"Password":"x"},{"b":[{"token":"y"}]}]}"#,
        #"{"pass\u0077ord":"x"}"#, "{\"to\u{212A}en\":\"x\"}", #"{"password":"x","password":"y"}"#,
        #" { "password" : [ 1 , 2 ] , "z" : "keep" } "#, #"{"deep":[[[[{"secret":true}]]]]}"#,
    ])
    func hostileShapesAgree(document: String) throws {
        let bytes = Array(document.utf8)
        let oneWay = try JSONParser.parse(redact(bytes, tree: false))
        let other = try JSONParser.parse(redact(bytes, tree: true))
        #expect(oneWay == other, "\(document)")
        #expect(!String(decoding: redact(bytes, tree: false), as: UTF8.self).contains("\"x\""))
    }

    @Test func nestingPastTheLimitIsRefusedLikeTheTree() {
        let deep = Array((String(repeating: "[", count: 200) + #"{"password":1}"# + String(repeating: "]", count: 200)).utf8)
        #expect(redact(deep, tree: false) == redact(deep, tree: true))
    }
}
