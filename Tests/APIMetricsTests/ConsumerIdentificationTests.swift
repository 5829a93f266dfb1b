import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Consumer identification")
struct ConsumerIdentificationTests {
    private func token(_ payload: String, padded: Bool = false) -> String {
        var encoded = Data(payload.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        if !padded { encoded = encoded.replacingOccurrences(of: "=", with: "") }
        return "eyJhbGciOiJIUzI1NiJ9.\(encoded).c2lnbmF0dXJl"
    }

    private func request(_ headers: HeaderFields) -> RequestHead {
        RequestHead(method: "GET", target: "/", headers: headers)
    }

    @Test func readsTheSubClaimWithOrWithoutPadding() throws {
        // Payload lengths that need 0, 1 and 2 padding characters.
        for payload in [#"{"sub":"u1"}"#, #"{"sub":"u12"}"#, #"{"sub":"u123"}"#, #"{"sub":"ü-ß/+?","name":"N"}"#] {
            for padded in [false, true] {
                let consumer = try ConsumerIdentifier.jwtClaim()(
                    request(["Authorization": "Bearer \(token(payload, padded: padded))"]))
                let expected = try #require(JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: String])
                #expect(consumer?.id == expected["sub"], "payload \(payload) padded \(padded)")
                #expect(consumer?.name == expected["name"])
            }
        }
    }

    @Test func anotherClaimAndNumericClaims() throws {
        let header: HeaderFields = ["authorization": "bearer \(token(#"{"sub":"x","customer_id":12345}"#))"]
        #expect(try ConsumerIdentifier.jwtClaim("customer_id")(request(header))?.id == "12345")
        #expect(try ConsumerIdentifier.jwtClaim("missing")(request(header)) == nil)
    }

    @Test(arguments: [
        "Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c", "Bearer ...", "Basic dXNlcjpwYXNz",
        "Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",  // payload is not JSON
        "Bearer eyJhbGciOiJIUzI1NiJ9.WzEsMiwzXQ.sig",  // payload is an array
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOnRydWV9.sig",  // sub is not a string
        "Bearer eyJhbGciOiJIUzI1NiJ9.e.sig",  // impossible base64 length
        "Bearer eyJhbGciOiJIUzI1NiJ9.!!!!.sig",
        "Bearer \(String(repeating: "a.", count: 10_000))",
    ])
    func malformedTokensIdentifyNoOneAndNeverThrow(header: String) throws {
        #expect(try ConsumerIdentifier.jwtClaim()(request(["Authorization": header])) == nil)
    }

    @Test func generatedGarbageNeverThrows() throws {
        var generator = SeededGenerator.replayable()
        let alphabet = Array("abcXYZ019-_.=+/ {}\"".unicodeScalars)
        for _ in 0..<2000 {
            var text = "Bearer "
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                text.unicodeScalars.append(alphabet.randomElement(using: &generator) ?? "a")
            }
            _ = try ConsumerIdentifier.jwtClaim()(request(["Authorization": text]))
        }
    }

    @Test func basicAuthGivesTheUserNameOnly() throws {
        let encoded = Data("alice:s3cret:with:colons".utf8).base64EncodedString()
        let consumer = try ConsumerIdentifier.basicAuthUser(request(["Authorization": "Basic \(encoded)"]))
        #expect(consumer == Consumer(id: "alice"))
        #expect(try ConsumerIdentifier.basicAuthUser(request(["Authorization": "Basic !!!"])) == nil)
        #expect(
            try ConsumerIdentifier.basicAuthUser(request(["Authorization": "Basic \(Data(":pw".utf8).base64EncodedString())"]))
                == nil)
    }

    @Test func apiKeysAreHashedNeverKept() throws {
        let key = "sk_live_0123456789abcdef"
        let consumer = try #require(try ConsumerIdentifier.apiKey()(request(["X-API-Key": key])))
        #expect(consumer.id == "sha256:\(SHA256.hexDigest(key))")
        #expect(consumer.name == "key …cdef")
        #expect(!consumer.id.contains(key) && !(consumer.name ?? "").contains(key))
        // Short keys get no hint: four characters would be too much of them.
        #expect(try ConsumerIdentifier.apiKey()(request(["X-API-Key": "short"]))?.name == nil)
        #expect(try ConsumerIdentifier.apiKey()(request([:])) == nil)
    }

    @Test func theFirstMatchWinsAndThrowsArePassedOver() throws {
        struct Boom: Error {}
        let chain = ConsumerIdentifier.firstMatch([
            .custom { _ in throw Boom() },
            .header("x-customer"),
            .custom { _ in Consumer(id: "fallback") },
        ])
        #expect(try chain(request(["X-Customer": "acme"]))?.id == "acme")
        #expect(try chain(request([:]))?.id == "fallback")
        let failing = ConsumerIdentifier.firstMatch([.custom { _ in throw Boom() }, .header("x")])
        #expect(throws: Boom.self) { try failing(request([:])) }
    }
}
