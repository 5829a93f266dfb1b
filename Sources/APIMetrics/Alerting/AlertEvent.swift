/// A change of an alert's state, to be told: it fired (or fires still,
/// ``isRepeat``), or it resolved.
public struct AlertEvent: Sendable, Hashable {
    /// `firing` or `resolved`.
    public enum State: String, Sendable, Hashable {
        case firing, resolved
    }

    /// The rule's name.
    public var rule: String
    /// Whether it fired (or fires still) or resolved.
    public var state: State
    /// What was measured when it changed (a share for rates, seconds for
    /// latency, calls for traffic, calls of the group or change for events).
    public var value: Double
    /// The rule's threshold; `nil` for rules on events (a new error group, an API change).
    public var threshold: Double?
    /// The rule's scope (`all`, `GET /orders/{id}`, `consumer acme`).
    public var scope: String
    /// Which of the rule's alerts, for rules with one per consumer, error
    /// group or change (`consumer acme`, `GET /fail TimeoutError`); empty otherwise.
    public var instance: String
    /// When it changed, in nanoseconds since the Unix epoch (a window's end).
    public var timeNanoseconds: Int64
    /// When it started firing.
    public var firingSinceNanoseconds: Int64
    /// Whether it was told before and fires still (the rule's repeat interval).
    public var isRepeat: Bool
    /// One line for a person: what, how much, against what.
    public var summary: String
}

extension AlertEvent {
    /// The transition's identity (32 hex digits, from its rule, instance,
    /// state and time): the same on every delivery of it, so that a receiver
    /// can drop a repeat a retry made.
    public var id: String {
        String(
            SHA256.hexDigest("\(rule)\u{1F}\(instance)\u{1F}\(state.rawValue)\u{1F}\(timeNanoseconds)\u{1F}\(isRepeat)").prefix(
                32))
    }

    /// The transition's members in an open JSON object: what the webhook
    /// sends and the JSON API lists (`id`, `rule`, `state`, `value`, `threshold`,
    /// `scope`, `instance`, `summary`, `time`, `firing_since`, `repeat`).
    func writeMembers(into writer: inout JSONWriter) {
        writer.field("id", id)
        writer.field("rule", rule)
        writer.field("state", state.rawValue)
        writer.field("value", value)
        writer.key("threshold")
        if let threshold { writer.number(threshold) } else { writer.null() }
        writer.field("scope", scope)
        writer.field("instance", instance)
        writer.field("summary", summary)
        writer.field("time", timestamp: timeNanoseconds)
        writer.field("firing_since", timestamp: firingSinceNanoseconds)
        writer.field("repeat", isRepeat)
    }
}
