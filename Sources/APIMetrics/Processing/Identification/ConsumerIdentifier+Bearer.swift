extension ConsumerIdentifier {
    /// The caller of `Authorization: Bearer …`, whatever its token: a JWT
    /// names its consumer by a claim, any other token stands for its caller
    /// as an API key does. What "identify by bearer token" means to most
    /// APIs, which hand out JWTs, opaque tokens, or both.
    ///
    /// ```swift
    /// config.identifyConsumer = .bearerToken()                         // sub, and name when present
    /// config.identifyConsumer = .bearerToken(claim: "client_id", nameClaim: nil)
    /// ```
    ///
    /// - A **JWT** (a token whose second part is a base64url JSON object)
    ///   is read as ``jwtClaim(_:nameClaim:)`` reads it, *decoded, not
    ///   verified*: the consumer's id is `claim`, its name `nameClaim`.
    ///   A JWT without `claim` identifies no one: JWTs expire and are
    ///   reissued, so hashing one would make a new consumer every hour.
    /// - Any **other token** is stored as a one-way hash, as
    ///   ``apiKey(header:)`` stores keys: the id is `sha256:` and the
    ///   token's SHA-256 in hex, the name `token …abcd` (its last four
    ///   characters, for tokens of 12 characters or more), and the token is
    ///   the consumer's ``Consumer/apiKey``, which leaves only as its
    ///   one-way mask. The token itself is never in the event. A token
    ///   counts only when it is RFC 6750's `b64token` (letters, digits,
    ///   `-._~+/`, trailing `=`) of at most 4,096 bytes; anything else (a
    ///   space, a control character, a megabyte) identifies no one.
    ///
    /// A request with no `Authorization` field, another scheme (`Basic`),
    /// an empty token, or more than one `Authorization` field (which one
    /// the server believed is not known) identifies no one. Calls with the
    /// same opaque token are one consumer; a plain SHA-256 is not a secret
    /// keyed hash, so a short, guessable token could be found from its id
    /// by trying candidates, as with API keys: issue long random tokens.
    ///
    /// - Parameters:
    ///   - claim: the JWT claim that holds the consumer's id; `sub` by default.
    ///   - nameClaim: the JWT claim read as the consumer's readable name;
    ///     `name` by default, `nil` to read none.
    public static func bearerToken(claim: String = "sub", nameClaim: String? = "name") -> ConsumerIdentifier {
        ConsumerIdentifier(schemes: SecuritySchemes(bearer: true)) { request in
            guard let token = BearerToken.extract(from: request.headers) else { return nil }
            if let claims = JWT.claims(of: token) {
                return consumer(from: claims, claim: claim, nameClaim: nameClaim)
            }
            guard BearerToken.isOpaqueToken(token) else { return nil }
            return CredentialHash.consumer(for: token, label: "token")
        }
    }

    /// A claim of the JWT in `Authorization: Bearer …`, `sub` by default,
    /// and, by default, its `name` claim as the consumer's readable name.
    ///
    /// ```swift
    /// config.identifyConsumer = .jwtClaim("sub")                       // id from sub, name from name
    /// config.identifyConsumer = .jwtClaim("sub", nameClaim: nil)       // id only
    /// config.identifyConsumer = .jwtClaim("sub", nameClaim: "preferred_username")
    /// ```
    ///
    /// The token is **decoded, not verified**: it names who the caller says
    /// they are, which is what analytics needs; authenticate in your server.
    /// Only a JWT identifies anyone here: a missing, malformed or non-JSON
    /// token, an opaque token, or a request with more than one
    /// `Authorization` field identifies no one. To identify callers of
    /// opaque tokens too, use ``bearerToken(claim:nameClaim:)``.
    ///
    /// - Parameters:
    ///   - claim: the claim that holds the id.
    ///   - nameClaim: the claim read as the consumer's readable name, when
    ///     the token has it; `name` by default, `nil` to read none (the
    ///     name is sent with every event: leave it out when it is personal
    ///     data you do not want to export).
    public static func jwtClaim(_ claim: String = "sub", nameClaim: String? = "name") -> ConsumerIdentifier {
        ConsumerIdentifier(schemes: SecuritySchemes(bearer: true, isJWT: true)) { request in
            guard let token = BearerToken.extract(from: request.headers),
                let claims = JWT.claims(of: token)
            else { return nil }
            return consumer(from: claims, claim: claim, nameClaim: nameClaim)
        }
    }

    private static func consumer(from claims: [String: String], claim: String, nameClaim: String?) -> Consumer? {
        guard let id = claims[claim] else { return nil }
        return Consumer(id: id, name: nameClaim.flatMap { claims[$0] })
    }
}
