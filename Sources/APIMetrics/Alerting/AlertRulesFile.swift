/// A rules file as `APIMETRICS_ALERTS` names it, for the command line.
package enum AlertRulesFile {
    /// The rules of `path` (JSON), or ``AlertRule/defaults`` for `default`, validated.
    package static func read(_ path: String) throws(ConfigurationError) -> [AlertRule] {
        let rules: [AlertRule]
        if path == "default" || path == "defaults" {
            rules = AlertRule.defaults
        } else {
            let bytes: [UInt8]
            do {
                bytes = try OpenAPISpec.readFile(path)
            } catch {
                throw ConfigurationError(field: "RULES", reason: error.reason)
            }
            rules = try AlertRule.rules(fromJSON: bytes, field: "RULES")
        }
        try AlertOptions(rules: rules).validate(metricsInterval: .seconds(60))
        return rules
    }
}
