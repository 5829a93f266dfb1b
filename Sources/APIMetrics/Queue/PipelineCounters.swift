import Synchronization

/// The pipeline's running totals, shared by the hot path and the sender.
final class PipelineCounters: Sendable {
    /// Exchanges finished and handed to the queue (accepted or not).
    let recorded = Atomic<Int>(0)
    /// Items refused because the queue was full or closed.
    let droppedQueueFull = Atomic<Int>(0)
    /// Items taken off the queue and processed by the sender.
    let processed = Atomic<Int>(0)
    /// Items that the sender could not turn into an event.
    let droppedProcessing = Atomic<Int>(0)
    /// Calls left out of the logs by the path, user-agent, host or sampling
    /// rules (on the request path) or the skip closure (in the sender).
    let skipped = Atomic<Int>(0)
    /// Event deliveries that an exporter accepted (one per event and exporter).
    let exported = Atomic<Int>(0)
    /// Event deliveries given up after the retry budget or a permanent refusal.
    let failed = Atomic<Int>(0)
    /// Batches delivered, over all exporters.
    let batches = Atomic<Int>(0)

    init() {}

    /// Every event lost before any exporter could see it.
    var droppedBeforeExport: Int {
        droppedQueueFull.load(ordering: .relaxed) + droppedProcessing.load(ordering: .relaxed)
    }
}
