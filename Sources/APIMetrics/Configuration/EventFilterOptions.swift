/// Which calls become events. Calls left out here still count in aggregated
/// metrics (the recorder sees every call), so metrics stay exact.
///
/// ```swift
/// config.eventFilter.excludedPaths.append("/internal/*")
/// config.eventFilter.sampleRate = 0.1           // one call in ten, each with weight 10
/// config.eventFilter.allowedHosts = ["api.example.com"]
/// ```
public struct EventFilterOptions: Sendable, Hashable {
    /// Paths never logged: exact (`/health`) or with `*` for any run of
    /// characters (`/.well-known/*`). Case is ignored.
    public var excludedPaths: [String]
    /// `User-Agent` patterns of health checkers never logged, matched as
    /// ``FieldMatcher/parse(_:)`` reads them (`kube-probe*`). Case is ignored.
    public var excludedUserAgents: [String]
    /// When set, only calls whose `Host` (without port) is listed are logged.
    public var allowedHosts: Set<String>?
    /// The share of calls logged, from 0 to 1; each logged call carries
    /// `weight` = 1 / rate so that counts over events stay right.
    public var sampleRate: Double

    /// Creates logging options.
    ///
    /// - Parameters:
    ///   - excludedPaths: paths never logged, exact or with `*`, each
    ///     starting with `/` or `*`; ``defaultExcludedPaths`` by default.
    ///   - excludedUserAgents: `User-Agent` patterns of health checkers never
    ///     logged; ``defaultExcludedUserAgents`` by default.
    ///   - allowedHosts: when set, only calls whose `Host` (without port) is
    ///     listed are logged; `nil` (the default) logs every host.
    ///   - sampleRate: the share of calls logged, from 0 to 1; 1 (every call)
    ///     by default.
    public init(
        excludedPaths: [String] = EventFilterOptions.defaultExcludedPaths,
        excludedUserAgents: [String] = EventFilterOptions.defaultExcludedUserAgents,
        allowedHosts: Set<String>? = nil,
        sampleRate: Double = 1
    ) {
        self.excludedPaths = excludedPaths
        self.excludedUserAgents = excludedUserAgents
        self.allowedHosts = allowedHosts
        self.sampleRate = sampleRate
    }

    /// Health, readiness and housekeeping endpoints, and the library's own
    /// view (the dashboard's page and API), which would otherwise fill the
    /// log with its own polling.
    public static let defaultExcludedPaths = [
        "/health", "/healthz", "/ready", "/readyz", "/live", "/livez", "/ping", "/metrics",
        "/favicon.ico", "/robots.txt", "/.well-known/*", "/_apimetrics", "/_apimetrics/*",
    ]

    /// Load balancers' and orchestrators' health checkers.
    public static let defaultExcludedUserAgents = [
        "kube-probe*", "ELB-HealthChecker*", "GoogleHC*", "Consul Health Check*",
        "Amazon-Route53-Health-Check-Service*", "Azure Traffic Manager Endpoint Monitor*",
        "HAProxy*health*", "UptimeRobot*", "Pingdom*",
    ]

    /// Every call logged, the default exclusions applied.
    public static let `default` = EventFilterOptions()

    /// Every call logged, nothing excluded.
    public static let everything = EventFilterOptions(excludedPaths: [], excludedUserAgents: [])

    func validate(field: String) throws(ConfigurationError) {
        guard sampleRate >= 0, sampleRate <= 1, !sampleRate.isNaN else {
            throw ConfigurationError(field: "\(field).sampleRate", reason: "must be from 0 to 1, got \(sampleRate)")
        }
        for (index, path) in excludedPaths.enumerated() where !path.hasPrefix("/") && !path.hasPrefix("*") {
            throw ConfigurationError(field: "\(field).excludedPaths[\(index)]", reason: "must start with / or *, got \"\(path)\"")
        }
        for (index, agent) in excludedUserAgents.enumerated() where !FieldMatcher.parse(agent).isValid {
            throw ConfigurationError(field: "\(field).excludedUserAgents[\(index)]", reason: "matches nothing")
        }
        if let allowedHosts, allowedHosts.contains("") {
            throw ConfigurationError(field: "\(field).allowedHosts", reason: "holds an empty host")
        }
    }
}
