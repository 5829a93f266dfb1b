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
        let trimmedID = Self.trimmed(id)
        guard !trimmedID.isEmpty else { return nil }
        func cut(_ value: String?, _ limit: Int) -> String? {
            value.map(Self.trimmed).flatMap { $0.isEmpty ? nil : String($0.prefix(limit)) }
        }
        return Consumer(
            id: String(trimmedID.prefix(Self.maxIDLength)),
            name: cut(name, Self.maxNameLength),
            group: cut(group, Self.maxNameLength),
            email: cut(email, Self.maxIDLength),
            company: cut(company, Self.maxIDLength),
            metadata: metadata
        )
    }

    private static func trimmed(_ value: String) -> String {
        var scalars = Substring(value)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
