/// The rules as Prometheus alerting rules over the exposition's metric
/// names (``PrometheusExposition``), so that a team running many instances
/// alerts on their sum: `apimetrics alerts --prometheus rules.json`.
///
/// What Prometheus cannot say from the exposition is left out and named in
/// a comment: a new server-error group, a consumer's error rate, an API
/// change, and any rule scoped to a consumer. Hysteresis has no
/// counterpart, and repeats are Alertmanager's (`repeat_interval`).
package enum PrometheusAlertRules {
    /// The rules file (YAML), and the rules left out with why.
    package static func render(_ rules: [AlertRule], group: String = "apimetrics") -> (yaml: String, skipped: [String]) {
        var lines = [
            "# Alerting rules written by `apimetrics alerts --prometheus` from APIMetrics rules.", "groups:",
            "  - name: \(quoted(group))", "    rules:",
        ]
        var skipped: [String] = []
        var names = Set<String>()
        for rule in rules {
            guard let expression = expression(rule) else {
                skipped.append("\(rule.name): \(reason(rule))")
                lines.append("      # \(clean(rule.name)): left out, \(reason(rule))")
                continue
            }
            var name = alertName(rule.name)
            var suffix = 2
            while !names.insert(name).inserted {
                name = alertName(rule.name) + String(suffix)
                suffix += 1
            }
            lines.append("      - alert: \(name)")
            lines.append("        expr: \(quoted(expression))")
            if rule.pendingFor > .zero { lines.append("        for: \(duration(rule.pendingFor))") }
            lines.append("        labels:")
            lines.append("          source: apimetrics")
            lines.append("          rule: \(quoted(rule.name))")
            lines.append("        annotations:")
            lines.append("          summary: \(quoted(summary(rule)))")
        }
        if rules.count == skipped.count { lines.append("      []") }
        return (lines.joined(separator: "\n") + "\n", skipped)
    }

    static func expression(_ rule: AlertRule) -> String? {
        guard let selector = selector(rule.scope) else { return nil }
        let window = duration(rule.window)
        let count = "http_server_request_duration_seconds_count"
        switch rule.condition.kind {
        case let .serverErrorRate(above, minimum):
            let errors = selector.isEmpty ? #"status=~"5..""# : selector + #",status=~"5..""#
            return
                "(sum(increase(\(count){\(errors)}[\(window)])) or vector(0)) / sum(increase(\(count){\(selector)}[\(window)])) > \(number(above))"
                + " and sum(increase(\(count){\(selector)}[\(window)])) >= \(minimum)"
        case let .latency(percentile, seconds):
            // histogram_quantile never reads past the largest finite bucket: such a rule could not fire.
            guard seconds < (PrometheusBuckets.durationSeconds.last ?? 10) else { return nil }
            return
                "histogram_quantile(\(number(percentile / 100)), sum by (le) (rate(http_server_request_duration_seconds_bucket{\(selector)}[\(window)]))) > \(number(seconds))"
        case let .traffic(floor):
            // Series exist once calls were seen: before any, the sum is empty and nothing fires (as APIMetrics waits for traffic).
            // increase() extrapolates: "none" is below half a call, not below one.
            return "sum(increase(\(count){\(selector)}[\(window)])) < \(floor == 1 ? "0.5" : String(floor))"
        case .newServerErrorGroup, .consumerErrorRate, .apiChange:
            return nil
        }
    }

    private static func reason(_ rule: AlertRule) -> String {
        switch rule.condition.kind {
        case .latency:
            "the threshold is past the exposition's largest latency bucket (\(AlertEngine.number(PrometheusBuckets.durationSeconds.last ?? 10)) s)"
        case .newServerErrorGroup: "error groups are not in the exposition"
        case .consumerErrorRate: "errors per consumer are not in the exposition"
        case .apiChange: "API changes are not in the exposition"
        default: "the exposition's latency and status series have no consumer label"
        }
    }

    /// The label matchers of a scope; `nil` when the exposition cannot select it.
    static func selector(_ scope: AlertScope) -> String? {
        switch scope.kind {
        case .all: ""
        case let .route(route, method): routeMatcher(route) + (method.map { ",method=\(quoted($0))" } ?? "")
        case let .method(method): "method=\(quoted(method))"
        case .consumer, .consumerGroup: nil
        }
    }

    /// The route's matcher: exact without parameters; with them, a regular
    /// expression (RE2, anchored by Prometheus) that takes each parameter in
    /// either form (`{id}` or `:id`), since the exposition's routes are as
    /// the router wrote them and a rule's `:id` is a series' `{id}`.
    static func routeMatcher(_ route: String) -> String {
        let segments = route.split(separator: "/", omittingEmptySubsequences: false)
        var pattern = ""
        var hasParameter = false
        for (index, segment) in segments.enumerated() {
            if index > 0 { pattern += "/" }
            var name: Substring?
            if segment.count > 2, segment.first == "{", segment.last == "}" { name = segment.dropFirst().dropLast() }
            if segment.count > 1, segment.first == ":" { name = segment.dropFirst() }
            if let name, !name.contains(where: { "{}:/".contains($0) }) {
                // Any parameter, by any name, in either form: the engine takes `/orders/{id}` and `/orders/:orderId` as one route.
                hasParameter = true
                pattern += "(\\{[^/]*\\}|:[^/]*)"
            } else {
                pattern += regexLiteral(segment)
            }
        }
        return hasParameter ? "route=~\(quoted(pattern))" : "route=\(quoted(route))"
    }

    /// Text matched as itself in RE2.
    private static func regexLiteral(_ text: Substring) -> String {
        var escaped = ""
        for character in text {
            if "\\.+*?()|[]{}^$".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// A rule's name as an alert name: letters, digits and `_`, starting with a letter.
    static func alertName(_ name: String) -> String {
        var words: [String] = []
        var word = ""
        for character in name.unicodeScalars {
            if character.properties.isAlphabetic && character.isASCII || ("0"..."9").contains(character) {
                word.unicodeScalars.append(character)
            } else if !word.isEmpty {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        let joined = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        guard let first = joined.unicodeScalars.first, first.properties.isAlphabetic else { return "APIMetrics" + joined }
        return joined
    }

    private static func summary(_ rule: AlertRule) -> String {
        let scope = rule.scope.description == "all" ? "" : " on \(rule.scope)"
        switch rule.condition.kind {
        case let .serverErrorRate(above, minimum):
            return
                "server errors above \(AlertEngine.percent(above)) of at least \(minimum) calls over \(AlertEngine.span(rule.window))\(scope)"
        case let .latency(percentile, seconds):
            return
                "p\(AlertEngine.number(percentile)) above \(AlertEngine.duration(seconds)) over \(AlertEngine.span(rule.window))\(scope)"
        case let .traffic(floor):
            return "fewer than \(floor) calls over \(AlertEngine.span(rule.window))\(scope)"
        default:
            return rule.name
        }
    }

    /// Prometheus's duration: whole seconds, minutes or hours.
    static func duration(_ value: Duration) -> String {
        let milliseconds = Int64((value.seconds * 1_000).rounded())
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        return "\(milliseconds)ms"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A YAML double-quoted scalar (JSON's escapes).
    static func quoted(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 8)
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private static func clean(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
