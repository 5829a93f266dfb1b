/// What is hidden before an event leaves the process.
///
/// Redaction runs in the background sender, never on the request path. A
/// hidden value becomes ``replacement`` and its key stays, so a reader sees
/// that something was there. Names compare ignoring case.
///
/// ```swift
/// config.redaction.headers.append(.exact("x-internal-signature"))
/// config.redaction.requestBody.paths.append(try JSONPath("$.payment.card[*].number"))
/// config.redaction.responseBody.fields.append("iban")
/// config.redaction.redactEvent = { record in record.request.headers.remove(name: "x-debug") }
/// ```
public struct RedactionOptions: Sendable {
    /// Header names whose values are hidden.
    public var headers: [FieldMatcher]
    /// Query parameters hidden in the event's `url` and `query`.
    public var queryParameters: [FieldMatcher]
    /// Rules for request bodies.
    public var requestBody: BodyRules
    /// Rules for response bodies.
    public var responseBody: BodyRules
    /// When set, only these names keep their values — headers, query
    /// parameters and body fields alike — and every other value is hidden
    /// (ReadMe's allowlist). The deny lists above are then not needed.
    public var allowlist: Set<String>?
    /// What a hidden value becomes.
    public var replacement: String
    /// What a body becomes when rules apply to it and it cannot be parsed as
    /// its content type says (JSON cut at the capture limit, for instance).
    public var unparseableBodyMarker: String
    /// Whether values that look like payment card numbers (13 to 19 digits,
    /// optionally grouped by single spaces or dashes, passing the Luhn
    /// check) are hidden whatever their name: JSON strings and numbers,
    /// query, form and path parameter values, and such digits in bodies
    /// with no structure.
    public var masksCardNumbers: Bool
    /// The last word over the whole event, after every rule above. When it
    /// throws or takes too long, the event goes out without headers and
    /// bodies rather than unmasked.
    public var redactEvent: (@Sendable (inout ExchangeRecord) throws -> Void)?

    /// Body rules: field names at any depth, and JSONPaths.
    public struct BodyRules: Sendable, Hashable {
        /// JSON members and form fields whose values are hidden, at any depth.
        public var fields: [FieldMatcher]
        /// JSONPaths whose values are hidden.
        public var paths: [JSONPath]

        /// Creates body rules.
        public init(fields: [FieldMatcher] = RedactionOptions.defaultFields, paths: [JSONPath] = []) {
            self.fields = fields
            self.paths = paths
        }

        /// The default field names, no paths.
        public static let `default` = BodyRules()

        /// Nothing hidden.
        public static let none = BodyRules(fields: [], paths: [])
    }

    /// Creates redaction options; every argument defaults to the built-in lists.
    ///
    /// - Parameters:
    ///   - headers: header names whose values are hidden; ``defaultHeaders``
    ///     by default.
    ///   - queryParameters: query parameters hidden in the event's `url` and
    ///     `query`; ``defaultQueryParameters`` by default.
    ///   - requestBody: rules for request bodies; ``BodyRules/default`` by
    ///     default.
    ///   - responseBody: rules for response bodies; ``BodyRules/default`` by
    ///     default.
    ///   - allowlist: when set, the only names that keep their values, in
    ///     headers, query parameters and bodies alike; `nil` (the default)
    ///     for none.
    ///   - replacement: what a hidden value becomes; `[REDACTED]` by default.
    ///   - unparseableBodyMarker: what a body becomes when rules apply to it
    ///     and it cannot be parsed as its content type says;
    ///     `[REDACTED: body could not be parsed]` by default.
    ///   - masksCardNumbers: whether values that look like payment card
    ///     numbers are hidden whatever their name; `true` by default.
    ///   - redactEvent: the last word over the whole event, after every rule
    ///     above; `nil` (the default) for none.
    public init(
        headers: [FieldMatcher] = RedactionOptions.defaultHeaders,
        queryParameters: [FieldMatcher] = RedactionOptions.defaultQueryParameters,
        requestBody: BodyRules = .default,
        responseBody: BodyRules = .default,
        allowlist: Set<String>? = nil,
        replacement: String = "[REDACTED]",
        unparseableBodyMarker: String = "[REDACTED: body could not be parsed]",
        masksCardNumbers: Bool = true,
        redactEvent: (@Sendable (inout ExchangeRecord) throws -> Void)? = nil
    ) {
        self.headers = headers
        self.queryParameters = queryParameters
        self.requestBody = requestBody
        self.responseBody = responseBody
        self.allowlist = allowlist
        self.replacement = replacement
        self.unparseableBodyMarker = unparseableBodyMarker
        self.masksCardNumbers = masksCardNumbers
        self.redactEvent = redactEvent
    }

    /// Headers whose name's words name a credential (``FieldMatcher/credentialHeader``):
    /// `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
    /// `X-API-Key`, `X-Auth-Token`, `X-Client-Secret`, `X-Session-ID`,
    /// `Private-Key`, `X-Hub-Signature-256`, `Ocp-Apim-Subscription-Key` and
    /// their kind.
    public static let defaultHeaders: [FieldMatcher] = [.credentialHeader]

    /// Query parameters hidden by default: the body fields' words, plus
    /// `key` and `code` alone and `session` (``FieldMatcher/credentialQueryParameter``).
    public static let defaultQueryParameters: [FieldMatcher] = [.credentialQueryParameter] + defaultNames

    /// Body fields hidden by default: any name whose words name a credential
    /// (``FieldMatcher/credentialField``), and these exact names.
    public static let defaultFields: [FieldMatcher] = [.credentialField] + defaultNames

    private static let defaultNames: [FieldMatcher] = [
        "password", "pwd", "passwd", "pass", "secret", "client_secret", "token", "access_token",
        "refresh_token", "id_token", "api_key", "apikey", "api-key", "auth", "authorization",
        "card_number", "cardnumber", "credit_card", "creditcard", "cvv", "cvc", "ccv", "ssn",
        "private_key",
    ]

    /// Every default in force.
    public static let `default` = RedactionOptions()

    /// Nothing hidden at all; for development against fake data only.
    public static let none = RedactionOptions(
        headers: [], queryParameters: [], requestBody: .none, responseBody: .none, masksCardNumbers: false)

    func validate(field: String) throws(ConfigurationError) {
        for (index, matcher) in headers.enumerated() where !matcher.isValid {
            throw ConfigurationError(field: "\(field).headers[\(index)]", reason: "matches no name")
        }
        for (index, matcher) in queryParameters.enumerated() where !matcher.isValid {
            throw ConfigurationError(field: "\(field).queryParameters[\(index)]", reason: "matches no name")
        }
        for (name, rules) in [("requestBody", requestBody), ("responseBody", responseBody)] {
            for (index, matcher) in rules.fields.enumerated() where !matcher.isValid {
                throw ConfigurationError(field: "\(field).\(name).fields[\(index)]", reason: "matches no name")
            }
        }
        if let allowlist, allowlist.contains("") {
            throw ConfigurationError(field: "\(field).allowlist", reason: "holds an empty name")
        }
    }
}
