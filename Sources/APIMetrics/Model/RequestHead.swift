/// What a server knows of a request when it starts handling it.
///
/// Adapters fill it from their server's own types; the core derives the
/// event's `path` and `query` from `target` when it encodes the event.
///
/// What a recorded exchange keeps of it is bounded in bytes: the method
/// to 64 bytes, the target to 8 KiB, the route to 256 bytes; a longer
/// value is cut and ends with `…`.
public struct RequestHead: Sendable, Hashable {
    /// The request method as sent, such as `GET`.
    public var method: String
    /// The request target as sent: `/orders?page=2`, or an absolute URL.
    public var target: String
    /// The request's header fields.
    public var headers: HeaderFields
    /// The route template that matched, such as `/orders/{id}`, when known.
    public var route: String?
    /// The client's address, such as `203.0.113.7`, when known.
    ///
    /// Adapters set the socket peer here. In a processed record (what
    /// exporters and the closures of ``APIMetricsConfiguration`` see) it is
    /// the client found behind trusted proxies from the forwarding headers
    /// (see ``ForwardingOptions``), and the socket peer is in ``peerAddress``.
    public var clientAddress: String?
    /// The socket peer's address: the host that opened the connection,
    /// which is the last proxy when there are proxies.
    ///
    /// Adapters leave it `nil` and pass the peer as ``clientAddress``; the
    /// sender fills it in when it resolves the client. An adapter that sets
    /// it has resolved the client itself, and both are then kept as given.
    public var peerAddress: String?
    /// The HTTP version the request came in, such as `1.1` or `2`
    /// (OpenTelemetry's `network.protocol.version`), when known.
    public var protocolVersion: String?

    /// Creates a request head.
    ///
    /// - Parameters:
    ///   - method: the request method as sent, such as `GET`.
    ///   - target: the request target as sent: `/orders?page=2`, or an
    ///     absolute URL.
    ///   - headers: the request's header fields; none by default.
    ///   - route: the route template that matched, such as `/orders/{id}`;
    ///     `nil` (the default) when unknown.
    ///   - clientAddress: the client's address, such as `203.0.113.7`;
    ///     adapters pass the socket peer here. `nil` (the default) when
    ///     unknown.
    ///   - protocolVersion: the HTTP version the request came in, such as
    ///     `1.1` or `2`; `nil` (the default) when unknown.
    ///   - peerAddress: the socket peer's address; `nil` (the default) lets
    ///     the sender fill it in when it resolves the client.
    public init(
        method: String,
        target: String,
        headers: HeaderFields = HeaderFields(),
        route: String? = nil,
        clientAddress: String? = nil,
        protocolVersion: String? = nil,
        peerAddress: String? = nil
    ) {
        self.peerAddress = peerAddress
        self.protocolVersion = protocolVersion
        self.method = method
        self.target = target
        self.headers = headers
        self.route = route
        self.clientAddress = clientAddress
    }

    /// The target's path: what comes before `?` or `#`, without the scheme and
    /// authority of an absolute target.
    public var path: String {
        URLTarget(target).path
    }
}

extension RequestHead {
    /// Cuts the method, target and route to the bytes a recorded exchange
    /// keeps (``HTTPMethods/maxRecordedBytes``, ``URLTarget/maxRecordedBytes``,
    /// ``SeriesKey/maxRouteBytes``).
    static func bound(_ head: inout RequestHead) {
        guard !head.isWithinRecordedBounds else { return }
        head.method = TextLimit.cut(head.method, maxBytes: HTTPMethods.maxRecordedBytes)
        head.target = TextLimit.cut(head.target, maxBytes: URLTarget.maxRecordedBytes)
        if let route = head.route { head.route = TextLimit.cut(route, maxBytes: SeriesKey.maxRouteBytes) }
    }

    /// Whether nothing needs cutting: three length checks, the common case.
    var isWithinRecordedBounds: Bool {
        method.utf8.count <= HTTPMethods.maxRecordedBytes && target.utf8.count <= URLTarget.maxRecordedBytes
            && (route?.utf8.count ?? 0) <= SeriesKey.maxRouteBytes
    }
}
