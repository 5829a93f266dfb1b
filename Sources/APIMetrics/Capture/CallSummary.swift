/// What the metrics count of every call, whether its event is captured or
/// not: the method, the route, the status, how long it took and how many
/// body bytes went each way.
///
/// Every call the recorder sees is summed up this way at its one admission
/// point. An adapter that sheds a call under overload (``Recorder/isQueueFull``)
/// hands over only this, with ``Recorder/recordShedCall(_:)``: a few words,
/// no copy of headers or bodies.
///
/// ```swift
/// recorder.recordShedCall(CallSummary(
///     method: "GET", route: "/orders/{id}", status: 200,
///     durationNanoseconds: end - start, requestBodyBytes: 0, responseBodyBytes: 512))
/// ```
public struct CallSummary: Sendable, Hashable {
    /// The request method, such as `GET`.
    public var method: String
    /// The route template the server matched, such as `/orders/{id}`;
    /// `nil` when it named none.
    public var route: String?
    /// The request target as sent, read only when no route was named (its
    /// path is then normalised into a template); `nil` when not known.
    public var target: String?
    /// The response status; 0 when no response was sent.
    public var status: Int
    /// From the request's first byte to the response's last, in nanoseconds.
    public var durationNanoseconds: Int64

    /// From the request's first byte to the response's last
    /// (``durationNanoseconds`` as a `Duration`).
    public var duration: Duration {
        get { .nanoseconds(durationNanoseconds) }
        set { durationNanoseconds = newValue.nanosecondsClamped }
    }
    /// The request body's size in bytes, all of it, kept or not.
    public var requestBodyBytes: Int
    /// The response body's size in bytes, all of it, kept or not.
    public var responseBodyBytes: Int

    /// Creates a summary.
    ///
    /// - Parameters:
    ///   - method: the request method, such as `GET`.
    ///   - route: the route template the server matched, such as
    ///     `/orders/{id}`; `nil` (the default) when it named none.
    ///   - target: the request target as sent, read only when no route was
    ///     named; `nil` (the default) when not known.
    ///   - status: the response status; 0 when no response was sent.
    ///   - durationNanoseconds: from the request's first byte to the
    ///     response's last, in nanoseconds.
    ///   - requestBodyBytes: the request body's size in bytes, all of it,
    ///     kept or not; 0 by default.
    ///   - responseBodyBytes: the response body's size in bytes, all of it,
    ///     kept or not; 0 by default.
    public init(
        method: String, route: String? = nil, target: String? = nil, status: Int, durationNanoseconds: Int64,
        requestBodyBytes: Int = 0, responseBodyBytes: Int = 0
    ) {
        self.method = method
        self.route = route
        self.target = target
        self.status = status
        self.durationNanoseconds = durationNanoseconds
        self.requestBodyBytes = requestBodyBytes
        self.responseBodyBytes = responseBodyBytes
    }
}
