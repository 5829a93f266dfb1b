/// The API consumer who made a call: a customer, an application, a user.
///
/// Returned by the ``ConsumerIdentifier`` of ``APIMetricsConfiguration``;
/// `nil` there means an anonymous call. When the event is built, white space
/// around each field is trimmed and values are cut to the limits: `id`,
/// `email` and `company` to 128 characters, `name` and `group` to 64.
public struct Consumer: Sendable, Hashable {
    /// The longest `id` kept, in characters.
    public static let maxIDLength = 128
    /// The longest `name` or `group` kept, in characters.
    public static let maxNameLength = 64

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

    /// Creates a consumer.
    public init(
        id: String, name: String? = nil, group: String? = nil,
        email: String? = nil, company: String? = nil, metadata: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.group = group
        self.email = email
        self.company = company
        self.metadata = metadata
    }

    /// The consumer with its fields trimmed and cut to the limits, or `nil`
    /// when nothing is left of its id.
    public func normalized() -> Consumer? {
        guard let id = Self.cut(id, Self.maxIDLength) else { return nil }
        return Consumer(
            id: id,
            name: name.flatMap { Self.cut($0, Self.maxNameLength) },
            group: group.flatMap { Self.cut($0, Self.maxNameLength) },
            email: email.flatMap { Self.cut($0, Self.maxIDLength) },
            company: company.flatMap { Self.cut($0, Self.maxIDLength) },
            metadata: metadata
        )
    }

    /// `value` trimmed of white space and cut to `limit` characters; `nil`
    /// when nothing is left.
    static func cut(_ value: String, _ limit: Int) -> String? {
        // The usual value is already clean: it starts and ends with an ASCII
        // byte that is not white space (then neither end's character is
        // white space) and has no more bytes than the limit has characters.
        // It is kept as it is, with no character walked and no copy made.
        let utf8 = value.utf8
        if let first = utf8.first, let last = utf8.last, utf8.count <= limit,
           first < 0x80, last < 0x80, !isASCIISpace(first), !isASCIISpace(last) {
            return value
        }
        let trimmed = Self.trimmed(value)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(limit))
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
