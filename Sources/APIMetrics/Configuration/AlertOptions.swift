/// Alerts: the rules evaluated on every metrics window (``AlertRule``);
/// none by default.
///
/// ```swift
/// config.alerts.rules = AlertRule.defaults
/// ```
///
/// `APIMETRICS_ALERTS=default` turns the defaults on; `APIMETRICS_ALERTS=path`
/// reads rules from a JSON file (``AlertRule``'s JSON form).
public struct AlertOptions: Sendable, Hashable {
    /// The rules; names are unique.
    public var rules: [AlertRule]

    /// Creates options.
    public init(rules: [AlertRule] = []) {
        self.rules = rules
    }

    /// No rule.
    public static let none = AlertOptions()

    /// A rule's window shorter than ``MetricsOptions/interval`` covers one
    /// window; a long one is kept in at most ``AlertEngine/maxWindows``
    /// stretches, whatever the interval.
    func validate(metricsInterval: Duration) throws(ConfigurationError) {
        guard rules.count <= AlertRule.maxRules else {
            throw ConfigurationError(field: "alerts.rules", reason: "at most \(AlertRule.maxRules) rules, got \(rules.count)")
        }
        var names = Set<String>()
        for rule in rules {
            try rule.validate(field: "alerts.rules")
            guard names.insert(rule.name).inserted else {
                throw ConfigurationError(
                    field: "alerts.rules[\"\(rule.name.prefix(100))\"].name",
                    reason: "is the name of another rule: names are unique")
            }
        }
    }
}
