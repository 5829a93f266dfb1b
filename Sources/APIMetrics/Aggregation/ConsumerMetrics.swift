/// One consumer's calls, counted from its identified events with their
/// sampling weights (an event kept at a 10% sample rate counts 10 calls).
///
/// At most ``MetricsOptions/maxConsumers`` consumers are tracked; the calls
/// of later ones count in one row whose id is ``otherConsumersID``.
public struct ConsumerMetrics: Sendable, Hashable {
    /// The id of the row that counts the calls of consumers past
    /// ``MetricsOptions/maxConsumers``.
    public static let otherConsumersID = "(other consumers)"

    /// The consumer's id, as identification found it.
    public var id: String
    /// Its display name, when identification gave one.
    public var name: String?
    /// Its group (plan, tier), when identification gave one.
    public var group: String?
    /// Calls, weighted.
    public var requests: Double
    /// Calls answered 4xx, weighted.
    public var clientErrors: Double
    /// Calls answered 5xx, weighted.
    public var serverErrors: Double

    /// Creates a consumer's figures.
    ///
    /// - Parameters:
    ///   - id: the consumer's id, as identification found it.
    ///   - name: its display name; `nil` when identification gave none.
    ///   - group: its group (plan, tier); `nil` when identification gave
    ///     none.
    ///   - requests: calls, weighted.
    ///   - clientErrors: calls answered 4xx, weighted.
    ///   - serverErrors: calls answered 5xx, weighted.
    public init(
        id: String, name: String? = nil, group: String? = nil, requests: Double = 0, clientErrors: Double = 0,
        serverErrors: Double = 0
    ) {
        self.id = id
        self.name = name
        self.group = group
        self.requests = requests
        self.clientErrors = clientErrors
        self.serverErrors = serverErrors
    }

    /// Adds another window's figures for the same consumer.
    public mutating func merge(_ other: ConsumerMetrics) {
        if name == nil { name = other.name }
        if group == nil { group = other.group }
        requests += other.requests
        clientErrors += other.clientErrors
        serverErrors += other.serverErrors
    }
}
