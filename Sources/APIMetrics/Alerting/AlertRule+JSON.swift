/// Rules from a JSON file (`APIMETRICS_ALERTS=path`):
///
/// ```json
/// {"rules": [
///   {"name": "errors", "when": "server_error_rate", "above": 0.05, "min_calls": 20, "window": "1m", "for": "2m"},
///   {"name": "slow orders", "when": "latency", "percentile": 99, "above": "800ms", "window": "5m",
///    "scope": {"route": "/orders/{id}", "method": "GET"}},
///   {"name": "quiet", "when": "traffic", "below": 1, "window": "10m"},
///   {"name": "new errors", "when": "new_server_error_group"},
///   {"name": "acme errors", "when": "consumer_error_rate", "above": 0.2, "scope": {"consumer": "acme"}},
///   {"name": "breaking", "when": "api_change", "kinds": ["field_gone", "type_changed"]},
///   "defaults"
/// ]}
/// ```
///
/// Durations are a number of seconds or text with a unit (`500ms`, `90s`,
/// `5m`, `2h`, `1d`). Optional members: `scope` (`route` with an optional
/// `method`, `method`, or `consumer`; all calls when missing), `window`
/// (1m), `for` (0s), `repeat` (1h; `0s` never), `hysteresis` (0.1). The
/// string `"defaults"` stands for ``AlertRule/defaults``. A member the
/// format does not have is an error, so that a typo is not a rule that
/// silently never fires.
extension AlertRule {
    /// The largest rules file read.
    static let maxFileBytes = 1 << 20

