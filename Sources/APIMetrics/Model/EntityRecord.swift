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
