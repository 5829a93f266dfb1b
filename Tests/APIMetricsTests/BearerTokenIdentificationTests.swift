import Foundation
import Synchronization
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Bearer token identification")
struct BearerTokenIdentificationTests {
    private static func jwt(_ payload: String, signature: String = "c2lnbmF0dXJl") -> String {
        let encoded = Data(payload.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "eyJhbGciOiJIUzI1NiJ9.\(encoded).\(signature)"
    }

    private func identify(_ identifier: ConsumerIdentifier, _ headers: HeaderFields) throws -> Consumer? {
        try identifier(RequestHead(method: "GET", target: "/", headers: headers))
    }

    @Test func anOpaqueTokenIsHashedWithAHintAsAnAPIKeyIs() throws {
        let token = "tok_live_9f8e7d6c5b4a3210"
        let consumer = try #require(try identify(.bearerToken(), ["Authorization": "Bearer \(token)"]))
        #expect(consumer.id == "sha256:\(SHA256.hexDigest(token))")
        #expect(consumer.name == "token …3210")
        #expect(consumer.apiKey == token)
        // The same hash as the same credential sent as an API key: one consumer.
        #expect(try identify(.apiKey(), ["X-API-Key": token])?.id == consumer.id)
        // What leaves: the id, the hint and the one-way mask, never the token.
        let normalized = try #require(consumer.normalized())
        #expect(normalized.apiKey == nil)
        #expect(normalized.apiKeyMask == ReadMeMask.mask(token))
        #expect(!normalized.id.contains(token) && !(normalized.name ?? "").contains(token))
        // Short tokens get no hint; the scheme's case does not matter.
        let short = try #require(try identify(.bearerToken(), ["authorization": "bEaReR abc123"]))
        #expect(short.id == "sha256:\(SHA256.hexDigest("abc123"))" && short.name == nil)
    }

    @Test func aJWTIsReadByItsClaimsNotHashed() throws {
        let token = Self.jwt(#"{"sub":"user-7","name":"Ada","client_id":"app-3"}"#)
        let header: HeaderFields = ["Authorization": "Bearer \(token)"]
        #expect(try identify(.bearerToken(), header) == Consumer(id: "user-7", name: "Ada"))
        #expect(try identify(.bearerToken(claim: "client_id", nameClaim: nil), header) == Consumer(id: "app-3"))
        // A JWT without the claim identifies no one: it is not hashed, or
        // every reissued token would be a new consumer.
        #expect(try identify(.bearerToken(claim: "tenant"), header) == nil)
    }

    @Test func theNameClaimIsReadByDefaultAndCanBeSwitchedOffOrChanged() throws {
        let header: HeaderFields = ["Authorization": "Bearer \(Self.jwt(#"{"sub":"u1","name":"Ada","nick":"ada"}"#))"]
        #expect(try identify(.jwtClaim("sub"), header)?.name == "Ada")
        #expect(try identify(.jwtClaim("sub", nameClaim: nil), header) == Consumer(id: "u1"))
        #expect(try identify(.jwtClaim("sub", nameClaim: "nick"), header)?.name == "ada")
        #expect(try identify(.jwtClaim("sub", nameClaim: "missing"), header) == Consumer(id: "u1"))
    }

    @Test func jwtClaimStillIdentifiesOnlyJWTs() throws {
        #expect(try identify(.jwtClaim(), ["Authorization": "Bearer tok_live_9f8e7d6c5b4a3210"]) == nil)
    }

    @Test(arguments: [
        "", "Bearer", "Bearer ", "Bearer      ", "Bearer\t", "Basic dXNlcjpwYXNz", "Token abcdef0123456789",
        "Bearer abc def",  // a space inside
        "Bearer abc\u{01}def0123456789",  // control characters
        "Bearer abc\u{7F}def0123456789",
        "Bearer abc\tdef0123456789",
        "Bearer abc\r\ndef0123456789",
        "Bearer abc\u{0}def0123456789",
        "Bearer tök_0123456789abcdef",  // not ASCII
        "Bearer ====", "Bearer abc=def", "Bearer \"quoted0123456789\"",
        "Bearer " + String(repeating: "A", count: BearerToken.maxOpaqueBytes + 1),
        "Bearer " + String(repeating: "a.", count: 100_000),
    ])
    func hostileOrEmptyTokensIdentifyNoOneAndNeverThrow(value: String) throws {
        #expect(try identify(.bearerToken(), ["Authorization": value]) == nil)
        #expect(try identify(.jwtClaim(), ["Authorization": value]) == nil)
    }

    @Test func theLongestOpaqueTokenIsStillIdentified() throws {
        let token = String(repeating: "A", count: BearerToken.maxOpaqueBytes - 2) + "=="
        #expect(try identify(.bearerToken(), ["Authorization": "Bearer \(token)"])?.id == "sha256:\(SHA256.hexDigest(token))")
    }

    @Test(arguments: [
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",  // payload is not JSON
        "eyJhbGciOiJIUzI1NiJ9.WzEsMiwzXQ.sig",  // payload is an array
        "eyJhbGciOiJIUzI1NiJ9.e.sig",  // impossible base64 length
        "a.b.c", "...",
    ])
    func aJWTLookingTokenThatIsNoJWTIsAnOpaqueToken(token: String) throws {
        #expect(try identify(.jwtClaim(), ["Authorization": "Bearer \(token)"]) == nil)
        #expect(try identify(.bearerToken(), ["Authorization": "Bearer \(token)"])?.id == "sha256:\(SHA256.hexDigest(token))")
    }

    @Test func moreThanOneAuthorizationFieldIdentifiesNoOne() throws {
        let jwt = Self.jwt(#"{"sub":"u1"}"#)
        for headers: HeaderFields in [
            HeaderFields([("Authorization", "Bearer \(jwt)"), ("authorization", "Bearer \(jwt)")]),
            HeaderFields([("Authorization", "Bearer tok_0123456789abcdef"), ("AUTHORIZATION", "Bearer other_0123456789")]),
            HeaderFields([("Authorization", "Basic dXNlcjpwYXNz"), ("Authorization", "Bearer tok_0123456789abcdef")]),
        ] {
            #expect(try identify(.bearerToken(), headers) == nil)
            #expect(try identify(.jwtClaim(), headers) == nil)
        }
    }

    @Test func generatedTokensNeverThrowAndAreHashedOrRefusedWhole() throws {
        var generator = SeededGenerator.replayable()
        let alphabet = Array("abcXYZ019-_.~+/= {}\"\t\u{1}\u{7F}é".unicodeScalars)
        for _ in 0..<3_000 {
            var token = ""
            for _ in 0..<Int.random(in: 0...80, using: &generator) {
                token.unicodeScalars.append(alphabet.randomElement(using: &generator) ?? "a")
            }
            guard let consumer = try identify(.bearerToken(), ["Authorization": "Bearer \(token)"]) else { continue }
            // Anything identified was a JWT (an id from its claims) or the
            // whole trimmed token, hashed; the token is never the id.
            let trimmed = token.trimmingOptionalWhitespace
            if JWT.claims(of: trimmed) == nil {
                #expect(consumer.id == "sha256:\(SHA256.hexDigest(trimmed))", "\(token.debugDescription)")
                #expect(BearerToken.isOpaqueToken(trimmed))
            }
        }
    }

    /// Every hostile token goes through a running service to a real file;
    /// none of it may be in any line written, nor in any diagnostic, even
    /// from a closure whose error quotes it.
    @Test func noTokenReachesTheEventsTheLogOrAnError() async throws {
        struct QuotingError: Error, CustomStringConvertible {
            let quoted: String
            var description: String { "could not look up \(quoted)" }
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let logged = Mutex<[String]>([])
        var config = testConfiguration([.file(path: path)])
        config.capture.isBodyCaptureEnabled = true
        config.diagnostics = .custom { message in logged.withLock { $0.append(message.text) } }
        config.identifyConsumer = .firstMatch([
            .bearerToken(),
            .custom { request in throw QuotingError(quoted: request.headers.values(for: "authorization").joined(separator: ","))
            },
        ])
        let metrics = try APIMetricsService(configuration: config)
        let opaque = "tok_SECRET_OPAQUE_0123456789abcdef"
        let requests: [(String, HeaderFields)] = [
            ("opaque", ["Authorization": "Bearer \(opaque)"]),
            ("jwt", ["Authorization": "Bearer \(Self.jwt(#"{"sub":"user-7"}"#, signature: "SECRET_SIGNATURE_0123"))"]),
            ("not-a-jwt", ["Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.SECRET_NOTJSON.sig"]),
            ("huge", ["Authorization": "Bearer SECRET_HUGE" + String(repeating: "A", count: 200_000)]),
            ("control", ["Authorization": "Bearer SECRET_CONTROL\u{1}0123456789"]),
            ("newline", ["Authorization": "Bearer SECRET_NEWLINE\r\n0123456789"]),
            ("empty", ["Authorization": "Bearer "]),
            (
                "multiple",
                HeaderFields([
                    ("Authorization", "Bearer SECRET_FIRST_0123456789"), ("Authorization", "Bearer SECRET_SECOND_0123456789"),
                ])
            ),
        ]
        let runner = Task { try await metrics.run() }
        for (name, headers) in requests {
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/\(name)", headers: headers))
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: bytes, as: UTF8.self)
        let log = logged.withLock { $0.joined(separator: "\n") }
        for secret in [
            "SECRET_OPAQUE", "SECRET_SIGNATURE", "SECRET_NOTJSON", "SECRET_HUGE", "SECRET_CONTROL", "SECRET_NEWLINE",
            "SECRET_FIRST", "SECRET_SECOND",
        ] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in the events")
            #expect(!log.contains(secret), "\(secret) in the diagnostics")
        }
        // The closure's failures were said, by type, for the calls no token named.
        #expect(log.contains("identifyConsumer failed with QuotingError"))
        let events = text.split(separator: "\n").compactMap { jsonObject(Array($0.utf8)) }.filter { $0["kind"] == nil }
        #expect(events.count == requests.count)
        var consumers: [String: String] = [:]
        for event in events {
            let path = (event["request"] as? [String: Any])?["path"] as? String ?? ""
            consumers[path] = (event["consumer"] as? [String: Any])?["id"] as? String
        }
        #expect(consumers["/opaque"] == "sha256:\(SHA256.hexDigest(opaque))")
        #expect(consumers["/jwt"] == "user-7")
        #expect(consumers["/not-a-jwt"]?.hasPrefix("sha256:") == true)
        for anonymous in ["/huge", "/control", "/newline", "/empty", "/multiple"] {
            #expect(consumers[anonymous] == nil, "\(anonymous)")
        }
    }
}
