import Foundation
import Testing
@testable import APIMetrics

/// The default redaction, pinned name by name and place by place: a name
/// dropped from the defaults (or a place that stops reading them) fails
/// here, whatever else still happens to match it.
@Suite("Redaction defaults pinned")
struct RedactionDefaultsTests {
    /// The exact names hidden by default in queries and bodies.
    static let names = [
        "password", "pwd", "passwd", "pass", "secret", "client_secret", "token", "access_token",
        "refresh_token", "id_token", "api_key", "apikey", "api-key", "auth", "authorization",
        "card_number", "cardnumber", "credit_card", "creditcard", "cvv", "cvc", "ccv", "ssn",
        "private_key",
    ]
    /// Headers hidden by default, as the documentation lists them.
    static let headers = [
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-API-Key", "X-Auth-Token",
        "X-Client-Secret", "X-Session-ID", "Private-Key", "X-Hub-Signature-256", "Ocp-Apim-Subscription-Key",
    ]
    static let value = "v4lue-that-must-not-leak"

    private func redacted(target: String, headers: HeaderFields, body: String) -> ExchangeRecord {
        let bytes = Array(body.utf8)
        var record = ExchangeRecord(
            id: EventID(high: 0, low: 0), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "POST", target: target, headers: headers),
            requestBody: CapturedBody(bytes: bytes, size: bytes.count, isTruncated: false),
            response: ResponseHead(status: 200, headers: [:]), responseBody: .empty)
        Redactor(options: .default, maxDecodedBytes: 64 * 1024).redact(&record)
        return record
    }

    private func leaks(_ record: ExchangeRecord) -> Bool {
        var seen = record.request.target + String(decoding: record.requestBody.bytes, as: UTF8.self)
        record.request.headers.forEachRaw { name, value in seen += String(decoding: Array(name) + Array(value), as: UTF8.self) }
        return seen.contains(Self.value)
    }

    /// The list itself, name by name: a name the word matcher also catches
    /// (`client_secret`, `pwd`) is still listed, so that a narrower matcher
    /// later cannot let it through.
    @Test func theDefaultListsNameEveryOne() {
        for name in Self.names {
            #expect(RedactionOptions.defaultFields.contains(FieldMatcher(stringLiteral: name)), "\(name)")
            #expect(RedactionOptions.defaultQueryParameters.contains(FieldMatcher(stringLiteral: name)), "\(name)")
        }
    }

    @Test(arguments: names)
    func eachDefaultNameIsHiddenInTheQueryAFormAndJSON(name: String) {
        let query = redacted(target: "/token?\(name)=\(Self.value)&page=2", headers: [:], body: "")
        #expect(!leaks(query), "query \(name): \(query.request.target)")
        #expect(query.request.target.contains("page=2"))
        let form = redacted(
            target: "/oauth/token", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "grant_type=client_credentials&\(name)=\(Self.value)")
        #expect(!leaks(form), "form \(name)")
        #expect(String(decoding: form.requestBody.bytes, as: UTF8.self).contains("grant_type=client_credentials"))
        let json = redacted(
            target: "/login", headers: ["Content-Type": "application/json"], body: #"{"user":"ann","\#(name)":"\#(Self.value)"}"#)
        #expect(!leaks(json), "JSON \(name)")
        #expect(String(decoding: json.requestBody.bytes, as: UTF8.self).contains(#""user":"ann""#))
        let nested = redacted(
            target: "/login", headers: ["Content-Type": "application/json"], body: #"{"a":[{"\#(name)":"\#(Self.value)"}]}"#)
        #expect(!leaks(nested), "nested JSON \(name)")
    }

    @Test(arguments: headers)
    func eachDefaultHeaderIsHidden(name: String) {
        var fields: HeaderFields = ["Accept": "application/json"]
        fields.append(name: name, value: Self.value)
        let record = redacted(target: "/", headers: fields, body: "")
        #expect(!leaks(record), "header \(name)")
        #expect(record.request.headers["accept"] == "application/json")
    }
}
