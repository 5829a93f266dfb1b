import Foundation

/// Names the consumer behind a request, off the request path.
///
/// Use a built-in identifier, your own closure, or a chain of them where
/// the first that names someone wins:
///
/// ```swift
/// config.identifyConsumer = .firstMatch([
///     .bearerToken(),                   // Authorization: Bearer <JWT> (its sub) or <opaque token> (hashed)
///     .apiKey(header: "x-api-key"),     // stored as a SHA-256 hash, never the key
///     .custom { request in request.headers["x-customer-id"].map { Consumer(id: $0) } },
/// ])
/// ```
///
/// Identification runs in the sender, once per event, before redaction:
/// an identifier reads the headers as the client sent them, and what it
/// returns is trimmed and cut to ``Consumer``'s limits. A call whose
/// consumer the server already named (``ActiveExchange/setConsumer(_:)``)
/// is not identified again. A closure that throws, or runs past
/// ``APIMetricsConfiguration/userClosureTimeout``, costs the event its
/// consumer, never the request its response.
public struct ConsumerIdentifier: Sendable {
    private let identify: @Sendable (RequestHead) throws -> Consumer?
    /// How the built-in identifiers read the caller, for the discovered
    /// document's security schemes; none for a closure of the user's.
    let securitySchemes: SecuritySchemes

    /// Identifies with your own closure; the same as ``custom(_:)``.
    public init(_ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) {
        self.identify = identify
        securitySchemes = SecuritySchemes()
    }

    init(schemes: SecuritySchemes, _ identify: @escaping @Sendable (RequestHead) throws -> Consumer?) {
        self.identify = identify
        securitySchemes = schemes
    }

    /// Identifies with your own closure.
    ///
    /// The closure gets the call's ``RequestHead`` (method, target, route,
    /// headers as the client sent them, before any redaction) and returns
    /// the ``Consumer``, or `nil` for an anonymous call (inside
    /// ``firstMatch(_:)``: "not mine, ask the next"). It runs in the sender,
    /// off the request path, once per event; it is synchronous, so look
    /// up what it needs in memory, not over the network.
    ///
    /// ```swift
    /// config.identifyConsumer = .custom { request in
    ///     guard let key = request.headers["x-api-key"], let account = accounts[key] else {
    ///         return nil                                         // anonymous
    ///     }
    ///     return Consumer(id: account.id, name: account.name, group: account.plan, apiKey: key)
    /// }
    /// ```
    ///
    /// When it throws, the event goes out anonymous and a warning goes to
    /// ``APIMetricsConfiguration/diagnostics`` naming the error's type (not
    /// its message, which could hold what the closure read), the method and
    /// the path; no counter moves and the request is untouched. Inside
    /// ``firstMatch(_:)`` a throw is passed over and the next identifier is
    /// asked; the warning comes only when none names the consumer. When it
    /// runs past ``APIMetricsConfiguration/userClosureTimeout``, the event
    /// goes without what any of your closures would have added, and an
    /// error goes to the diagnostics.
    ///
    /// Return an id that is stable and not a secret: it is sent as it is.
    /// A credential belongs in ``Consumer/apiKey``, which leaves only as a
    /// one-way mask.
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

    /// The user name of `Authorization: Basic …`; the password is never read.
    public static let basicAuthUser = ConsumerIdentifier(schemes: SecuritySchemes(basic: true)) { request in
        guard let value = request.headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingOptionalWhitespace),
            let text = String(data: decoded, encoding: .utf8)
        else { return nil }
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
            return CredentialHash.consumer(for: key, label: "key")
        }
    }
}
