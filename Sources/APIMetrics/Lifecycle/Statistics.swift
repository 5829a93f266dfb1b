/// Running totals of the pipeline, for health checks and tests.
public struct Statistics: Sendable, Hashable, CustomStringConvertible {
    /// Exchanges finished by servers (and profile updates sent) since startup.
    public var recorded: Int
    /// Calls left out of the logs on purpose: excluded paths, health
    /// checkers, other hosts, sampling, the skip closure.
    public var skipped: Int
    /// Events lost before any exporter saw them (queue full, or intake closed).
    public var dropped: Int
    /// Events waiting in the queue now.
    public var queued: Int
    /// Event deliveries exporters accepted (one per event and exporter).
    public var exported: Int
    /// Event deliveries given up (retry budget spent, refused, or deadline).
    public var failed: Int
    /// Of ``dropped``: refused by a full (or closed) queue as the call finished.
    public var droppedQueueFull: Int = 0
    /// Of ``dropped``: shed by an adapter as the call began, the queue being full.
    public var droppedShed: Int = 0
    /// Of ``dropped``: lost while being processed (a user closure that
    /// threw or ran past its time limit).
    public var droppedProcessing: Int = 0
    /// Items a destination took the request for but refused one by one
    /// (an OTLP `partialSuccess`): counted, not retried.
    public var rejected: Int = 0
    /// Of ``skipped``: calls sampling left out of the logs.
    public var sampledOut: Int = 0
    /// Event deliveries a destination's own rules left out: Moesif's remote
    /// sample rate (the events sent carry the weight), ReadMe's rule that a
    /// call without a consumer is not logged.
    public var destinationLeftOut: Int = 0
    /// Event deliveries not made because the destination asked for a pause
    /// (ReadMe's 15 s after a refusal): dropped for that destination, not held.
    public var destinationPaused: Int = 0
    /// Events written to the disk spool because an exporter could not take
    /// them in time (one per event and exporter).
    public var spooled: Int = 0
    /// Events waiting in the spool now.
    public var spoolPending: Int = 0
    /// The spool's size on disk now, in bytes.
    public var spoolBytes: Int = 0
    /// Spooled events deleted unsent to make room for newer ones.
    public var droppedSpoolFull: Int = 0
    /// Spool records found torn or corrupted and skipped.
    public var spoolCorrupt: Int = 0
    /// Attempts after a batch's first, over all exporters.
    public var retried: Int = 0
    /// Alert transitions not delivered to an exporter of alerts and not
    /// kept for later (given up without a spool, or deleted from a full one).
    public var alertsLost: Int = 0
    /// The last error an exporter reported, when there was one.
    public var lastExportError: String?
    /// When it was reported, in nanoseconds since the Unix epoch.
    public var lastExportErrorAtNanoseconds: Int64?

    /// A one-line summary.
    public var description: String {
        "recorded=\(recorded) skipped=\(skipped) dropped=\(dropped) queued=\(queued) exported=\(exported) failed=\(failed)\(rejected > 0 ? " rejected=\(rejected)" : "")\(spooled > 0 || spoolPending > 0 ? " spooled=\(spooled) spool_pending=\(spoolPending)" : "")"
    }
}
