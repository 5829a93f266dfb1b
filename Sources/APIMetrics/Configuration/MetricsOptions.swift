/// How the metrics are cut into windows and bounded.
///
/// ```swift
/// config.metrics.interval = .seconds(30)
/// config.metrics.routes = ["GET /orders/{id}", "POST /orders"]
/// ```
public struct MetricsOptions: Sendable, Hashable {
    /// How often a window is cut and delivered, with a heartbeat, to every
    /// exporter (`APIMETRICS_METRICS_INTERVAL_S`). 60 seconds by default.
    public var interval: Duration
    /// The most series (method, route, status); calls of later ones are
    /// counted in ``SeriesKey/otherRoute`` of their method and status.
    public var maxSeries: Int
    /// The most consumers tracked in the metrics since start, and in one
    /// window (`APIMETRICS_METRICS_MAX_CONSUMERS`); calls of later ones
    /// count in one row, ``ConsumerMetrics/otherConsumersID``. 500 by
    /// default: the view's JSON and `/metrics` stay well under 1 MB.
    public var maxConsumers: Int
    /// Routes the server serves, as `METHOD route` or `route`, listed in the
    /// startup record before any call names them.
    public var routes: [String]

    /// Creates options.
    ///
    /// - Parameters:
    ///   - interval: how often a window is cut and delivered, from 1 second
    ///     to 1 day; 60 seconds by default.
    ///   - maxSeries: the most series (method, route, status), at least 1;
    ///     1,000 by default.
    ///   - maxConsumers: the most consumers tracked, at least 1; 500 by
    ///     default.
    ///   - routes: routes the server serves, as `METHOD route` or `route`,
    ///     listed in the startup record before any call names them; none by
    ///     default.
    public init(interval: Duration = .seconds(60), maxSeries: Int = 1_000, maxConsumers: Int = 500, routes: [String] = []) {
        self.interval = interval
        self.maxSeries = maxSeries
        self.maxConsumers = maxConsumers
        self.routes = routes
    }

    /// A window a minute, 1,000 series, 500 consumers.
    public static let `default` = MetricsOptions()

    /// The shortest interval: one second.
    public static let minimumInterval = Duration.seconds(1)

    func validate() throws(ConfigurationError) {
        guard interval >= Self.minimumInterval, interval <= .seconds(86_400) else {
            throw ConfigurationError(field: "metrics.interval", reason: "must be from 1 s to 1 day, got \(interval)")
        }
        guard maxSeries >= 1 else {
            throw ConfigurationError(field: "metrics.maxSeries", reason: "must be at least 1, got \(maxSeries)")
        }
        guard maxConsumers >= 1 else {
            throw ConfigurationError(field: "metrics.maxConsumers", reason: "must be at least 1, got \(maxConsumers)")
        }
        for (index, route) in routes.enumerated() where route.isEmpty || route.contains(where: \.isNewline) {
            throw ConfigurationError(field: "metrics.routes[\(index)]", reason: "must be a non-empty single line")
        }
    }
}
