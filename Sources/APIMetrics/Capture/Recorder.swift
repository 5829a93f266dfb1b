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
    private let isEnabled: Bool

    init(
        queue: EventQueue, counters: PipelineCounters, bodyLimit: Int,
        bodyContentTypes: BodyContentTypes, filter: EventFilter, isEnabled: Bool
    ) {
        self.filter = filter
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
        ActiveExchange(recorder: self, head: head, direction: direction, id: ids.next(), startedAt: startedAt ?? .now())
    }

    /// Whether the queue is full now: an exchange begun now would most likely
    /// be dropped when it finishes. Under sustained overload most calls are;
    /// an adapter that does work before ``begin(_:direction:startedAt:)``
    /// (copying a head's fields) can check this first and call
    /// ``countDroppedExchange()`` instead, so that shedding the event costs
    /// the request almost nothing.
    ///
    /// ```swift
    /// if recorder.isQueueFull {
    ///     recorder.countDroppedExchange()
    /// } else {
    ///     let exchange = recorder.begin(head)
    ///     …
    /// }
    /// ```
    public var isQueueFull: Bool { isEnabled && queue.isRefusing }

    /// Counts a call that was not captured because ``isQueueFull`` said the
    /// queue was full: recorded, and dropped for lack of room, exactly as a
    /// finished exchange the queue refused.
    public func countDroppedExchange() {
        guard isEnabled else { return }
        counters.shed.add(1, ordering: .relaxed)
    }

    /// Hands over a record an adapter built itself, as if it had just finished.
    public func record(_ record: ExchangeRecord) {
        enqueue(record)
    }

    /// Whether events are being recorded at all; adapters may skip their own
    /// work when it is `false`.
    public var isRecording: Bool { isEnabled }

    func enqueue(_ record: ExchangeRecord) {
        guard isEnabled else { return }
        counters.recorded.add(1, ordering: .relaxed)
        // The aggregation stage (a later issue) counts every record here,
        // before the filter or the queue can leave it out, so metrics stay exact.
        var record = record
        guard let weight = filter.admit(target: record.request.target, headers: record.request.headers, id: record.id) else {
            counters.skipped.add(1, ordering: .relaxed)
            return
        }
        record.weight = weight
        if !queue.push(.exchange(record), bytes: record.estimatedBytes) {
            counters.droppedQueueFull.add(1, ordering: .relaxed)
        }
    }

    /// Queues a finished exchange that the filter admitted; it becomes a
    /// record in the sender.
    func enqueue(_ exchange: ActiveExchange, bytes: Int) {
        if !queue.push(.active(exchange), bytes: bytes) {
            counters.droppedQueueFull.add(1, ordering: .relaxed)
        }
    }
}
