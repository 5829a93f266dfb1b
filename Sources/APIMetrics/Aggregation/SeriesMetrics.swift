/// One series' figures over a window or since start.
public struct SeriesMetrics: Sendable, Hashable {
    /// Which series: method, route, status.
    public var key: SeriesKey
    /// Calls.
    public var requests: Int
    /// Calls answered 4xx.
    public var clientErrors: Int
    /// Calls answered 5xx.
    public var serverErrors: Int
    /// Their durations, from the request's first byte to the response's last.
    public var latency: LatencySketch
    /// Calls per duration bucket of ``PrometheusBuckets/durationSeconds``
    /// (not cumulative; one more entry than bounds, for `+Inf`).
    public var durationBuckets: [UInt64]
    /// Request body sizes.
    public var requestSizes: SizeHistogram
    /// Response body sizes.
    public var responseSizes: SizeHistogram

    /// Creates a series' figures.
    ///
    /// - Parameters:
    ///   - key: which series: method, route, status.
    ///   - requests: calls; 0 by default, as are the other counts.
    ///   - clientErrors: calls answered 4xx.
    ///   - serverErrors: calls answered 5xx.
    ///   - latency: the calls' durations, from the request's first byte to
    ///     the response's last; empty by default.
    ///   - durationBuckets: calls per duration bucket of
    ///     ``PrometheusBuckets/durationSeconds`` (not cumulative; one more
    ///     entry than bounds, for `+Inf`); all 0 by default.
    ///   - requestSizes: request body sizes; empty by default.
    ///   - responseSizes: response body sizes; empty by default.
    public init(
        key: SeriesKey, requests: Int = 0, clientErrors: Int = 0, serverErrors: Int = 0,
        latency: LatencySketch = LatencySketch(),
        durationBuckets: [UInt64] = Array(repeating: 0, count: PrometheusBuckets.durationSeconds.count + 1),
        requestSizes: SizeHistogram = SizeHistogram(), responseSizes: SizeHistogram = SizeHistogram()
    ) {
        self.key = key
        self.requests = requests
        self.clientErrors = clientErrors
        self.serverErrors = serverErrors
        self.latency = latency
        self.durationBuckets = durationBuckets
        self.requestSizes = requestSizes
        self.responseSizes = responseSizes
    }

    init(
        key: SeriesKey, requests: UInt64, clientErrors: UInt64, serverErrors: UInt64, latency: LatencySketch,
        durationBuckets: [UInt64], requestSizes: SizeHistogram, responseSizes: SizeHistogram
    ) {
        self.init(
            key: key, requests: Int(clamping: requests), clientErrors: Int(clamping: clientErrors),
            serverErrors: Int(clamping: serverErrors), latency: latency, durationBuckets: durationBuckets,
            requestSizes: requestSizes, responseSizes: responseSizes)
    }

    /// Adds another window's figures for the same series.
    public mutating func merge(_ other: SeriesMetrics) {
        requests &+= other.requests
        clientErrors &+= other.clientErrors
        serverErrors &+= other.serverErrors
        latency.merge(other.latency)
        for index in durationBuckets.indices where index < other.durationBuckets.count {
            durationBuckets[index] &+= other.durationBuckets[index]
        }
        requestSizes.merge(other.requestSizes)
        responseSizes.merge(other.responseSizes)
    }
}
