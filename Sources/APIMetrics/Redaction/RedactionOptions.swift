/// What is hidden before an event leaves the process.
///
/// Redaction runs in the background sender, never on the request path. A
/// redacted value is replaced by ``replacement`` and its key is kept, so a
/// reader sees that something was there.
public struct RedactionOptions: Sendable, Hashable {
    /// Header names (any case) whose values are hidden.
    public var headers: Set<String>
    /// What a hidden value becomes.
    public var replacement: String

    /// Creates redaction options.
    public init(headers: Set<String> = RedactionOptions.defaultHeaders, replacement: String = "[REDACTED]") {
        self.headers = headers
        self.replacement = replacement
    }

    /// Credentials and session headers: hidden unless you say otherwise.
    public static let defaultHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "set-cookie",
        "x-api-key", "api-key", "x-auth-token", "x-access-token",
    ]

    /// The default header list and `[REDACTED]`.
    public static let `default` = RedactionOptions()

    func validate(field: String) throws(ConfigurationError) {
        for name in headers where name.isEmpty {
            throw ConfigurationError(field: "\(field).headers", reason: "holds an empty header name")
        }
    }
}
