import Foundation
import Testing
@testable import APIMetrics

/// Names matched by their words (issue 25, finding 5): every name seen to
/// slip past the old defaults is hidden, and look-alikes are not.
@Suite("Redaction names")
struct RedactionNamesTests {
    private func exchange(
        target: String = "/", headers: HeaderFields = [:], body: String? = nil, type: String? = "application/json"
    ) -> ExchangeRecord {
        var requestHeaders = headers
        if let type { requestHeaders.append(name: "Content-Type", value: type) }
        return ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: target, headers: requestHeaders),
            requestBody: CapturedBody(bytes: Array((body ?? "").utf8), size: body?.utf8.count ?? 0),
            response: ResponseHead(status: 200, headers: [:]), responseBody: .empty)
    }

    static let secretHeaders = [
        "X-Api_Key", "Private-Key", "X-Access-Key", "X-Passwd", "X-Pwd", "X-Api-Pass", "X-Client-Key", "X-Credentials",
        "X-Signature", "X-Hub-Signature-256", "X-Amz-Credential", "Ocp-Apim-Subscription-Key",
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-API-Key", "X-Auth-Token", "X-Client-Secret",
        "X-Session-ID", "X-CSRF-Token", "X-Amz-Security-Token",
    ]

    static let secretQueryNames = [
        "accessToken", "refreshToken", "clientSecret", "newPassword", "auth_token", "pw", "key", "sig", "signature",
        "code", "session_id", "jsessionid", "sessionid", "password[]", "user[password]", "X-Amz-Security-Token",
        "X-Amz-Signature", "AWSAccessKeyId", "Signature", "X-Goog-Signature", "api_key", "password", "token",
    ]

    static let secretFields = [
        "newPassword", "new_password", "currentPassword", "oldPassword", "password_confirmation", "accessToken",
        "refreshToken", "clientSecret", "privateKey", "pin", "otp", "cvv2", "security_code", "passphrase", "mfa_code",
        "passwordHash", "secretAnswer", "pan", "card_number", "cardNumber", "user[password]", "api-key", "ssn",
        "newpassword", "jsessionid", "Authorization", "id_token",
    ]

    static let ordinaryNames = [
        "keyboard", "monkey", "turnkey", "author", "authored_by", "passenger", "bypass_cache", "compass", "pinned",
        "spin", "tokenizer", "secretary", "span", "signal", "design", "opinion", "keys", "code_review",
        "content-type", "user", "name", "email", "id", "page", "sort",
    ]

    @Test(arguments: secretHeaders)
    func secretHeadersAreHiddenByDefault(name: String) {
        var record = exchange(headers: [name: "s3cr3t-\(name)"])
        Redactor(options: .default).redact(&record)
        #expect(record.request.headers[name] == "[REDACTED]", "\(name)")
    }

    @Test(arguments: secretQueryNames)
    func secretQueryParametersAreHiddenByDefault(name: String) {
        var record = exchange(target: "/p?page=2&\(name)=s3cr3tv4lue&sort=asc")
        Redactor(options: .default).redact(&record)
        #expect(record.request.target == "/p?page=2&\(name)=[REDACTED]&sort=asc", "\(name)")
    }

    @Test(arguments: secretFields)
    func secretJSONFieldsAreHiddenByDefault(name: String) {
        var record = exchange(body: #"{"outer":{"\#(name)":"s3cr3tv4lue","ok":1}}"#)
        Redactor(options: .default).redact(&record)
        #expect(String(decoding: record.requestBody.bytes, as: UTF8.self) == #"{"outer":{"\#(name)":"[REDACTED]","ok":1}}"#)
    }

    @Test(arguments: ordinaryNames)
    func lookAlikesAreNotHidden(name: String) {
        var record = exchange(target: "/p?\(name)=v1", headers: ["X-\(name)": "v2"], body: #"{"\#(name)":"v3"}"#)
        Redactor(options: .default).redact(&record)
        #expect(record.request.target == "/p?\(name)=v1")
        #expect(record.request.headers["X-\(name)"] == "v2")
        #expect(String(decoding: record.requestBody.bytes, as: UTF8.self) == #"{"\#(name)":"v3"}"#)
    }

    /// `key` and `code` alone, and `session` in any name, are credentials
    /// in a query or a header, not in a body.
    @Test func keyAndCodeAloneCountOnlyInAQuery() {
        var record = exchange(target: "/p?key=a&code=b", body: #"{"key":"k","code":"E42","session_count":3}"#)
        Redactor(options: .default).redact(&record)
        #expect(record.request.target == "/p?key=[REDACTED]&code=[REDACTED]")
        #expect(String(decoding: record.requestBody.bytes, as: UTF8.self) == #"{"key":"k","code":"E42","session_count":3}"#)
    }

    @Test func namesAreSplitIntoWords() {
        func words(_ name: String) -> [String] {
            CredentialWords.words(of: name, lowered: name.lowercased()).map(String.init)
        }
        #expect(words("AWSAccessKeyId") == ["aws", "access", "key", "id"])
        #expect(words("user[password]") == ["user", "password"])
        #expect(words("X-Hub-Signature-256") == ["x", "hub", "signature", "256"])
        #expect(words("newPassword") == ["new", "password"])
        #expect(words("password_confirmation") == ["password", "confirmation"])
        #expect(words("cvv2") == ["cvv", "2"])
        #expect(words("XMLHttpRequest") == ["xml", "http", "request"])
        #expect(words("") == [])
        #expect(words("--__[]") == [])
    }

    /// Answers are cached by a name's bytes: a name whose case changes make
    /// it secret must not take the answer of its lowercase twin.
    @Test func theCacheKeepsNamesThatDifferOnlyInCaseApart() {
        let set = NameSet(RedactionOptions.defaultFields)
        // (`clientkey` run together is a secret too now: these pairs are not.)
        for name in ["securityanswer", "securityAnswer", "cardno", "cardNo", "securitycode", "securityCode"] {
            let answer = Array(name.utf8).withUnsafeBufferPointer { set.contains(bytes: $0) }
            #expect(answer == name.contains(where: \.isUppercase), "\(name)")
        }
    }

    /// Generated names made of credential and ordinary pieces: the answer
    /// never depends on the order names were asked in, nor crashes.
    @Test func generatedNamesGetTheSameAnswerFromACachedSet() {
        let pieces = [
            "pass", "word", "Key", "key", "api", "_", "-", "[", "]", "Token", "x", "K", "\u{212A}", "2", "é", "Auth", "or",
            "code",
        ]
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let cached = NameSet(RedactionOptions.defaultFields)
        for _ in 0..<600 {
            let name = (0..<(next() % 6 + 1)).map { _ in pieces[next() % pieces.count] }.joined()
            let fresh = NameSet(RedactionOptions.defaultFields).contains(name)
            let viaBytes = Array(name.utf8).withUnsafeBufferPointer { cached.contains(bytes: $0) }
            #expect(viaBytes == fresh, "\(name)")
        }
    }

    @Test func formBodiesSplitAtAmpersandsAndSemicolons() {
        var record = exchange(
            body: "user=ann;user[password]=s1&card=4111111111111111;note=hi", type: "application/x-www-form-urlencoded")
        Redactor(options: .default).redact(&record)
        #expect(
            String(decoding: record.requestBody.bytes, as: UTF8.self)
                == "user=ann;user[password]=[REDACTED]&card=[REDACTED];note=hi")
    }

    @Test func urlFormsAreRedacted() {
        let cases: [(String, String)] = [
            ("/a?x=1;password=s1", "/a?x=1;password=[REDACTED]"),
            ("/cb#access_token=s2&state=ok", "/cb#access_token=[REDACTED]&state=ok"),
            ("/shop;jsessionid=s3/cart;JSESSIONID=s4?q=1", "/shop;jsessionid=[REDACTED]/cart;JSESSIONID=[REDACTED]?q=1"),
            ("http://ann:s5@example.test/p?ok=1", "http://[REDACTED]@example.test/p?ok=1"),
            ("https://example.test/p#frag", "https://example.test/p#frag"),
            ("/pay?cc=4111-1111-1111-1111&n=4111111111111112", "/pay?cc=[REDACTED]&n=4111111111111112"),
            ("/plain", "/plain"),
            ("*", "*"),
        ]
        for (target, expected) in cases {
            var record = exchange(target: target)
            Redactor(options: .default).redact(&record)
            #expect(record.request.target == expected, "\(target)")
        }
    }

    @Test func urlValuedHeadersAreRedacted() {
        let headers: HeaderFields = [
            "Referer": "https://app.test/login?token=s1&next=/home",
            "X-Original-URL": "/admin?api_key=s2",
            "X-Rewrite-URL": "/a;jsessionid=s3",
            "Origin": "https://ann:s4@app.test",
            "Location": "/cb#access_token=s5",
            "X-Other": "/x?token=kept",
            "Host": "ann:s6@app.test",
        ]
        var record = exchange(headers: headers)
        Redactor(options: .default).redact(&record)
        #expect(record.request.headers["referer"] == "https://app.test/login?token=[REDACTED]&next=/home")
        #expect(record.request.headers["x-original-url"] == "/admin?api_key=[REDACTED]")
        #expect(record.request.headers["x-rewrite-url"] == "/a;jsessionid=[REDACTED]")
        #expect(record.request.headers["origin"] == "https://[REDACTED]@app.test")
        #expect(record.request.headers["location"] == "/cb#access_token=[REDACTED]")
        #expect(record.request.headers["x-other"] == "/x?token=kept")
        #expect(record.request.headers["host"] == "[REDACTED]@app.test")
    }

    @Test func eachURLValuedHeaderIsRedactedAloneInAnyCase() {
        for name in Redactor.urlHeaders {
            for written in [name, name.uppercased(), name.prefix(1).uppercased() + name.dropFirst()] {
                var record = exchange(headers: [written: "https://ann:s1@app.test/p?token=s2", "Host": "app.test"])
                Redactor(options: .default).redact(&record)
                #expect(record.request.headers[name] == "https://[REDACTED]@app.test/p?token=[REDACTED]", "\(written)")
            }
        }
        // The second Host field, in capitals: still found.
        var record = exchange(headers: ["Host": "app.test", "HOST": "ann:s6@app.test"])
        Redactor(options: .default).redact(&record)
        #expect(record.request.headers.values(for: "host") == ["app.test", "[REDACTED]@app.test"])
        // Names near those, and a Host without user information: left as they are.
        let near: HeaderFields = [
            "Referrer": "/x?token=kept", "Hosts": "ann:s7@app.test", "Origin2": "/y?token=kept", "Host": "app.test",
        ]
        record = exchange(headers: near)
        Redactor(options: .default).redact(&record)
        for field in near { #expect(record.request.headers[field.name] == field.value, "\(field.name)") }
        // The check itself: no URL-valued field and no user information is no work.
        #expect(!Redactor.holdsURLsOrUserInformation(near))
        #expect(!Redactor.holdsURLsOrUserInformation(["HOST": "app.test", "X-Referer": "/x"]))
        #expect(Redactor.holdsURLsOrUserInformation(["hOsT": "a@b"]))
        #expect(Redactor.holdsURLsOrUserInformation(["X-ENVOY-ORIGINAL-PATH": "/x"]))
        // `@` and a combining mark: one Character, still the byte the check finds, and hidden.
        record = exchange(headers: ["Host": "ann:pw@\u{0301}app.test"])
        Redactor(options: .default).redact(&record)
        #expect(record.request.headers["host"] == "[REDACTED]@\u{0301}app.test")
    }
}
