import Foundation
import Testing
@testable import APIMetrics

@Suite("SHA-256")
struct SHA256Tests {
    // FIPS 180-4 examples and the NIST CAVS short and long messages.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func matchesTheNISTVectors(message: String, digest: String) {
        #expect(SHA256.hexDigest(message) == digest)
    }

    @Test func oneMillionAs() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        #expect(hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func matchesTheSha256sumProgramOnEveryPaddingLength() throws {
        // Lengths 0…130 cross every padding case (55, 56, 63, 64, 119, 120 bytes).
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = SystemRandomNumberGenerator()
        var script = ""
        var expected: [String] = []
        for length in 0...130 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let file = directory.file("m\(length)")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            script += "sha256sum '\(file)' | cut -d' ' -f1\n"
            expected.append(SHA256.hash(bytes).map { String(format: "%02x", $0) }.joined())
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }
}

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
                let consumer = try ConsumerIdentifier.jwtClaim()(request(["Authorization": "Bearer \(token(payload, padded: padded))"]))
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
        "Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",            // payload is not JSON
        "Bearer eyJhbGciOiJIUzI1NiJ9.WzEsMiwzXQ.sig",             // payload is an array
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOnRydWV9.sig",       // sub is not a string
        "Bearer eyJhbGciOiJIUzI1NiJ9.e.sig",                      // impossible base64 length
        "Bearer eyJhbGciOiJIUzI1NiJ9.!!!!.sig",
        "Bearer \(String(repeating: "a.", count: 10_000))",
    ])
    func malformedTokensIdentifyNoOneAndNeverThrow(header: String) throws {
        #expect(try ConsumerIdentifier.jwtClaim()(request(["Authorization": header])) == nil)
    }

    @Test func generatedGarbageNeverThrows() throws {
        var generator = SystemRandomNumberGenerator()
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
        #expect(try ConsumerIdentifier.basicAuthUser(request(["Authorization": "Basic \(Data(":pw".utf8).base64EncodedString())"])) == nil)
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
