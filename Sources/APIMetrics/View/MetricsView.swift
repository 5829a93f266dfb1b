import Dispatch

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
/// and answers 401 without it. Without a token, the view answers only a
/// peer on loopback that names a loopback host (`localhost`, `127.0.0.1`,
/// `[::1]`) in `Host`, so that neither another machine nor a web page
/// reached through DNS rebinding can read it; anyone else gets 403. Every
/// answer carries a Content-Security-Policy that allows nothing the page does
/// not use, `nosniff`, `frame-ancestors 'none'`, `no-referrer` and `no-store`.
///
/// The view needs no request body: answer its paths on the request head,
/// before a body is read, where your server allows it.
public final class MetricsView: Sendable {
    /// Where the dashboard is served.
    public static let dashboardPath = "/_apimetrics"
    /// Where the dashboard's JSON is served.
    public static let apiPath = "/_apimetrics/api"
    /// Where the Prometheus exposition is served.
    public static let prometheusPath = "/metrics"
    /// Where the JSON API v1 over the store is served: every path under it
    /// (`/_apimetrics/api/v1/overview`, `…/calls`, …) is the view's.
    public static let apiV1Path = "/_apimetrics/api/v1"
    /// Where the OpenAPI 3.1 document learnt from the traffic is served.
    public static let openAPIPath = "/_apimetrics/openapi.json"
    /// Where the comparison with your own spec is served
    /// (``DiscoveryOptions/specPath``): differences and the calls that broke it.
    public static let specReportPath = "/_apimetrics/spec.json"

    /// What is served.
    public let options: LocalViewOptions
    private let aggregator: Aggregator
    private let counters: PipelineCounters
    private let queue: EventQueue
    private let spool: DiskSpool?
    private let identity: ServiceIdentity
    private let store: StoreAccess?
    private let discovery: APIDiscovery?

    init(
        options: LocalViewOptions, aggregator: Aggregator, counters: PipelineCounters, queue: EventQueue,
        identity: ServiceIdentity, spool: DiskSpool? = nil, discovery: APIDiscovery? = nil, store: StoreAccess? = nil
    ) {
        self.store = store
        self.discovery = discovery
        self.spool = spool
        self.options = options
        self.aggregator = aggregator
        self.counters = counters
        self.queue = queue
        self.identity = identity
    }

    /// Whether `path` is one the view serves with the current options. Any
    /// other path costs two prefix checks, so that an adapter can ask on
    /// every call.
    public func serves(path: String) -> Bool {
        guard Self.mayBeViewPath(path) else { return false }
        return switch path {
        case Self.dashboardPath, Self.dashboardPath + "/", Self.apiPath, Self.openAPIPath, Self.specReportPath:
            options.isDashboardEnabled
        case Self.prometheusPath: options.isPrometheusEnabled
        default: options.isDashboardEnabled && path.hasPrefix(StoreAPI.prefix)
        }
    }

    /// Whether a request target (a path, then perhaps a query) is one the
    /// view serves; any other target costs two prefix checks.
    public func serves(target: String) -> Bool {
        guard Self.mayBeViewPath(target) else { return false }
        return serves(path: String(target.prefix { $0 != "?" && $0 != "#" }))
    }

    /// Whether a path or target begins as every path of the view does.
    private static func mayBeViewPath(_ path: String) -> Bool {
        path.utf8.starts(with: dashboardPath.utf8) || path.utf8.starts(with: prometheusPath.utf8)
    }

    /// The answer to a request for one of the view's paths; `nil` when the
    /// path is not the view's or that part is off. Reads the method, target,
    /// header fields and the peer's address; never the body.
    public func response(to request: ServerRequest) -> ServerResponse? {
        response(method: request.method, target: request.target, headers: request.headers, peerAddress: request.clientAddress)
    }

