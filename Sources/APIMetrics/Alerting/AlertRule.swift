/// A condition over the metrics that is worth telling someone about, how
/// long it must hold before it fires, and which calls it looks at.
///
/// ```swift
/// config.alerts.rules = AlertRule.defaults + [
///     AlertRule("orders slow", when: .latency(percentile: 95, above: .milliseconds(300)),
///               scope: .route("/orders/{id}", method: "GET"), window: .seconds(300), for: .seconds(120)),
/// ]
/// ```
///
/// A rule is evaluated on every metrics window (``MetricsOptions/interval``),
/// in the sender, over the windows of the last ``window``: pending once its
/// condition holds, firing once it has held for ``pendingFor``, resolved once
/// it no longer holds by the ``hysteresis`` margin; while firing it is told
/// again every ``repeatInterval``.
public struct AlertRule: Sendable, Hashable {
    /// The rule's name: unique among the rules, at most 100 characters.
    public var name: String
    /// What is measured and when it is a problem.
    public var condition: AlertCondition
    /// Which calls count.
    public var scope: AlertScope
    /// The span the condition is measured over, a whole number of metrics intervals.
    public var window: Duration
    /// How long the condition must hold before the alert fires (`for`); zero fires at once.
    public var pendingFor: Duration
    /// How often a firing alert is told again; zero never.
    public var repeatInterval: Duration
    /// The share of the threshold by which the value must be back on the
    /// good side to resolve (0.1: an error rate above 5% resolves below
    /// 4.5%), so that a value hovering at the threshold does not flap.
    public var hysteresis: Double

    /// Creates a rule.
    ///
    /// - Parameters:
    ///   - name: the rule's name: unique among the rules, 1 to 100 characters
    ///     on one line.
    ///   - condition: what is measured and when it is a problem.
    ///   - scope: which calls count; all of them by default.
    ///   - window: the span the condition is measured over, at most 7 days;
    ///     one minute by default.
    ///   - pendingFor: how long the condition must hold before the alert
    ///     fires, at most 7 days; zero (the default) fires at once.
    ///   - repeatInterval: how often a firing alert is told again, at most
    ///     365 days; one hour by default, zero never.
    ///   - hysteresis: the share of the threshold by which the value must be
    ///     back on the good side to resolve, from 0 to less than 1; 0.1 by
    ///     default.
    public init(
        _ name: String, when condition: AlertCondition, scope: AlertScope = .all, window: Duration = .seconds(60),
        for pendingFor: Duration = .zero, repeatInterval: Duration = .seconds(3_600), hysteresis: Double = 0.1
    ) {
        self.name = name
        self.condition = condition
        self.scope = scope
        self.window = window
        self.pendingFor = pendingFor
        self.repeatInterval = repeatInterval
        self.hysteresis = hysteresis
    }

    /// The rules `APIMETRICS_ALERTS=default` turns on: server errors above 5%
    /// of at least 20 calls over a minute, p99 above 1 s over five minutes,
    /// no call for 10 minutes after some, and a new server-error group.
    public static let defaults: [AlertRule] = [
        AlertRule("server errors above 5%", when: .serverErrorRate(above: 0.05, minimumCalls: 20), window: .seconds(60)),
        AlertRule("p99 above 1 s", when: .latency(percentile: 99, above: .seconds(1)), window: .seconds(300)),
        AlertRule("no traffic for 10 minutes", when: .noTraffic, window: .seconds(600)),
        AlertRule("new server error", when: .newServerErrorGroup, window: .seconds(600), repeatInterval: .zero),
    ]

    /// The longest window a rule may have.
    public static let maxWindow = Duration.seconds(7 * 86_400)
    /// The most rules.
    public static let maxRules = 1_000

