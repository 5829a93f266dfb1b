import Foundation

/// Names the consumer behind a request, off the request path.
///
/// Use a built-in identifier, your own closure, or a chain of them where
/// the first that names someone wins:
///
/// ```swift
/// config.identifyConsumer = .firstMatch([
///     .jwtClaim("sub"),                 // Authorization: Bearer <JWT>
///     .apiKey(header: "x-api-key"),     // stored as a SHA-256 hash, never the key
///     .custom { request in request.headers["x-customer-id"].map { Consumer(id: $0) } },
/// ])
/// ```
///
/// A closure that throws, or runs past
/// ``APIMetricsConfiguration/userClosureTimeout``, costs the event its
/// consumer, never the request its response.
public struct ConsumerIdentifier: Sendable {
    private let identify: @Sendable (RequestHead) throws -> Consumer?

    /// Identifies with your own closure; `nil` means anonymous.
    public init(_ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) {
        self.identify = identify
    }

    /// Identifies with your own closure; `nil` means anonymous.
    public static func custom(_ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) -> ConsumerIdentifier {
        ConsumerIdentifier(identify)
    }

    /// Runs the identifier.
    public func callAsFunction(_ request: RequestHead) throws -> Consumer? {
        try identify(request)
    }

    /// Tries each identifier in order; the first that names a consumer wins.
    /// One that throws is passed over.
    public static func firstMatch(_ identifiers: [ConsumerIdentifier]) -> ConsumerIdentifier {
        ConsumerIdentifier { request in
            var failure: (any Error)?
            for identifier in identifiers {
                do {
                    if let consumer = try identifier(request) { return consumer }
                } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
            return nil
        }
    }

    /// The value of a header as the consumer id, such as `X-Customer-ID`.
    public static func header(_ name: String) -> ConsumerIdentifier {
        ConsumerIdentifier { request in
            request.headers[name].map { Consumer(id: $0) }
        }
    }

    /// A claim of the JWT in `Authorization: Bearer …`, `sub` by default.
    ///
    /// The token is **decoded, not verified**: it names who the caller says
    /// they are, which is what analytics needs; authenticate in your server.
    /// A missing, malformed or non-JSON token identifies no one.
    ///
    /// - Parameters:
    ///   - claim: the claim that holds the id.
    ///   - nameClaim: a claim that holds a readable name, when present.
    public static func jwtClaim(_ claim: String = "sub", nameClaim: String? = "name") -> ConsumerIdentifier {
        ConsumerIdentifier { request in
            guard let token = BearerToken.extract(from: request.headers["authorization"]),
                  let claims = JWT.claims(of: token),
                  let id = claims[claim] else { return nil }
            return Consumer(id: id, name: nameClaim.flatMap { claims[$0] })
        }
    }

    /// The user name of `Authorization: Basic …`; the password is never read.
    public static let basicAuthUser = ConsumerIdentifier { request in
        guard let value = request.headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingSpaces),
              let text = String(data: decoded, encoding: .utf8) else { return nil }
        let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return user.isEmpty ? nil : Consumer(id: user)
    }

    /// An API key header, stored as a one-way hash: the consumer id is
    /// `sha256:` and the key's SHA-256 in hex, and the name shows only the
    /// key's last four characters (for keys of 12 characters or more), so
    /// that you can tell keys apart without the event holding one.
    public static func apiKey(header: String = "x-api-key") -> ConsumerIdentifier {
        ConsumerIdentifier { request in
            guard let key = request.headers[header]?.trimmingSpaces, !key.isEmpty else { return nil }
            return APIKeyHash.consumer(forKey: key)
        }
    }
}

/// Hashes API keys into consumer ids.
enum APIKeyHash {
    static func consumer(forKey key: String) -> Consumer {
        let hint = key.count >= 12 ? "key …\(key.suffix(4))" : nil
        return Consumer(id: "sha256:\(SHA256.hexDigest(key))", name: hint)
    }
}

/// Reads the token of `Authorization: Bearer <token>`.
enum BearerToken {
    static func extract(from header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.trimmingSpaces.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingSpaces
        return token.isEmpty ? nil : token
    }
}

/// Decodes a JWT's payload without verifying it.
enum JWT {
    /// The payload's claims whose values are strings or numbers, as text;
    /// `nil` for anything that is not a JWT with a JSON object payload.
    static func claims(of token: String) -> [String: String]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 2,
              let payload = base64URLDecode(parts[1]),
              case let .object(members) = try? JSONParser.parse(payload, maxDepth: 8) else { return nil }
        var claims: [String: String] = [:]
        for member in members where claims[member.key] == nil {
            switch member.value {
            case let .string(text): claims[member.key] = text
            case let .number(text): claims[member.key] = text
            default: continue
            }
        }
        return claims
    }

    /// base64url (RFC 4648 §5) with or without padding.
    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        guard text.count <= 64 * 1024 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
