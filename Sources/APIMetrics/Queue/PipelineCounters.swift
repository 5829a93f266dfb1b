import Synchronization

/// The pipeline's running totals, shared by the hot path and the sender.
///
/// The counters that requests move come first and the sender's after a
/// cache line of padding, so that the sender's counting does not take the
/// requests' line away from their cores (and the other way round).
final class PipelineCounters: Sendable {
    /// Exchanges finished and handed to the queue (accepted or not); the
    /// shed ones are counted apart (``shed``).
    let recorded = Atomic<Int>(0)
    /// Items refused because the queue was full or closed.
    let droppedQueueFull = Atomic<Int>(0)
    /// Calls not captured at all because the queue was full when they
    /// started: recorded and dropped in one count, one atomic add per call.
    let shed = Atomic<Int>(0)
    /// Calls left out of the logs by the path, user-agent, host or sampling
    /// rules (on the request path) or the skip closure (in the sender).
    let skipped = Atomic<Int>(0)
    /// Of ``skipped``: left out by sampling.
    let sampledOut = Atomic<Int>(0)
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// Items taken off the queue and processed by the sender.
    let processed = Atomic<Int>(0)
    /// Items that the sender could not turn into an event.
    let droppedProcessing = Atomic<Int>(0)
    /// Event deliveries that an exporter accepted (one per event and exporter).
    let exported = Atomic<Int>(0)
    /// Event deliveries given up after the retry budget or a permanent refusal.
    let failed = Atomic<Int>(0)
    /// Batches delivered, over all exporters.
    let batches = Atomic<Int>(0)
    /// Items a destination took the request for but refused (OTLP's
    /// `partialSuccess`), over all exporters.
    let rejected = Atomic<Int>(0)
    /// Events a destination's own sampling left out, over all exporters.
    let destinationLeftOut = Atomic<Int>(0)
    /// Events not sent while a destination asked for a pause, over all exporters.
    let destinationPaused = Atomic<Int>(0)
    /// Events written to the disk spool, over all exporters.
    let spooled = Atomic<Int>(0)
    /// Spooled events deleted unsent to make room for newer ones.
    let droppedSpoolFull = Atomic<Int>(0)
    /// Attempts after a batch's first, over all exporters.
    let retried = Atomic<Int>(0)
    /// Alert transitions an exporter gave up on that the spool did not keep,
    /// or that the spool deleted unsent to make room, over all exporters.
    let alertsLost = Atomic<Int>(0)
    /// The last error an exporter reported, and when (nanoseconds since the epoch).
    let lastExportError = Mutex<(message: String, atNanoseconds: Int64)?>(nil)
    /// Kept out of every error message noted here or spooled.
    let secrets: ConfiguredSecrets

    init(secrets: ConfiguredSecrets = ConfiguredSecrets(urls: [], values: [])) {
        self.secrets = secrets
    }

    /// Every call recorded, shed ones included.
    var recordedTotal: Int {
        recorded.load(ordering: .relaxed) + shed.load(ordering: .relaxed)
    }

    /// Every call dropped for want of room in the queue, shed ones included.
    var droppedForRoom: Int {
        droppedQueueFull.load(ordering: .relaxed) + shed.load(ordering: .relaxed)
    }

    /// Every event lost before any exporter could see it.
    var droppedBeforeExport: Int {
        droppedForRoom + droppedProcessing.load(ordering: .relaxed)
    }

    /// Notes an exporter's error as the last one.
    func noteExportError(_ message: String) {
        let message = secrets.scrub(message)
        lastExportError.withLock { $0 = (message, CaptureClock.wallNanoseconds()) }
    }

    /// The running totals, with the queue's current length and the
    /// spool's, when there is one.
    func statistics(queued: Int, spool: DiskSpool.Counts? = nil) -> Statistics {
        let lastError = lastExportError.withLock { $0 }
        return Statistics(
            recorded: recordedTotal,
            skipped: skipped.load(ordering: .relaxed),
            dropped: droppedBeforeExport,
            queued: queued,
            exported: exported.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed),
            droppedQueueFull: droppedQueueFull.load(ordering: .relaxed),
            droppedShed: shed.load(ordering: .relaxed),
            droppedProcessing: droppedProcessing.load(ordering: .relaxed),
            rejected: rejected.load(ordering: .relaxed),
            sampledOut: sampledOut.load(ordering: .relaxed),
            destinationLeftOut: destinationLeftOut.load(ordering: .relaxed),
            destinationPaused: destinationPaused.load(ordering: .relaxed),
            spooled: spooled.load(ordering: .relaxed),
            spoolPending: spool?.pendingEvents ?? 0,
            spoolBytes: spool?.bytes ?? 0,
            droppedSpoolFull: droppedSpoolFull.load(ordering: .relaxed),
            spoolCorrupt: spool?.corruptRecords ?? 0,
            retried: retried.load(ordering: .relaxed),
            alertsLost: alertsLost.load(ordering: .relaxed),
            lastExportError: lastError?.message,
            lastExportErrorAtNanoseconds: lastError?.atNanoseconds)
    }
}
