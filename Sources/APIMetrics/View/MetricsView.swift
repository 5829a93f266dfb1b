/// The metrics' local view, served from your own router: the dashboard at
/// `/_apimetrics`, its JSON at `/_apimetrics/api`, the Prometheus
/// exposition at `/metrics` — each only when enabled in
/// ``APIMetricsConfiguration/view``.
///
/// Hand it every request whose path is one of its own; it answers `nil` for
/// any other path (or a part that is off), so that your router goes on:
///
/// ```swift
/// if let answer = metrics.view.response(to: request) {
///     return answer
/// }
/// ```
///
/// With ``LocalViewOptions/bearerToken`` set, every path asks for
/// `Authorization: Bearer <token>` (or, for a browser, `?token=<token>`)
/// and answers 401 without it.
public final class MetricsView: Sendable {
    /// Where the dashboard is served.
    public static let dashboardPath = "/_apimetrics"
    /// Where the dashboard's JSON is served.
    public static let apiPath = "/_apimetrics/api"
    /// Where the Prometheus exposition is served.
    public static let prometheusPath = "/metrics"

    /// What is served.
    public let options: LocalViewOptions
    private let aggregator: Aggregator
    private let counters: PipelineCounters
    private let queue: EventQueue
    private let spool: DiskSpool?
    private let identity: ServiceIdentity

    init(
        options: LocalViewOptions, aggregator: Aggregator, counters: PipelineCounters, queue: EventQueue,
        identity: ServiceIdentity, spool: DiskSpool? = nil
    ) {
        self.spool = spool
        self.options = options
        self.aggregator = aggregator
        self.counters = counters
        self.queue = queue
        self.identity = identity
    }

    /// Whether `path` is one the view serves with the current options.
    public func serves(path: String) -> Bool {
        switch path {
        case Self.dashboardPath, Self.dashboardPath + "/", Self.apiPath: options.isDashboardEnabled
        case Self.prometheusPath: options.isPrometheusEnabled
        default: false
        }
    }

    /// The answer to a request for one of the view's paths; `nil` when the
    /// path is not the view's or that part is off.
    public func response(to request: ServerRequest) -> ServerResponse? {
        response(method: request.method, target: request.target, authorization: request.headers["authorization"])
    }

    /// The answer to a request given by its method, target and
    /// `Authorization` value, for servers whose request type is their own.
    public func response(method: String, target: String, authorization: String?) -> ServerResponse? {
        let url = URLTarget(target)
        guard serves(path: url.path) else { return nil }
        if let token = options.bearerToken {
            let offered = authorization.flatMap(Self.bearerToken(in:)) ?? url.queryItems.first { $0.name == "token" }?.value
            guard let offered, Self.constantTimeEquals(offered, token) else {
                return text(401, "a bearer token is needed\n", extra: [("WWW-Authenticate", "Bearer realm=\"apimetrics\"")])
            }
        }
        guard method == "GET" || method == "HEAD" else {
            return text(405, "only GET and HEAD\n", extra: [("Allow", "GET, HEAD")])
        }
        let snapshot = MetricsSnapshot(
            identity: identity, totals: aggregator.totals(), statistics: counters.statistics(queued: queue.count, spool: spool?.counts),
            nowNanoseconds: CaptureClock.wallNanoseconds())
        let (body, contentType): ([UInt8], String)
        switch url.path {
        case Self.prometheusPath:
            (body, contentType) = (Array(PrometheusExposition.render(snapshot, includingConsumers: options.isConsumerLabelEnabled).utf8),
                                   PrometheusExposition.contentType)
        case Self.apiPath:
            (body, contentType) = (MetricsAPI.render(snapshot), "application/json")
        default:
            (body, contentType) = (Array(Dashboard.render(snapshot, apiPath: Self.apiPath).utf8), Dashboard.contentType)
        }
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: contentType)
        headers.append(name: "Cache-Control", value: "no-store")
        return ServerResponse(status: 200, headers: headers, body: method == "HEAD" ? [] : body)
    }

    private func text(_ status: Int, _ message: String, extra: [(String, String)]) -> ServerResponse {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "text/plain; charset=utf-8")
        for (name, value) in extra { headers.append(name: name, value: value) }
        return ServerResponse(status: status, headers: headers, body: Array(message.utf8))
    }

    private static func bearerToken(in authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingOptionalWhitespace
    }

    /// Compares without stopping at the first difference.
    static func constantTimeEquals(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 && a.count == b.count
    }
}
