/// The API consumer who made a call: a customer, an application, a user.
///
/// Returned by the identify closure of ``APIMetricsConfiguration``; `nil`
/// there means an anonymous call. Values longer than the limits are cut when
/// the event is built, and surrounding white space is trimmed from `id`.
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

    /// Creates a consumer.
    public init(id: String, name: String? = nil, group: String? = nil) {
        self.id = id
        self.name = name
        self.group = group
    }

    /// The consumer with its fields trimmed and cut to the limits, or `nil`
    /// when nothing is left of its id.
    public func normalized() -> Consumer? {
        let trimmedID = Self.trimmed(id)
        guard !trimmedID.isEmpty else { return nil }
        return Consumer(
            id: String(trimmedID.prefix(Self.maxIDLength)),
            name: name.map(Self.trimmed).flatMap { $0.isEmpty ? nil : String($0.prefix(Self.maxNameLength)) },
            group: group.map(Self.trimmed).flatMap { $0.isEmpty ? nil : String($0.prefix(Self.maxNameLength)) }
        )
    }

    private static func trimmed(_ value: String) -> String {
        var scalars = Substring(value)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
