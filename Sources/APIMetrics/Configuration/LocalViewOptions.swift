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

    /// Creates options; everything off by default.
    public init(
        isDashboardEnabled: Bool = false, isPrometheusEnabled: Bool = false, isConsumerLabelEnabled: Bool = false,
        address: String? = nil, bearerToken: String? = nil
    ) {
        self.isDashboardEnabled = isDashboardEnabled
        self.isPrometheusEnabled = isPrometheusEnabled
        self.isConsumerLabelEnabled = isConsumerLabelEnabled
        self.address = address
        self.bearerToken = bearerToken
    }

    /// Everything off.
    public static let off = LocalViewOptions()

    /// Whether anything is served.
    public var isEnabled: Bool { isDashboardEnabled || isPrometheusEnabled }

    func validate() throws(ConfigurationError) {
        if let address {
            guard HostAndPort(address) != nil else {
                throw ConfigurationError(field: "view.address", reason: "must be host:port with a port from 0 to 65535, got \"\(address)\"")
            }
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
