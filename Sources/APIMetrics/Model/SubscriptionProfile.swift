/// A company's subscription to a plan.
public struct SubscriptionProfile: Sendable, Hashable {
    /// A stable identifier.
    public var id: String
    /// The company that holds it.
    public var companyID: String
    /// The plan's name.
    public var plan: String?
    /// Its state, such as `active` or `cancelled`.
    public var status: String?
    /// When the current period started, in nanoseconds since the Unix epoch.
    public var currentPeriodStartNanoseconds: Int64?
    /// When the current period ends, in nanoseconds since the Unix epoch.
    public var currentPeriodEndNanoseconds: Int64?
    /// Free-form values.
    public var metadata: [String: String]

    /// Creates a subscription profile.
    ///
    /// - Parameters:
    ///   - id: a stable identifier.
    ///   - companyID: the company that holds it.
    ///   - plan: the plan's name; `nil` by default.
    ///   - status: its state, such as `active` or `cancelled`; `nil` by
    ///     default.
    ///   - currentPeriodStartNanoseconds: when the current period started, in
    ///     nanoseconds since the Unix epoch; `nil` by default.
    ///   - currentPeriodEndNanoseconds: when the current period ends, in
    ///     nanoseconds since the Unix epoch; `nil` by default.
    ///   - metadata: free-form values; none by default.
    public init(
        id: String, companyID: String, plan: String? = nil, status: String? = nil,
        currentPeriodStartNanoseconds: Int64? = nil, currentPeriodEndNanoseconds: Int64? = nil,
        metadata: [String: String] = [:]
    ) {
        self.id = id
        self.companyID = companyID
        self.plan = plan
        self.status = status
        self.currentPeriodStartNanoseconds = currentPeriodStartNanoseconds
        self.currentPeriodEndNanoseconds = currentPeriodEndNanoseconds
        self.metadata = metadata
    }
}