    /// The rules a JSON document describes; the error names the rule (its
    /// place and name) and the field.
    static func rules(fromJSON bytes: [UInt8], field: String = "APIMETRICS_ALERTS") throws(ConfigurationError) -> [AlertRule] {
        guard bytes.count <= maxFileBytes else {
            throw ConfigurationError(
                field: field, reason: "the rules file has \(bytes.count) bytes; at most \(maxFileBytes) are read")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes, maxDepth: 8)
        } catch let .invalid(offset) {
            throw ConfigurationError(field: field, reason: "the rules file is not valid JSON (at byte \(offset))")
        } catch {
            throw ConfigurationError(field: field, reason: "the rules file is nested too deep")
        }
        let list: [JSONValue]
        switch root {
        case let .array(items): list = items
        case let .object(members):
            guard members.count == 1, members[0].key == "rules", case let .array(items) = members[0].value else {
                throw ConfigurationError(field: field, reason: "the rules file must be {\"rules\": [...]} or an array of rules")
            }
            list = items
        default:
            throw ConfigurationError(field: field, reason: "the rules file must be {\"rules\": [...]} or an array of rules")
        }
        var rules: [AlertRule] = []
        for (position, item) in list.enumerated() {
            if item == .string("defaults") {
                rules += defaults
                continue
            }
            rules.append(try rule(item, field: "\(field) rules[\(position)]"))
        }
        return rules
    }

    private static func rule(_ value: JSONValue, field: String) throws(ConfigurationError) -> AlertRule {
        guard case let .object(members) = value else {
            throw ConfigurationError(field: field, reason: "must be an object (or \"defaults\")")
        }
        var fields: [String: JSONValue] = [:]
        for member in members {
            guard fields.updateValue(member.value, forKey: member.key) == nil else {
                throw ConfigurationError(field: "\(field).\(member.key.prefix(40))", reason: "is given twice")
            }
        }
        guard case let .string(name)? = fields["name"] else {
            throw ConfigurationError(field: "\(field).name", reason: "is missing: every rule has a name")
        }
        let field = "\(field) (\"\(name.prefix(100))\")"
        guard case let .string(when)? = fields["when"] else {
            throw ConfigurationError(
                field: "\(field).when",
                reason:
                    "is missing: name server_error_rate, latency, traffic, new_server_error_group, consumer_error_rate or api_change"
            )
        }
        var allowed: Set<String> = ["name", "when", "scope", "window", "for", "repeat", "hysteresis"]
        let condition: AlertCondition
        switch when {
        case "server_error_rate", "consumer_error_rate":
            allowed.formUnion(["above", "min_calls"])
            let above = try number(fields["above"], field: "\(field).above", required: true) ?? 0
            let minimum = try integer(fields["min_calls"], field: "\(field).min_calls") ?? 20
            condition =
                when == "server_error_rate"
                ? .serverErrorRate(above: above, minimumCalls: minimum) : .consumerErrorRate(above: above, minimumCalls: minimum)
        case "latency":
            allowed.formUnion(["above", "percentile"])
            guard let percentile = try number(fields["percentile"], field: "\(field).percentile", required: true),
                let above = try duration(fields["above"], field: "\(field).above")
            else {
                throw ConfigurationError(field: "\(field).above", reason: "is missing: a duration such as \"800ms\"")
            }
            condition = .latency(percentile: percentile, above: above)
        case "traffic":
            allowed.insert("below")
            condition = .traffic(below: try integer(fields["below"], field: "\(field).below") ?? 1)
        case "new_server_error_group":
            condition = .newServerErrorGroup
        case "api_change":
            allowed.insert("kinds")
            var kinds: Set<String> = ["new_endpoint", "field_gone", "type_changed"]
            if let value = fields["kinds"] {
                guard case let .array(items) = value else {
                    throw ConfigurationError(field: "\(field).kinds", reason: "must be an array of change kinds")
                }
                kinds = []
                for item in items {
                    guard case let .string(kind) = item else {
                        throw ConfigurationError(field: "\(field).kinds", reason: "must be an array of change kinds")
                    }
                    kinds.insert(kind)
                }
            }
            condition = .apiChange(kinds)
        default:
            throw ConfigurationError(
                field: "\(field).when",
                reason:
                    "\"\(when.prefix(40))\" is not a condition: name server_error_rate, latency, traffic, new_server_error_group, consumer_error_rate or api_change"
            )
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw ConfigurationError(
                field: "\(field).\(key.prefix(40))",
                reason: "is not a field of a \(when) rule (fields: \(allowed.sorted().joined(separator: ", ")))")
        }
        var rule = AlertRule(name, when: condition, scope: try scope(fields["scope"], field: "\(field).scope"))
        if let window = try duration(fields["window"], field: "\(field).window") { rule.window = window }
        if let pending = try duration(fields["for"], field: "\(field).for") { rule.pendingFor = pending }
        if let repeatInterval = try duration(fields["repeat"], field: "\(field).repeat") { rule.repeatInterval = repeatInterval }
        if let hysteresis = try number(fields["hysteresis"], field: "\(field).hysteresis", required: false) {
            rule.hysteresis = hysteresis
        }
        return rule
    }

    private static func scope(_ value: JSONValue?, field: String) throws(ConfigurationError) -> AlertScope {
        guard let value else { return .all }
        if value == .string("all") { return .all }
        guard case let .object(members) = value else {
            throw ConfigurationError(
                field: field, reason: "must be \"all\" or an object with route (and method), method, consumer or consumer_group")
        }
        var route: String?, method: String?, consumer: String?, group: String?
        for member in members {
            guard case let .string(text) = member.value else {
                throw ConfigurationError(field: "\(field).\(member.key.prefix(40))", reason: "must be a string")
            }
            switch member.key {
            case "route": route = text
            case "method": method = text
            case "consumer": consumer = text
            case "consumer_group": group = text
            default:
                throw ConfigurationError(
                    field: "\(field).\(member.key.prefix(40))",
                    reason: "is not a scope: name route (and method), method, consumer or consumer_group")
            }
        }
        switch (route, method, consumer, group) {
        case let (route?, method, nil, nil): return .route(route, method: method)
        case let (nil, method?, nil, nil): return .method(method)
        case let (nil, nil, consumer?, nil): return .consumer(consumer)
        case let (nil, nil, nil, group?): return .consumerGroup(group)
        default:
            throw ConfigurationError(
                field: field, reason: "takes route (and method), method, consumer or consumer_group, not several")
        }
    }

    private static func number(_ value: JSONValue?, field: String, required: Bool) throws(ConfigurationError) -> Double? {
        guard let value else {
            if required { throw ConfigurationError(field: field, reason: "is missing") }
            return nil
        }
        guard case let .number(text) = value, let number = Double(text), number.isFinite else {
            throw ConfigurationError(field: field, reason: "must be a number")
        }
        return number
    }

    private static func integer(_ value: JSONValue?, field: String) throws(ConfigurationError) -> Int? {
        guard let value else { return nil }
        guard case let .number(text) = value, let number = Int(text) else {
            throw ConfigurationError(field: field, reason: "must be a whole number")
        }
        return number
    }

    /// A number of seconds or text with a unit: `500ms`, `90s`, `5m`, `2h`, `1d`.
    static func duration(_ value: JSONValue?, field: String) throws(ConfigurationError) -> Duration? {
        guard let value else { return nil }
        let seconds: Double?
        switch value {
        case let .number(text): seconds = Double(text)
        case let .string(text): seconds = durationSeconds(text)
        default: seconds = nil
        }
        guard let seconds, seconds.isFinite, abs(seconds) <= 365 * 86_400 else {
            throw ConfigurationError(
                field: field, reason: "must be a duration: seconds, or a number with ms, s, m, h or d (\"90s\", \"5m\")")
        }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    static func durationSeconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)) else { continue }
            return number * scale
        }
        return nil
    }
}
