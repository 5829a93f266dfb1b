import Foundation

/// Users, companies and subscriptions as Moesif's `/v1/users/batch`,
/// `/v1/companies/batch` and `/v1/subscriptions/batch` take them.
extension MoesifEncoding {
    /// The subscription states Moesif documents ("One of [active,
    /// cancelled, paused, trialing, pending, draft, future]").
    static let subscriptionStatuses: Set<String> = ["active", "cancelled", "paused", "trialing", "pending", "draft", "future"]

    /// The status as Moesif spells it, or `nil` when it is not one of
    /// ``subscriptionStatuses``. Case is ignored, and `canceled` (Stripe's
    /// and American spelling of the same state) is `cancelled`.
    static func subscriptionStatus(_ status: String) -> String? {
        var status = status.trimmingCharacters(in: .whitespaces).lowercased()
        if status == "canceled" { status = "cancelled" }
        return subscriptionStatuses.contains(status) ? status : nil
    }

    /// A consumer as a Moesif user: its name, email and group go in the
    /// metadata Moesif shows, beside the consumer's own.
    static func writeUser(_ consumer: Consumer, at nanoseconds: Int64, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("user_id", consumer.id)
        if let company = consumer.company, !company.isEmpty {
            writer.field("company_id", company)
        }
        writer.field("modified_time", time(nanoseconds))
        var metadata = consumer.metadata
        if let name = consumer.name { metadata["name"] = metadata["name"] ?? name }
        if let email = consumer.email { metadata["email"] = metadata["email"] ?? email }
        if let group = consumer.group { metadata["group"] = metadata["group"] ?? group }
        writeMetadata(metadata, into: &writer)
        writer.endObject()
    }

    /// A company profile as a Moesif company.
    static func writeCompany(_ company: CompanyProfile, at nanoseconds: Int64, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("company_id", company.id)
        if let domain = company.domain, !domain.isEmpty {
            writer.field("company_domain", domain)
        }
        writer.field("modified_time", time(nanoseconds))
        var metadata = company.metadata
        if let name = company.name { metadata["name"] = metadata["name"] ?? name }
        writeMetadata(metadata, into: &writer)
        writer.endObject()
    }

    /// A subscription profile as a Moesif subscription: its plan as the one
    /// item's `plan_id`, where Moesif's billing reads it, and its status as
    /// Moesif spells it. The caller has checked the status with
    /// ``subscriptionStatus(_:)``; one without a status goes without
    /// (the batch endpoint's field is optional, and Moesif merges an update
    /// into the profile it holds, keeping the status it had).
    static func writeSubscription(_ subscription: SubscriptionProfile, status: String?, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("subscription_id", subscription.id)
        writer.field("company_id", subscription.companyID)
        if let start = subscription.currentPeriodStartNanoseconds {
            writer.field("current_period_start", time(start))
        }
        if let end = subscription.currentPeriodEndNanoseconds {
            writer.field("current_period_end", time(end))
        }
        writer.field("status", status)
        if let plan = subscription.plan, !plan.isEmpty {
            writer.key("items")
            writer.beginArray()
            writer.beginObject()
            writer.field("plan_id", plan)
            writer.endObject()
            writer.endArray()
        }
        writeMetadata(subscription.metadata, into: &writer)
        writer.endObject()
    }
}
