/// The entry point of the hot path: servers begin exchanges here.
///
/// Obtain it from ``APIMetricsService/recorder``. Beginning and finishing an exchange
/// takes a few hundred nanoseconds plus the bounded body copy: no I/O, no
/// JSON, no waiting for the sender. When the queue is full or intake has
/// stopped, the finished event is dropped and counted.
public final class Recorder: Sendable {
    let queue: EventQueue
    let counters: PipelineCounters
    private let ids: EventIDGenerator
    let bodyLimit: Int
    let bodyContentTypes: BodyContentTypes
    let filter: EventFilter
    /// Sees every call at the admission point: the aggregation stage.
    let observer: (any CallObserver)?
    private let isEnabled: Bool

    init(
        queue: EventQueue, counters: PipelineCounters, bodyLimit: Int,
        bodyContentTypes: BodyContentTypes, filter: EventFilter, isEnabled: Bool,
        observer: (any CallObserver)? = nil
    ) {
        self.filter = filter
        self.observer = observer
        self.queue = queue
        self.counters = counters
        self.ids = EventIDGenerator()
        self.bodyLimit = bodyLimit
        self.bodyContentTypes = bodyContentTypes
        self.isEnabled = isEnabled
    }

    /// Starts recording a call whose request head has been read.
    ///
    /// - Parameters:
    ///   - head: the request's method, target, headers, route and peer.
    ///   - direction: `.incoming` for calls this server answers.
    ///   - startedAt: when the request's first byte arrived; now by default.
    /// - Returns: the exchange to feed and finish.
    public func begin(
        _ head: consuming RequestHead, direction: ExchangeDirection = .incoming, startedAt: CaptureInstant? = nil
    ) -> ActiveExchange {
        let start = startedAt ?? .now()
        return ActiveExchange(
            recorder: self, head: head, direction: direction, id: ids.next(wallNanoseconds: start.wallNanoseconds),
            startedAt: start)
    }

    /// Whether the queue is full now: an exchange begun now would most likely
    /// be dropped when it finishes. Under sustained overload most calls are;
    /// an adapter that does work before ``begin(_:direction:startedAt:)``
    /// (copying a head's fields) can check this first and hand over only
    /// the call's ``CallSummary`` once it is served, with
    /// ``recordShedCall(_:)``, so that shedding the event costs the request
    /// almost nothing while the metrics still count the call.
    ///
    /// ```swift
    /// if recorder.isQueueFull {
    ///     // … serve, then:
    ///     recorder.recordShedCall(CallSummary(method: "GET", route: route, status: 200, durationNanoseconds: elapsed))
    /// } else {
    ///     let exchange = recorder.begin(head)
    ///     …
    /// }
    /// ```
    public var isQueueFull: Bool { isEnabled && queue.isRefusing }

    /// Counts a call that was served without being captured because
    /// ``isQueueFull`` said the queue was full: recorded, and dropped for
    /// lack of room, exactly as a finished exchange the queue refused; its
    /// summary still counts in the metrics.
    public func recordShedCall(_ call: CallSummary) {
        admit(call, filtering: nil, id: EventID(high: 0, low: 0)) { _ in nil }
    }

    /// ``recordShedCall(_:)`` for an adapter that makes the summary only
    /// when the metrics read it.
    package func recordShedCall(_ call: () -> CallSummary) {
        admit(call(), filtering: nil, id: EventID(high: 0, low: 0)) { _ in nil }
    }

    /// Hands over a record an adapter built itself, as if it had just finished.
    public func record(_ record: ExchangeRecord) {
        enqueue(record)
    }

    /// Whether events are being recorded at all; adapters may skip their own
    /// work when it is `false`.
    public var isRecording: Bool { isEnabled }

    func enqueue(_ record: ExchangeRecord) {
        // A record handed over whole is bounded as a begun exchange is.
        var record = record
        RequestHead.bound(&record.request)
        if !record.errors.isEmpty { record.errors = record.errors.map { $0.bounded() } }
        let call = CallSummary(
            method: record.request.method, route: record.request.route,
            target: record.request.route == nil ? record.request.target : nil, status: record.response?.status ?? 0,
            durationNanoseconds: record.durationNanoseconds,
            requestBodyBytes: record.requestBody.size, responseBodyBytes: record.responseBody.size)
        // A rare path (a record handed over whole, an abandoned exchange):
        // the head is copied for the filter rather than lent.
        let request = record.request
        _ = withUnsafePointer(to: request) { request in
            admit(call, filtering: request, id: record.id) { weight in
                var weighted = record
                weighted.weight = weight
                return (.exchange(weighted), weighted.estimatedBytes)
            }
        }
    }
}
