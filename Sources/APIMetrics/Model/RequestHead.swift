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
    /// The peer's address, such as `127.0.0.1`, when known.
    public var clientAddress: String?
    /// The HTTP version the request came in, such as `1.1` or `2`
    /// (OpenTelemetry's `network.protocol.version`), when known.
    public var protocolVersion: String?

    /// Creates a request head.
    public init(
        method: String,
        target: String,
        headers: HeaderFields = HeaderFields(),
        route: String? = nil,
        clientAddress: String? = nil,
        protocolVersion: String? = nil
    ) {
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
