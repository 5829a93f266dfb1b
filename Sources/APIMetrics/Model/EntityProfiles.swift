/// A company (an account, a tenant) that consumers belong to.
public struct CompanyProfile: Sendable, Hashable {
    /// A stable identifier.
    public var id: String
    /// A readable name.
    public var name: String?
    /// The company's web domain.
    public var domain: String?
    /// Free-form values.
    public var metadata: [String: String]

    /// Creates a company profile.
    public init(id: String, name: String? = nil, domain: String? = nil, metadata: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.domain = domain
        self.metadata = metadata
    }
}

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

/// A profile update sent through the same queue and exporters as events.
public struct EntityRecord: Sendable {
    /// Which kind of profile.
    public enum Profile: Sendable, Hashable {
        /// A consumer's profile (Moesif's `update_user`).
        case consumer(Consumer)
        /// A company's profile (Moesif's `update_company`).
        case company(CompanyProfile)
        /// A subscription (Moesif's `update_subscription`).
        case subscription(SubscriptionProfile)
    }

    /// The profile.
    public var profile: Profile
    /// When it was sent, in nanoseconds since the Unix epoch.
    public var timestampNanoseconds: Int64

    /// The record's `kind`: `consumer`, `company` or `subscription`.
    public var kind: String {
        switch profile {
        case .consumer: return "consumer"
        case .company: return "company"
        case .subscription: return "subscription"
        }
    }

    /// The profile's id.
    public var id: String {
        switch profile {
        case let .consumer(consumer): return consumer.id
        case let .company(company): return company.id
        case let .subscription(subscription): return subscription.id
        }
    }

    var estimatedBytes: Int {
        var total = 256 + id.utf8.count
        let metadata: [String: String]
        switch profile {
        case let .consumer(consumer): metadata = consumer.metadata
        case let .company(company): metadata = company.metadata
        case let .subscription(subscription): metadata = subscription.metadata
        }
        for (key, value) in metadata { total += key.utf8.count + value.utf8.count + 16 }
        return total
    }
}