    /// The answer to a request given by its method, target, header fields
    /// and the peer's address, for servers whose request type is their own;
    /// `nil` when the path is not the view's.
    ///
    /// - Parameters:
    ///   - method: the request method; the view answers `GET` and `HEAD`,
    ///     and 405 to any other.
    ///   - target: the request target: its path chooses the answer, and with
    ///     a bearer token set its `token` query item may carry the token.
    ///   - headers: the request's fields: `Authorization` and, without a
    ///     bearer token, `Host` (or `:authority`) and the forwarding fields
    ///     are read.
    ///   - peerAddress: the peer's IP address as text, `nil` when unknown.
    ///     Without a bearer token, an unknown peer is refused.
    /// - Returns: the view's answer; `nil` when the path is not the view's.
    public func response(method: String, target: String, headers: HeaderFields, peerAddress: String?) -> ServerResponse? {
        let url = URLTarget(target)
        guard serves(path: url.path) else { return nil }
        if let token = options.bearerToken {
            let offered =
                headers["authorization"].flatMap(Self.bearerToken(in:)) ?? url.queryItems.first { $0.name == "token" }?.value
            guard let offered, Self.constantTimeEquals(offered, token) else {
                return text(401, "a bearer token is needed\n", extra: [("WWW-Authenticate", "Bearer realm=\"apimetrics\"")])
            }
        } else {
            guard let peerAddress, Self.isLoopback(address: peerAddress), Self.isFromThisMachine(headers) else {
                return text(403, Self.loopbackOnlyMessage, extra: [])
            }
        }
        guard method == "GET" || method == "HEAD" else {
            return text(405, "only GET and HEAD\n", extra: [("Allow", "GET, HEAD")])
        }
        if url.path.hasPrefix(StoreAPI.prefix) {
            return storeAnswer(path: url.path, query: url.queryItems, isHead: method == "HEAD")
        }
        let snapshot = MetricsSnapshot(
            identity: identity, totals: aggregator.totals(),
            statistics: counters.statistics(queued: queue.count, spool: spool?.counts),
            nowNanoseconds: CaptureClock.wallNanoseconds())
        let (body, contentType): ([UInt8], String)
        switch url.path {
        case Self.prometheusPath:
            (body, contentType) = (
                Array(
                    PrometheusExposition.render(
                        snapshot, includingConsumers: options.isConsumerLabelEnabled, spec: specReport()
                    ).utf8),
                PrometheusExposition.contentType
            )
        case Self.apiPath:
            (body, contentType) = (MetricsAPI.render(snapshot), "application/json")
        case Self.openAPIPath:
            let learnt = discovery?.snapshot() ?? APIDiscovery.Snapshot(operations: [], servers: [], figures: .init())
            (body, contentType) = (
                OpenAPIDocument.render(learnt, identity: identity, schemes: discovery?.configuredSchemes ?? .init()),
                OpenAPIDocument.contentType
            )
        case Self.specReportPath:
            (body, contentType) = (specReport()?.json() ?? Array(#"{"spec":null}"#.utf8), "application/json")
        default:
            if store != nil {
                // The app over the store: one page whose script and style the policy allows by their hashes.
                var headers = HeaderFields()
                headers.append(name: "Content-Type", value: DashboardApp.contentType)
                Self.appendSecurityHeaders(to: &headers, policy: DashboardApp.contentSecurityPolicy())
                return ServerResponse(status: 200, headers: headers, body: method == "HEAD" ? [] : DashboardApp.render())
            }
            (body, contentType) = (Array(Dashboard.render(snapshot, apiPath: Self.apiPath).utf8), Dashboard.contentType)
        }
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: contentType)
        Self.appendSecurityHeaders(to: &headers)
        return ServerResponse(status: 200, headers: headers, body: method == "HEAD" ? [] : body)
    }

    /// The comparison with the team's spec; `nil` when none is configured.
    func specReport() -> SpecReport? {
        guard let discovery, let conformance = discovery.conformance else { return nil }
        let checked = conformance.snapshot()
        return SpecReport(
            spec: conformance.spec, source: conformance.source, learnt: discovery.snapshot().operations, called: checked.called,
            totals: checked.totals, findings: checked.findings)
    }

    /// An answer of the JSON API v1, read from the store.
    private func storeAnswer(path: String, query: [(name: String, value: String)], isHead: Bool) -> ServerResponse {
        let statistics = counters.statistics(queued: queue.count, spool: spool?.counts)
        var context = StoreAPI.Context(
            reader: nil, unavailable: "no store: the store is off (APIMETRICS_STORE=off, or no .store exporter)",
            status: store?.status?.withLock { $0 }, options: store?.options, statistics: statistics, identity: identity,
            now: CaptureClock.wallNanoseconds())
        if let store {
            switch store.currentReader() {
            case let .success(reader): context.reader = reader
            case let .failure(error):
                context.unavailable = "the store cannot be read yet: \(error)"
                if let last = context.status?.lastError { context.unavailable += " (\(last))" }
            }
        }
        let (status, body) = StoreAPI.answer(path: path, query: query, context: context)
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "application/json")
        Self.appendSecurityHeaders(to: &headers)
        return ServerResponse(status: status, headers: headers, body: isHead ? [] : body)
    }