    func validate(field: String) throws(ConfigurationError) {
        let field = "\(field)[\"\(name.prefix(100))\"]"
        guard !name.isEmpty, name.count <= 100, !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw ConfigurationError(field: "\(field).name", reason: "must be 1 to 100 characters on one line")
        }
        guard window > .zero, window <= Self.maxWindow else {
            throw ConfigurationError(field: "\(field).window", reason: "must be positive and at most 7 days, got \(window)")
        }
        guard pendingFor >= .zero, pendingFor <= Self.maxWindow else {
            throw ConfigurationError(field: "\(field).for", reason: "must be from 0 to 7 days, got \(pendingFor)")
        }
        guard repeatInterval >= .zero, repeatInterval <= .seconds(365 * 86_400) else {
            throw ConfigurationError(
                field: "\(field).repeatInterval", reason: "must be from 0 to 365 days, got \(repeatInterval)")
        }
        guard hysteresis >= 0, hysteresis < 1 else {
            throw ConfigurationError(field: "\(field).hysteresis", reason: "must be from 0 to less than 1, got \(hysteresis)")
        }
        try condition.validate(field: field)
        try scope.validate(field: "\(field).scope")
        if case .latency = condition.kind, scope.isConsumers {
            throw ConfigurationError(
                field: "\(field).scope",
                reason: "latency is measured per route and method, not per consumer: scope it to all calls, a route or a method")
        }
        switch (condition.kind, scope.kind) {
        case (.newServerErrorGroup, .consumer), (.apiChange, .consumer), (.newServerErrorGroup, .consumerGroup),
            (.apiChange, .consumerGroup):
            throw ConfigurationError(
                field: "\(field).scope",
                reason: "error groups and API changes are not tied to a consumer: scope it to all calls, a route or a method")
        case (.consumerErrorRate, .method):
            throw ConfigurationError(
                field: "\(field).scope",
                reason:
                    "a consumer's error rate is measured over all their calls: scope it to all calls, a consumer or a consumer group"
            )
        default:
            break
        }
        if case .consumerErrorRate = condition.kind, case .route = scope.kind {
            throw ConfigurationError(
                field: "\(field).scope",
                reason:
                    "a consumer's error rate is measured over all their calls: scope it to all calls, a consumer or a consumer group"
            )
        }
    }
}

