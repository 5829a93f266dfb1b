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
    /// window; one covering more than ``AlertEngine/maxWindows`` of them is refused.
    func validate(metricsInterval: Duration) throws(ConfigurationError) {
        guard rules.count <= AlertRule.maxRules else {
            throw ConfigurationError(field: "alerts.rules", reason: "at most \(AlertRule.maxRules) rules, got \(rules.count)")
        }
        var names = Set<String>()
        for rule in rules {
            try rule.validate(field: "alerts.rules")
            // The windows a rule keeps are bounded: a week of minutes, or under three hours of seconds.
            let kept = (rule.window.seconds / max(metricsInterval.seconds, 0.001)).rounded(.up)
            guard kept <= Double(AlertEngine.maxWindows) else {
                throw ConfigurationError(
                    field: "alerts.rules[\"\(rule.name.prefix(100))\"].window",
                    reason: "covers \(Int(kept)) metrics windows of \(metricsInterval); at most \(AlertEngine.maxWindows) are kept: shorten it or lengthen metrics.interval")
            }
            guard names.insert(rule.name).inserted else {
                throw ConfigurationError(field: "alerts.rules[\"\(rule.name.prefix(100))\"].name", reason: "is the name of another rule: names are unique")
            }
        }
    }
}
