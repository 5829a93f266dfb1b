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

    /// A one-line summary.
    public var description: String {
        "recorded=\(recorded) skipped=\(skipped) dropped=\(dropped) queued=\(queued) exported=\(exported) failed=\(failed)\(rejected > 0 ? " rejected=\(rejected)" : "")"
    }
}
