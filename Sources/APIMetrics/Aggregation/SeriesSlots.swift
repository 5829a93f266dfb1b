/// One series' counts for the current window, written on the request path:
/// fixed memory allocated once, when the series first appears, so that
/// counting a call allocates nothing.
///
/// `Sendable` without the compiler's check because every read and write
/// happens under the aggregator's lock: the slots live in its locked state
/// (the dictionary of series and ``RecentCaches``) and are never handed out
/// of it.
final class SeriesSlots: @unchecked Sendable {
    /// The durations' dense log-linear buckets (see ``LatencySketch``).
    private let sketch: UnsafeMutablePointer<UInt32>
    /// The Prometheus duration buckets, then the request and response size
    /// buckets, side by side.
    private let buckets: UnsafeMutablePointer<UInt64>

    /// Whether the server named this route (rather than a path normalised into one).
    let isNamedRoute: Bool
    /// Whether this is a method and status's series of calls folded past
    /// the series limit (``SeriesKey/otherRoute``): a call of another route
    /// that lands here was folded, and is counted so.
    var isFoldedSeries = false
    private(set) var requests: UInt64 = 0
    private(set) var clientErrors: UInt64 = 0
    private(set) var serverErrors: UInt64 = 0
    private var durationSum: Int64 = 0
    private var durationMin: Int64 = .max
    private var durationMax: Int64 = 0
    private var requestBytes: Int64 = 0
    private var responseBytes: Int64 = 0
    /// The sketch's buckets written this window, so that reading and
    /// clearing it touches only them.
    private var lowestIndex = Int.max
    private var highestIndex = -1

    static var durationBucketCount: Int { PrometheusBuckets.bucketCount }
    static var sizeBucketCount: Int { SizeHistogram.bucketCount }
    private static var requestSizeOffset: Int { durationBucketCount }
    private static var responseSizeOffset: Int { durationBucketCount + sizeBucketCount }
    private static var bucketCount: Int { durationBucketCount + 2 * sizeBucketCount }

    init(isNamedRoute: Bool) {
        self.isNamedRoute = isNamedRoute
        sketch = .allocate(capacity: LatencySketch.indexCount)
        sketch.initialize(repeating: 0, count: LatencySketch.indexCount)
        buckets = .allocate(capacity: Self.bucketCount)
        buckets.initialize(repeating: 0, count: Self.bucketCount)
    }

    deinit {
        sketch.deallocate()
        buckets.deallocate()
    }

    /// Counts one call.
    @inline(__always)
    func add(status: Int, durationNanoseconds duration: Int64, requestBodyBytes: Int, responseBodyBytes: Int) {
        requests &+= 1
        if status >= 500 { serverErrors &+= 1 } else if status >= 400 { clientErrors &+= 1 }
        let duration = max(0, duration)
        durationSum &+= duration
        if duration < durationMin { durationMin = duration }
        if duration > durationMax { durationMax = duration }
        let index = Int(LatencySketch.index(ofNanoseconds: duration))
        sketch[index] &+= 1
        if index < lowestIndex { lowestIndex = index }
        if index > highestIndex { highestIndex = index }
        buckets[PrometheusBuckets.durationBucket(ofNanoseconds: duration)] &+= 1
        buckets[Self.requestSizeOffset + SizeHistogram.bucket(ofBytes: requestBodyBytes)] &+= 1
        buckets[Self.responseSizeOffset + SizeHistogram.bucket(ofBytes: responseBodyBytes)] &+= 1
        requestBytes &+= Int64(max(0, requestBodyBytes))
        responseBytes &+= Int64(max(0, responseBodyBytes))
    }

    /// The window's counts for `key`, and the slots cleared for the next
    /// window; `nil` when the series saw no call this window.
    func take(_ key: SeriesKey) -> SeriesMetrics? {
        guard let metrics = peek(key) else { return nil }
        (sketch + lowestIndex).update(repeating: 0, count: highestIndex - lowestIndex + 1)
        buckets.update(repeating: 0, count: Self.bucketCount)
        requests = 0; clientErrors = 0; serverErrors = 0
        durationSum = 0; durationMin = .max; durationMax = 0
        requestBytes = 0; responseBytes = 0
        lowestIndex = .max; highestIndex = -1
        return metrics
    }

    /// The window's counts so far, left in place.
    func peek(_ key: SeriesKey) -> SeriesMetrics? {
        guard requests > 0 else { return nil }
        let latency = LatencySketch(
            denseCounts: UnsafeBufferPointer(start: sketch, count: LatencySketch.indexCount),
            range: lowestIndex...highestIndex, count: requests, sum: durationSum, min: durationMin, max: durationMax)
        var requestSizes = SizeHistogram(), responseSizes = SizeHistogram()
        requestSizes.add(
            counts: UnsafeBufferPointer(start: buckets + Self.requestSizeOffset, count: Self.sizeBucketCount), sum: requestBytes)
        responseSizes.add(
            counts: UnsafeBufferPointer(start: buckets + Self.responseSizeOffset, count: Self.sizeBucketCount), sum: responseBytes
        )
        let metrics = SeriesMetrics(
            key: key, requests: requests, clientErrors: clientErrors, serverErrors: serverErrors,
            latency: latency,
            durationBuckets: Array(UnsafeBufferPointer(start: buckets, count: Self.durationBucketCount)),
            requestSizes: requestSizes, responseSizes: responseSizes)
        return metrics
    }
}
