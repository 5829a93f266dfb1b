@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("Alerts: rules in code, from a file and from the environment")
struct AlertRuleTests {
    func parse(_ text: String) throws(ConfigurationError) -> [AlertRule] {
        try AlertRule.rules(fromJSON: Array(text.utf8))
    }

    func failure(_ text: String) -> ConfigurationError? {
        do {
            var config = APIMetricsConfiguration.default
            config.alerts.rules = try parse(text)
            try config.alerts.validate(metricsInterval: .seconds(60))
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileReadsAsTheSameRulesWrittenInCode() throws {
        let rules = try parse(
            #"""
            {"rules": [
              {"name": "errors", "when": "server_error_rate", "above": 0.05, "min_calls": 20, "window": "1m", "for": "2m"},
              {"name": "slow orders", "when": "latency", "percentile": 99, "above": "800ms", "window": "5m",
               "scope": {"route": "/orders/{id}", "method": "GET"}, "repeat": "0s", "hysteresis": 0.2},
              {"name": "quiet", "when": "traffic", "below": 10, "window": 600},
              {"name": "acme", "when": "consumer_error_rate", "above": 0.2, "scope": {"consumer": "acme"}},
              {"name": "breaking", "when": "api_change", "kinds": ["field_gone"]},
              {"name": "free tier", "when": "server_error_rate", "above": 0.1, "scope": {"consumer_group": "free"}},
              "defaults"
            ]}
            """#)
        #expect(rules.count == 6 + AlertRule.defaults.count)
        #expect(
            rules[0]
                == AlertRule(
                    "errors", when: .serverErrorRate(above: 0.05, minimumCalls: 20), window: .seconds(60), for: .seconds(120)))
        #expect(
            rules[1]
                == AlertRule(
                    "slow orders", when: .latency(percentile: 99, above: .milliseconds(800)),
                    scope: .route("/orders/{id}", method: "GET"),
                    window: .seconds(300), repeatInterval: .zero, hysteresis: 0.2))
        #expect(rules[2] == AlertRule("quiet", when: .traffic(below: 10), window: .seconds(600)))
        #expect(rules[3].scope == .consumer("acme"))
        #expect(rules[4].condition == .apiChange(["field_gone"]))
        #expect(rules[5].scope == .consumerGroup("free") && rules[5].scope.description == "consumer group free")
        #expect(Array(rules[6...]) == AlertRule.defaults)
        var config = APIMetricsConfiguration.default
        config.alerts.rules = rules
        try config.alerts.validate(metricsInterval: .seconds(60))
    }

    @Test(arguments: [
        (#"[{"name": "a", "when": "latency", "percentile": 100, "above": "1s"}]"#, #"alerts.rules["a"].percentile"#),
        (#"[{"name": "a", "when": "latency", "percentile": 99, "above": "1s"}]"#, ""),
        (#"[{"name": "a", "when": "server_error_rate", "above": 0.05, "for": "-5s"}]"#, #"alerts.rules["a"].for"#),
        (#"[{"name": "a", "when": "server_error_rate", "above": 0.05, "window": "0s"}]"#, #"alerts.rules["a"].window"#),
        (#"[{"name": "a", "when": "server_error_rate", "above": 5}]"#, #"alerts.rules["a"].above"#),
        (
            #"[{"name": "a", "when": "server_error_rate", "above": 0.05, "scope": {"route": "orders/{id}"}}]"#,
            #"alerts.rules["a"].scope.route"#
        ),
        (
            #"[{"name": "a", "when": "server_error_rate", "above": 0.05, "scope": {"route": "/orders?x"}}]"#,
            #"alerts.rules["a"].scope.route"#
        ),
        (
            #"[{"name": "a", "when": "server_error_rate", "above": 0.05, "scope": {"team": "x"}}]"#,
            #"APIMETRICS_ALERTS rules[0] ("a").scope.team"#
        ),
        (
            #"[{"name": "a", "when": "server_error_rate", "above": 0.05, "scope": {"method": "get"}}]"#,
            #"alerts.rules["a"].scope.method"#
        ),
        (
            #"[{"name": "a", "when": "latency", "percentile": 99, "above": "1s", "scope": {"consumer": "x"}}]"#,
            #"alerts.rules["a"].scope"#
        ),
        (
            #"[{"name": "a", "when": "server_error_rate", "above": 0.05, "treshold": 1}]"#,
            #"APIMETRICS_ALERTS rules[0] ("a").treshold"#
        ),
        (#"[{"name": "a", "when": "errors"}]"#, #"APIMETRICS_ALERTS rules[0] ("a").when"#),
        (#"[{"when": "traffic"}]"#, "APIMETRICS_ALERTS rules[0].name"),
        (#"[{"name": "a", "when": "traffic", "window": "soon"}]"#, #"APIMETRICS_ALERTS rules[0] ("a").window"#),
        (#"[{"name": "a", "when": "api_change", "kinds": ["field_renamed"]}]"#, #"alerts.rules["a"].kinds"#),
        (#"[{"name": "a", "when": "traffic"}, {"name": "a", "when": "traffic"}]"#, #"alerts.rules["a"].name"#),
        (#"{"alerts": []}"#, "APIMETRICS_ALERTS"),
        (#"[{"name": "a", "when": "new_server_error_group", "scope": {"consumer": "x"}}]"#, #"alerts.rules["a"].scope"#),
        (
            #"[{"name": "a", "when": "latency", "percentile": 99, "above": "1s", "scope": {"consumer_group": "free"}}]"#,
            #"alerts.rules["a"].scope"#
        ),
        (#"[{"name": "a", "when": "api_change", "scope": {"consumer_group": "free"}}]"#, #"alerts.rules["a"].scope"#),
        (#"[{"name": "a", "when": "traffic", "scope": {"consumer_group": ""}}]"#, #"alerts.rules["a"].scope.consumer_group"#),
        (
            #"[{"name": "a", "when": "traffic", "scope": {"consumer_group": " gold"}}]"#,
            #"alerts.rules["a"].scope.consumer_group"#
        ),
        (
            #"[{"name": "a", "when": "traffic", "scope": {"consumer_group": "free", "consumer": "x"}}]"#,
            #"APIMETRICS_ALERTS rules[0] ("a").scope"#
        ),
        (
            #"[{"name": "a", "when": "consumer_error_rate", "above": 0.1, "scope": {"method": "GET"}}]"#,
            #"alerts.rules["a"].scope"#
        ),
        (#"[{"name": "a", "when": "traffic", "window": "8d"}]"#, #"alerts.rules["a"].window"#),
        (#"[{"name": "a", "when": "traffic", "repeat": "400d"}]"#, #"APIMETRICS_ALERTS rules[0] ("a").repeat"#),
    ])
    func aWrongRuleFailsNamingTheRuleAndTheField(text: String, field: String) {
        let error = failure(text)
        #expect(error?.field ?? "" == field, "\(error.map(\.description) ?? "no error")")
        if let error { #expect(!error.reason.isEmpty) }
    }

    @Test func theEnvironmentTurnsTheDefaultsOnOrReadsAFileAndAWrongOneStopsStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ALERTS": "default"])
        #expect(config.alerts.rules == AlertRule.defaults)
        let path = directory.file("alerts.json")
        try Data(#"[{"name": "quiet", "when": "traffic", "window": "10m"}]"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ALERTS": path]).alerts.rules.map(\.name) == ["quiet"])
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ALERTS": directory.file("none.json")])
        }
        // A rule that parses but is wrong stops start, naming the rule and the field.
        try Data(#"[{"name": "slow", "when": "latency", "percentile": 0, "above": "1s"}]"#.utf8).write(
            to: URL(fileURLWithPath: path))
        #expect { try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ALERTS": path]) } throws: { error in
            (error as? ConfigurationError)?.field == #"alerts.rules["slow"].percentile"#
        }
        var wrong = storeConfiguration(directory.file("s.sqlite"))
        wrong.alerts.rules = [AlertRule("slow", when: .latency(percentile: 0, above: .seconds(1)))]
        #expect { try APIMetricsService(configuration: wrong) } throws: { error in
            (error as? ConfigurationError)?.field == #"alerts.rules["slow"].percentile"#
        }
    }

    /// A route's parameters match in either form in Prometheus (the
    /// exposition's routes are the router's); other characters are literal.
    @Test(arguments: [
        ("/orders/{id}", #"route=~"/orders/(\\{[^/]*\\}|:[^/]*)""#),
        ("/orders/:id/items.json", #"route=~"/orders/(\\{[^/]*\\}|:[^/]*)/items\\.json""#),
        ("/health", #"route="/health""#),
        ("/a+b/{x}", #"route=~"/a\\+b/(\\{[^/]*\\}|:[^/]*)""#),
    ])
    func aRoutesParametersMatchInEitherFormInPrometheus(route: String, matcher: String) {
        #expect(PrometheusAlertRules.routeMatcher(route) == matcher)
    }
}
