/// The ways callers authenticate, as the document's `securitySchemes`
/// name them: from the consumer identification configured, and from the
/// calls (`Authorization: Bearer` or `Basic`).
struct SecuritySchemes: Sendable, Hashable {
    /// A bearer token (a JWT when the identification reads its claims).
    var bearer = false
    var isJWT = false
    var basic = false
    /// Headers that carry an API key, lowercased.
    var apiKeyHeaders: [String] = []

    mutating func formUnion(_ other: SecuritySchemes) {
        bearer = bearer || other.bearer
        isJWT = isJWT || other.isJWT
        basic = basic || other.basic
        for header in other.apiKeyHeaders where !apiKeyHeaders.contains(header) { apiKeyHeaders.append(header) }
    }

    /// The scheme's name in `components.securitySchemes` for an API key header.
    static func apiKeyName(_ header: String) -> String {
        "apiKey_" + header.map { $0.isLetter || $0.isNumber ? $0 : "_" }
    }
}
