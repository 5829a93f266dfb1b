/// The metrics' local view: a dashboard, its JSON, and a Prometheus
/// exposition, served by ``MetricsView`` in your own router and, when
/// ``address`` is set, by a listener of the library's own. Everything is
/// off unless enabled.
///
/// ```swift
/// config.view = .init(isDashboardEnabled: true, isPrometheusEnabled: true,
///                     address: "127.0.0.1:9465", bearerToken: "s3cret")
/// ```
public struct LocalViewOptions: Sendable, Hashable {
    /// Serves the dashboard at `/_apimetrics` and its JSON at
    /// `/_apimetrics/api` (`APIMETRICS_DASHBOARD=1`).
    public var isDashboardEnabled: Bool
    /// Serves the Prometheus text exposition at `/metrics`
    /// (`APIMETRICS_PROMETHEUS=1`).
    public var isPrometheusEnabled: Bool
    /// Adds a `consumer` label to the Prometheus request counter. Off by
    /// default: one series per consumer can be many.
    public var isConsumerLabelEnabled: Bool
    /// `host:port` for the library's own listener, such as
    /// `127.0.0.1:9465` (`APIMETRICS_METRICS_ADDR`); `nil` for none (mount
    /// ``MetricsView`` in your router instead). Port 0 picks a free one.
    public var address: String?
    /// When set, every path of the view asks for `Authorization: Bearer`
    /// with this token (`APIMETRICS_DASHBOARD_TOKEN`; set but blank is a
    /// ``ConfigurationError``). When `nil`, the view answers only a loopback
    /// peer that names a loopback host in `Host`, and 403 to anyone else.
    public var bearerToken: String?

    /// The most connections the library's own listener keeps open at once
    /// (`APIMETRICS_METRICS_MAX_CONNECTIONS`); past it a new one is closed
    /// at once. `nil`: a quarter of the process's open-file limit, from 16
    /// to 1,024. Each connection must send its whole request head within
    /// 10 s, and an idle keep-alive connection is closed after 30 s.
    public var maxConnections: Int?

    /// Creates options; everything off by default.
    ///
    /// - Parameters:
    ///   - isDashboardEnabled: serves the dashboard at `/_apimetrics` and its
    ///     JSON at `/_apimetrics/api`.
    ///   - isPrometheusEnabled: serves the Prometheus text exposition at
    ///     `/metrics`.
    ///   - isConsumerLabelEnabled: adds a `consumer` label to the Prometheus
    ///     request counter.
    ///   - address: `host:port` for the library's own listener, such as
    ///     `127.0.0.1:9465`; `nil` for none. Port 0 picks a free one.
    ///   - bearerToken: the token every path of the view asks for as
    ///     `Authorization: Bearer`, non-empty with no whitespace; `nil`
    ///     serves this machine only.
    ///   - maxConnections: the most connections the library's own listener
    ///     keeps open at once, from 1 to 65,536; `nil` for a quarter of the
    ///     process's open-file limit, from 16 to 1,024.
    public init(
        isDashboardEnabled: Bool = false, isPrometheusEnabled: Bool = false, isConsumerLabelEnabled: Bool = false,
        address: String? = nil, bearerToken: String? = nil, maxConnections: Int? = nil
    ) {
        self.maxConnections = maxConnections
        self.isDashboardEnabled = isDashboardEnabled
        self.isPrometheusEnabled = isPrometheusEnabled
        self.isConsumerLabelEnabled = isConsumerLabelEnabled
        self.address = address
        self.bearerToken = bearerToken
    }

    /// Everything off.
    public static let off = LocalViewOptions()

    /// The dashboard (with its JSON) and the Prometheus exposition, served
    /// to this machine only until ``bearerToken`` is set.
    public static let dashboardAndPrometheus = LocalViewOptions(isDashboardEnabled: true, isPrometheusEnabled: true)

    /// Whether anything is served.
    public var isEnabled: Bool { isDashboardEnabled || isPrometheusEnabled }

    func validate() throws(ConfigurationError) {
        if let address {
            guard HostAndPort(address) != nil else {
                throw ConfigurationError(
                    field: "view.address", reason: "must be host:port with a port from 0 to 65535, got \"\(address)\"")
            }
        }
        if let maxConnections, !(1...65_536).contains(maxConnections) {
            throw ConfigurationError(field: "view.maxConnections", reason: "must be from 1 to 65536, got \(maxConnections)")
        }
        if let bearerToken, bearerToken.isEmpty || bearerToken.contains(where: { $0.isWhitespace }) {
            throw ConfigurationError(field: "view.bearerToken", reason: "must be non-empty with no whitespace when set")
        }
    }
}

/// `host:port`, with `[v6]:port` for IPv6 literals.
struct HostAndPort: Sendable, Hashable {
    var host: String
    var port: UInt16

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        self.host = host
        self.port = port
    }
}
