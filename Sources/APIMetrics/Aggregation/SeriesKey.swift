/// What one series of the metrics is: a method, a route template and a
/// status (its class follows from it).
///
/// Every part is bounded whatever clients send: the method is a registered
/// HTTP method or ``otherMethod``; the route is at most ``maxRouteBytes``
/// bytes; past ``MetricsOptions/maxSeries`` new series fold into
/// ``otherRoute``.
public struct SeriesKey: Sendable, Hashable, Comparable {
    /// The request method, such as `GET`: one of the IANA HTTP Method
    /// Registry's (RFC 9110's, `PATCH`, WebDAV's…), exactly as registered,
    /// or ``otherMethod`` for any other.
    public var method: String
    /// The route template (`/orders/{id}`), a path normalised into one, or
    /// one of the folded routes: ``unmatchedRoute``, ``otherRoute``,
    /// ``unknownRoute``.
    public var route: String
    /// The response status; 0 when no response was sent.
    public var status: Int

    /// Where 404 and 405 responses to paths no route matched are counted,
    /// one series per method.
    public static let unmatchedRoute = "(unmatched)"
    /// Where calls go once the series limit is reached.
    public static let otherRoute = "(other)"
    /// Where calls with a method outside the IANA HTTP Method Registry are
    /// counted, as OpenTelemetry's `http.request.method` does: the event
    /// keeps the method as sent.
    public static let otherMethod = "_OTHER"
    /// The most UTF-8 bytes of a route in a series (and on an event): a
    /// longer one is cut and ends with `…`.
    public static let maxRouteBytes = 256
    /// A call shed under overload before its path was read, on a server
    /// that names no routes.
    public static let unknownRoute = "(unknown)"

    /// Creates a key.
    ///
    /// - Parameters:
    ///   - method: the request method, such as `GET`, or ``otherMethod``.
    ///   - route: the route template (`/orders/{id}`) or one of the folded
    ///     routes.
    ///   - status: the response status; 0 when no response was sent.
    public init(method: String, route: String, status: Int) {
        self.method = method
        self.route = route
        self.status = status
    }

    /// `2xx`, `4xx`…; `0xx` when no response was sent.
    public var statusClass: String {
        "\(max(0, min(9, status / 100)))xx"
    }

    /// Orders by route, then method, then status.
    public static func < (left: SeriesKey, right: SeriesKey) -> Bool {
        (left.route, left.method, left.status) < (right.route, right.method, right.status)
    }
}