/// What an ``AlertRule`` measures and the threshold that makes it a problem.
public struct AlertCondition: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case serverErrorRate(above: Double, minimumCalls: Int)
        case latency(percentile: Double, aboveSeconds: Double)
        case traffic(below: Int)
        case newServerErrorGroup
        case consumerErrorRate(above: Double, minimumCalls: Int)
        case apiChange(kinds: Set<String>)
    }

    let kind: Kind

    /// 5xx answers over all calls in the window above `rate` (0.05 is 5%),
    /// once the window has at least `minimumCalls` calls.
    public static func serverErrorRate(above rate: Double, minimumCalls: Int = 20) -> AlertCondition {
        AlertCondition(kind: .serverErrorRate(above: rate, minimumCalls: minimumCalls))
    }

    /// The `percentile` (50, 95, 99…) of the calls' durations in the window above `threshold`.
    public static func latency(percentile: Double, above threshold: Duration) -> AlertCondition {
        AlertCondition(kind: .latency(percentile: percentile, aboveSeconds: threshold.seconds))
    }

    /// Fewer than `floor` calls in the window, once calls have been seen
    /// (a service that never had traffic is not "quiet").
    public static func traffic(below floor: Int) -> AlertCondition {
        AlertCondition(kind: .traffic(below: floor))
    }

    /// No call at all in the window, once calls have been seen.
    public static let noTraffic = traffic(below: 1)

    /// A server-error group (route, error type and message) not seen before;
    /// each new group is an alert of its own, resolved when the window
    /// passes without it growing.
    public static let newServerErrorGroup = AlertCondition(kind: .newServerErrorGroup)

    /// A consumer's 5xx answers over their calls above `rate`, each consumer an alert of its own.
    public static func consumerErrorRate(above rate: Double, minimumCalls: Int = 20) -> AlertCondition {
        AlertCondition(kind: .consumerErrorRate(above: rate, minimumCalls: minimumCalls))
    }

    /// A change of the API that discovery observed, of the kinds named
    /// (`new_endpoint`, `field_gone`, `type_changed`…; all when empty), in
    /// what the API answers: changes of requests (bodies, queries, headers)
    /// are a client's doing and do not fire.
    public static func apiChange(_ kinds: Set<String> = ["new_endpoint", "field_gone", "type_changed"]) -> AlertCondition {
        AlertCondition(kind: .apiChange(kinds: kinds))
    }

    /// The threshold the value is compared with (`nil` for event rules).
    var threshold: Double? {
        switch kind {
        case let .serverErrorRate(above, _), let .consumerErrorRate(above, _): above
        case let .latency(_, seconds): seconds
        case let .traffic(below): Double(below)
        case .newServerErrorGroup, .apiChange: nil
        }
    }

    func validate(field: String) throws(ConfigurationError) {
        switch kind {
        case let .serverErrorRate(rate, minimum), let .consumerErrorRate(rate, minimum):
            guard rate.isFinite, rate >= 0, rate < 1 else {
                throw ConfigurationError(
                    field: "\(field).above", reason: "must be a share from 0 to less than 1 (0.05 is 5%), got \(rate)")
            }
            guard minimum >= 1, minimum <= 1_000_000_000 else {
                throw ConfigurationError(field: "\(field).minimumCalls", reason: "must be at least 1, got \(minimum)")
            }
        case let .latency(percentile, seconds):
            guard percentile.isFinite, percentile > 0, percentile < 100 else {
                throw ConfigurationError(
                    field: "\(field).percentile", reason: "must be above 0 and below 100 (99 is p99), got \(percentile)")
            }
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw ConfigurationError(
                    field: "\(field).above", reason: "must be a positive duration of at most a day, got \(seconds) s")
            }
        case let .traffic(floor):
            guard floor >= 1, floor <= 1_000_000_000 else {
                throw ConfigurationError(field: "\(field).below", reason: "must be at least 1 call, got \(floor)")
            }
        case .newServerErrorGroup:
            break
        case let .apiChange(kinds):
            for kind in kinds where APIChange.Kind(rawValue: kind) == nil {
                throw ConfigurationError(
                    field: "\(field).kinds",
                    reason:
                        "\"\(kind.prefix(40))\" is not a change: name \(APIChange.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }
    }
}

/// The calls an ``AlertRule`` looks at.
public struct AlertScope: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case all
        case route(String, method: String?)
        case method(String)
        case consumer(String)
        case consumerGroup(String)
    }

    let kind: Kind

    /// Every call.
    public static let all = AlertScope(kind: .all)

    /// The calls of one route template as your router names it
    /// (`/orders/{id}`, `/orders/:id`), of one method or all of them.
    public static func route(_ route: String, method: String? = nil) -> AlertScope {
        AlertScope(kind: .route(route, method: method))
    }

    /// The calls of one method (`POST`).
    public static func method(_ method: String) -> AlertScope {
        AlertScope(kind: .method(method))
    }

    /// The calls of one consumer, by the id `identifyConsumer` gives.
    public static func consumer(_ id: String) -> AlertScope {
        AlertScope(kind: .consumer(id))
    }

    /// The calls of the consumers of one group, by the group
    /// `identifyConsumer` gives (`Consumer.group`: a plan, a tier).
    /// Consumers past ``MetricsOptions/maxConsumers`` are counted as one
    /// row without a group, and so outside every group.
    public static func consumerGroup(_ group: String) -> AlertScope {
        AlertScope(kind: .consumerGroup(group))
    }

    /// `all`, `GET /orders/{id}`, `POST`, `consumer acme`, `consumer group free`.
    public var description: String {
        switch kind {
        case .all: "all"
        case let .route(route, method): method.map { "\($0) \(route)" } ?? route
        case let .method(method): method
        case let .consumer(id): "consumer \(id)"
        case let .consumerGroup(group): "consumer group \(group)"
        }
    }

    /// Whether the scope is one consumer or a group of them.
    var isConsumers: Bool {
        switch kind {
        case .consumer, .consumerGroup: true
        case .all, .route, .method: false
        }
    }

    func validate(field: String) throws(ConfigurationError) {
        switch kind {
        case .all: break
        case let .route(route, method):
            guard route.hasPrefix("/"), route.utf8.count <= SeriesKey.maxRouteBytes,
                !route.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" })
            else {
                throw ConfigurationError(
                    field: "\(field).route",
                    reason: "must be a route template starting with / (no spaces, query or fragment), got \"\(route.prefix(80))\""
                )
            }
            if let method { try Self.validate(method: method, field: "\(field).method") }
        case let .method(method):
            try Self.validate(method: method, field: "\(field).method")
        case let .consumer(id):
            guard !id.isEmpty, id.utf8.count <= Consumer.maxIDBytes else {
                throw ConfigurationError(
                    field: "\(field).consumer", reason: "must be a consumer id of 1 to \(Consumer.maxIDBytes) bytes")
            }
        case let .consumerGroup(group):
            // As identification keeps a group: trimmed, at most 64 characters and 128 bytes.
            guard !group.isEmpty, group.count <= Consumer.maxNameLength, group.utf8.count <= Consumer.maxNameBytes,
                group.first?.isWhitespace != true, group.last?.isWhitespace != true
            else {
                throw ConfigurationError(
                    field: "\(field).consumer_group",
                    reason:
                        "must be a consumer group of 1 to \(Consumer.maxNameLength) characters (\(Consumer.maxNameBytes) bytes) without surrounding spaces, as identification keeps it"
                )
            }
        }
    }

    private static func validate(method: String, field: String) throws(ConfigurationError) {
        guard HTTPMethods.isRegistered(method) else {
            throw ConfigurationError(
                field: field, reason: "must be an HTTP method in capitals (GET, POST…), got \"\(method.prefix(20))\"")
        }
    }
}
