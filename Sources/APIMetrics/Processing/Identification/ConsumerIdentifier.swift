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
    /// How the built-in identifiers read the caller, for the discovered
    /// document's security schemes; none for a closure of the user's.
    let securitySchemes: SecuritySchemes

    /// Identifies with your own closure; `nil` means anonymous.
    public init(_ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) {
        self.identify = identify
        securitySchemes = SecuritySchemes()
    }

    init(schemes: SecuritySchemes, _ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) {
        self.identify = identify
        securitySchemes = schemes
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
        var schemes = SecuritySchemes()
        for identifier in identifiers { schemes.formUnion(identifier.securitySchemes) }
        return ConsumerIdentifier(schemes: schemes) { request in
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
        ConsumerIdentifier(schemes: SecuritySchemes(bearer: true, isJWT: true)) { request in
            guard let token = BearerToken.extract(from: request.headers["authorization"]),
                  let claims = JWT.claims(of: token),
                  let id = claims[claim] else { return nil }
            return Consumer(id: id, name: nameClaim.flatMap { claims[$0] })
        }
    }

    /// The user name of `Authorization: Basic …`; the password is never read.
    public static let basicAuthUser = ConsumerIdentifier(schemes: SecuritySchemes(basic: true)) { request in
        guard let value = request.headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingOptionalWhitespace),
              let text = String(data: decoded, encoding: .utf8) else { return nil }
        let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return user.isEmpty ? nil : Consumer(id: user)
    }

    /// An API key header, stored as a one-way hash: the consumer id is
    /// `sha256:` and the key's SHA-256 in hex, and the name shows only the
    /// key's last four characters (for keys of 12 characters or more), so
    /// that you can tell keys apart without the event holding one. The key
    /// is also the consumer's ``Consumer/apiKey``, which leaves only as
    /// its one-way mask (ReadMe Metrics' group id).
    public static func apiKey(header: String = "x-api-key") -> ConsumerIdentifier {
        ConsumerIdentifier(schemes: SecuritySchemes(apiKeyHeaders: [header.lowercased()])) { request in
            guard let key = request.headers[header]?.trimmingOptionalWhitespace, !key.isEmpty else { return nil }
            return APIKeyHash.consumer(forKey: key)
        }
    }
}
