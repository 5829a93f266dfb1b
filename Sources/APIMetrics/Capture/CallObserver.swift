/// Sees every call at the recorder's admission point, on the request path:
/// where the aggregation stage reads the calls it counts. An implementation
/// must be cheap, must not block, and must not call back into the recorder.
/// A class: the recorder holds one reference, read on every call.
package protocol CallObserver: AnyObject, Sendable {
    /// One call, summed up; `outcome` says what became of its event.
    func observe(_ call: borrowing CallSummary, outcome: AdmissionOutcome)
}

/// What became of a call's event at the admission point.
package enum AdmissionOutcome: Sendable, Hashable {
    /// Queued for the sender.
    case queued
    /// Left out of the logs by the event filter's exclusions (paths, user agents, hosts).
    case filtered
    /// Left out of the logs by sampling: the calls logged carry its weight.
    case sampledOut
    /// Refused by a full or closed queue.
    case droppedQueueFull
    /// Not captured at all: the adapter shed it while the queue was full.
    case shed
}