    /// ``response(method:target:headers:peerAddress:)`` off the caller's
    /// thread, for a server whose handlers are async (Hummingbird, Vapor,
    /// FlyingFox): the store's queries (up to a few hundred milliseconds
    /// over a month of history) run on a dispatch queue, so that none of
    /// the cooperative pool's threads waits on the disk.
    ///
    /// - Parameters:
    ///   - method: the request method; the view answers `GET` and `HEAD`, and
    ///     405 to any other.
    ///   - target: the request target: its path chooses the answer, and with
    ///     a bearer token set its `token` query item may carry the token.
    ///   - headers: the request's fields: `Authorization` and, without a
    ///     bearer token, `Host` (or `:authority`) and the forwarding fields
    ///     are read.
    ///   - peerAddress: the peer's IP address as text, `nil` when unknown.
    ///     Without a bearer token, an unknown peer is refused.
    /// - Returns: the view's answer; `nil` when the path is not the view's.
    public func respond(method: String, target: String, headers: HeaderFields, peerAddress: String?) async -> ServerResponse? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(
                    returning: self.response(method: method, target: target, headers: headers, peerAddress: peerAddress))
            }
        }
    }

    /// What a refused peer reads: why, and how to serve the view elsewhere.
    static let loopbackOnlyMessage = """
        the metrics view is served to this machine only (a loopback peer and Host) while it has no token; \
        set APIMETRICS_DASHBOARD_TOKEN (LocalViewOptions.bearerToken) to serve it to others

        """

    /// The headers every answer of the view carries: the page loads nothing
    /// but its own style sheet (allowed by its hash), cannot be framed, sends
    /// no referrer, and is never cached.
    static func appendSecurityHeaders(to headers: inout HeaderFields, policy: String = defaultPolicy) {
        headers.append(name: "Content-Security-Policy", value: policy)
        headers.append(name: "X-Content-Type-Options", value: "nosniff")
        headers.append(name: "X-Frame-Options", value: "DENY")
        headers.append(name: "Referrer-Policy", value: "no-referrer")
        headers.append(name: "Cache-Control", value: "no-store")
    }

    /// The policy of every answer but the app's page: nothing but the
    /// static dashboard's style sheet.
    static let defaultPolicy =
        "default-src 'none'; style-src \(Dashboard.styleHash); img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// A plain-text answer with the security headers, for the view's own
    /// listener too (its 404).
    func text(_ status: Int, _ message: String, extra: [(String, String)]) -> ServerResponse {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "text/plain; charset=utf-8")
        for (name, value) in extra { headers.append(name: name, value: value) }
        Self.appendSecurityHeaders(to: &headers)
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

    /// The fields a proxy adds when it passes a request on: a loopback peer
    /// that sends one may be a reverse proxy on this machine serving the
    /// world (and nginx, by default, also rewrites `Host` to the upstream's
    /// loopback address).
    static let forwardingFields = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "via"]

    /// Whether the fields say the request came from this machine itself:
    /// one `Host` (or `:authority`), a loopback one, and no field a proxy adds.
    static func isFromThisMachine(_ headers: HeaderFields) -> Bool {
        let hosts = headers.values(for: "host") + headers.values(for: ":authority")
        guard let host = hosts.first, Set(hosts).count == 1, isLoopback(host: host) else { return false }
        return !forwardingFields.contains { headers[$0] != nil }
    }

    /// Whether `address` (as a peer's address is written: `127.0.0.1`,
    /// `::1`, `::ffff:127.0.0.1`) is on loopback.
    static func isLoopback(address: String) -> Bool {
        var text = Substring(address.lowercased())
        if text.hasPrefix("::ffff:") { text = text.dropFirst(7) }
        if text == "::1" || text == "0:0:0:0:0:0:0:1" { return true }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            part.count <= 3 && !part.isEmpty && part.allSatisfy(\.isASCIIDigitCharacter) && Int(part).map { $0 <= 255 } == true
        }
    }

    /// Whether a `Host` value names this machine by a loopback name or
    /// address (`localhost`, `127.0.0.1:9465`, `[::1]`), port or not.
    static func isLoopback(host: String) -> Bool {
        let value = host.trimmingOptionalWhitespace.lowercased()
        let name: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return false }
            let rest = value[value.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isASCIIDigitCharacter)) else {
                return false
            }
            name = value[value.index(after: value.startIndex)..<close]
            return isLoopback(address: String(name))
        }
        if let colon = value.firstIndex(of: ":") {
            let port = value[value.index(after: colon)...]
            guard port.allSatisfy(\.isASCIIDigitCharacter) else { return false }
            name = value[..<colon]
        } else {
            name = Substring(value)
        }
        return name == "localhost" || isLoopback(address: String(name))
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
