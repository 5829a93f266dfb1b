/// The API consumer who made a call: a customer, an application, a user.
///
/// Returned by the ``ConsumerIdentifier`` of ``APIMetricsConfiguration``;
/// `nil` there means an anonymous call. When the event is built, white space
/// around each field is trimmed and values are cut to the limits, in
/// characters and in UTF-8 bytes, at a character boundary: `id`, `email`
/// and `company` to 128 characters and 256 bytes, `name` and `group` to 64
/// characters and 128 bytes. (A character can be any number of bytes: a
/// letter with a thousand combining marks is one character.)
public struct Consumer: Sendable, Hashable {
    /// The longest `id` kept, in characters.
    public static let maxIDLength = 128
    /// The longest `id`, `email` or `company` kept, in UTF-8 bytes.
    public static let maxIDBytes = 256
    /// The longest `name` or `group` kept, in characters.
    public static let maxNameLength = 64
    /// The longest `name` or `group` kept, in UTF-8 bytes.
    public static let maxNameBytes = 128

    /// A stable identifier of the consumer, such as a customer id.
    public var id: String
    /// A readable name for dashboards.
    public var name: String?
    /// A group the consumer belongs to, such as a plan or a tenant.
    public var group: String?
    /// A contact address.
    public var email: String?
    /// The company the consumer belongs to.
    public var company: String?
    /// Free-form values about the consumer.
    public var metadata: [String: String]
    /// The API key the call was made with, when your API authenticates
    /// callers with keys; `nil` otherwise.
    ///
    /// Vendors that group calls by key (ReadMe Metrics' group id is "the
    /// API key used to make the request") get a one-way mask of it, never
    /// the key: when the sender processes the event, ``normalized()``
    /// replaces the key with ReadMe's mask (`sha512-`, the base64 SHA-512 of
    /// the key, `?` and its last four characters) and sets this field to
    /// `nil`, before any exporter, the store or the spool reads the record.
    /// ``ConsumerIdentifier/apiKey(header:)`` sets it, and
    /// ``ConsumerIdentifier/bearerToken(claim:nameClaim:)`` for an opaque token.
    ///
    /// ```swift
    /// config.identifyConsumer = .custom { request in
    ///     guard let key = request.headers["x-api-key"], let account = accounts[key] else { return nil }
    ///     return Consumer(id: account.id, name: account.name, apiKey: key)
    /// }
    /// ```
    public var apiKey: String?
    /// The one-way mask of ``apiKey`` that ``normalized()`` leaves in its
    /// place: what ReadMe's SDKs send as the group id.
    var apiKeyMask: String?

    /// Creates a consumer.
    ///
    /// - Parameters:
    ///   - id: a stable identifier of the consumer, such as a customer id;
    ///     kept to 128 characters and 256 bytes.
    ///   - name: a readable name for dashboards, kept to 64 characters and
    ///     128 bytes; `nil` by default.
    ///   - group: a group the consumer belongs to, such as a plan or a
    ///     tenant, kept to 64 characters and 128 bytes; `nil` by default.
    ///   - email: a contact address, kept to 128 characters and 256 bytes;
    ///     `nil` by default.
    ///   - company: the company the consumer belongs to, kept to
    ///     128 characters and 256 bytes; `nil` by default.
    ///   - metadata: free-form values about the consumer; none by default.
    ///   - apiKey: the API key the call was made with, replaced by a one-way
    ///     mask before any exporter reads it; `nil` (the default) when your
    ///     API does not use keys.
    public init(
        id: String, name: String? = nil, group: String? = nil,
        email: String? = nil, company: String? = nil, metadata: [String: String] = [:],
        apiKey: String? = nil
    ) {
        self.id = id
        self.name = name
        self.group = group
        self.email = email
        self.company = company
        self.metadata = metadata
        self.apiKey = apiKey
    }

    /// The consumer with its fields trimmed and cut to the limits, and
    /// ``apiKey`` replaced by its one-way mask; `nil` when nothing is left
    /// of its id.
    public func normalized() -> Consumer? {
        // The usual consumer (clean fields, no key to mask) is already
        // normal: returned as it is, with no field rebuilt.
        if apiKey == nil, Self.isClean(id, Self.maxIDLength, bytes: Self.maxIDBytes),
            name.map({ Self.isClean($0, Self.maxNameLength, bytes: Self.maxNameBytes) }) ?? true,
            group.map({ Self.isClean($0, Self.maxNameLength, bytes: Self.maxNameBytes) }) ?? true,
            email.map({ Self.isClean($0, Self.maxIDLength, bytes: Self.maxIDBytes) }) ?? true,
            company.map({ Self.isClean($0, Self.maxIDLength, bytes: Self.maxIDBytes) }) ?? true
        {
            return self
        }
        guard let id = Self.cut(id, Self.maxIDLength, bytes: Self.maxIDBytes) else { return nil }
        var consumer = Consumer(
            id: id,
            name: name.flatMap { Self.cut($0, Self.maxNameLength, bytes: Self.maxNameBytes) },
            group: group.flatMap { Self.cut($0, Self.maxNameLength, bytes: Self.maxNameBytes) },
            email: email.flatMap { Self.cut($0, Self.maxIDLength, bytes: Self.maxIDBytes) },
            company: company.flatMap { Self.cut($0, Self.maxIDLength, bytes: Self.maxIDBytes) },
            metadata: metadata
        )
        // The whole key is hashed, however long: a mask of a cut key would
        // match no mask ReadMe's own SDKs made of it. An empty key is none.
        if let apiKey, !Self.trimmed(apiKey).isEmpty {
            consumer.apiKeyMask = ReadMeMask.mask(Self.trimmed(apiKey))
        } else {
            consumer.apiKeyMask = apiKeyMask
        }
        return consumer
    }

    /// `value` trimmed of white space and cut to `limit` characters and
    /// `bytes` UTF-8 bytes; `nil` when nothing is left.
    static func cut(_ value: String, _ limit: Int, bytes: Int) -> String? {
        // The usual value is already clean: kept as it is, with no character
        // walked and no copy made.
        if isClean(value, limit, bytes: bytes) { return value }
        let trimmed = Self.trimmed(value)
        return trimmed.isEmpty ? nil : TextLimit.cut(trimmed, maxCharacters: limit, maxBytes: bytes)
    }

    /// Whether `value` is what ``cut(_:_:bytes:)`` would leave it, seen from
    /// its ends and its length alone: it starts and ends with an ASCII byte
    /// that is not white space (then neither end's character is white
    /// space) and has no more bytes than the limit has characters.
    private static func isClean(_ value: String, _ limit: Int, bytes: Int) -> Bool {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        return utf8.count <= min(limit, bytes) && first < 0x80 && last < 0x80 && !isASCIISpace(first)
            && !isASCIISpace(last)
    }

    /// Tab, line feed, vertical tab, form feed, carriage return, space.
    private static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    static func trimmed(_ value: String) -> String {
        var scalars = Substring(value)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
