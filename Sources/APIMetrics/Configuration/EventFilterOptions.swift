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

    /// Health, readiness and housekeeping endpoints.
    public static let defaultExcludedPaths = [
        "/health", "/healthz", "/ready", "/readyz", "/live", "/livez", "/ping", "/metrics",
        "/favicon.ico", "/robots.txt", "/.well-known/*",
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

/// ``EventFilterOptions`` compiled for the request path: a few set lookups and
/// prefix checks, no allocation for most calls. A class, so that the
/// request path reaches it through one reference instead of copying it.
final class EventFilter: Sendable {
    /// No exclusion and no sampling: every call is logged with weight 1.
    let admitsEverything: Bool
    private let paths: NameSet
    private let userAgents: NameSet
    private let allowedHosts: Set<String>?
    private let sampleThreshold: UInt64
    private let weight: Double

    init(_ options: EventFilterOptions) {
        paths = NameSet(options.excludedPaths.map(FieldMatcher.parse))
        userAgents = NameSet(options.excludedUserAgents.map(FieldMatcher.parse))
        allowedHosts = options.allowedHosts.map { Set($0.map { $0.lowercased() }) }
        if options.sampleRate >= 1 {
            sampleThreshold = .max
        } else {
            sampleThreshold = UInt64(options.sampleRate * Double(UInt64(1) << 53)) << 11
        }
        weight = options.sampleRate > 0 ? 1 / options.sampleRate : 0
        admitsEverything = paths.isEmpty && userAgents.isEmpty && allowedHosts == nil && sampleThreshold == .max
    }

    /// The call's weight when it is logged (1, or 1 / rate when sampling);
    /// `nil` when it is not.
    func admit(target: String, headers: HeaderFields, id: EventID) -> Double? {
        if admitsEverything { return 1 }
        // Both read in place: no string made, none hashed.
        if !paths.isEmpty {
            var target = target
            let excluded = target.withUTF8 { bytes -> Bool in
                let end = bytes.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
                return paths.matches(bytes: UnsafeBufferPointer(rebasing: bytes[..<end]))
            }
            if excluded { return nil }
        }
        if !userAgents.isEmpty, headers.withFirstValue(named: "user-agent", { agent in agent.map { self.userAgents.matches(bytes: $0) } ?? false }) {
            return nil
        }
        if let allowedHosts {
            let host = headers["host"].map(Self.hostWithoutPort) ?? ""
            if !allowedHosts.contains(host) { return nil }
        }
        if sampleThreshold != .max {
            // The id is random already: its low bits are the sampling draw.
            guard id.low < sampleThreshold else { return nil }
            return weight
        }
        return 1
    }

    static func hostWithoutPort(_ host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("[") {
            return lowered.firstIndex(of: "]").map { String(lowered[...$0]) } ?? lowered
        }
        return lowered.split(separator: ":", maxSplits: 1).first.map(String.init) ?? lowered
    }
}
