import Synchronization

/// The one admission point: every call the recorder sees, finished, failed,
/// handed over whole or shed, passes through
/// ``Recorder/admit(_:filtering:id:queueing:)``. It counts the call, shows it
/// to the observer (the aggregation stage), then offers its event to the
/// filter and the queue.
extension Recorder {
    /// Counts the call, shows its summary to the observer, and queues its
    /// event when the filter admits it and the queue has room.
    ///
    /// - Parameters:
    ///   - call: the call's summary, made only when an observer reads it.
    ///   - request: the head the filter reads, lent in place (a finished
    ///     exchange offers it from inside its lock); `nil` for a call that
    ///     comes with no event (shed under overload).
    ///   - id: the event's id, for sampling.
    ///   - item: makes the queued item and its queue bytes from the weight
    ///     the filter decided (`nil` for a call with no event).
    /// - Returns: the queued event's weight, or `nil` when no event was queued.
    ///
    /// Inlined into each caller, where the closures are known and cost
    /// nothing.
    @discardableResult
    @inline(__always)
    func admit(
        _ call: @autoclosure () -> CallSummary,
        filtering request: UnsafePointer<RequestHead>?, id: EventID,
        queueing item: (_ weight: Double) -> (QueuedItem, bytes: Int)?
    ) -> Double? {
        guard isRecording else { return nil }
        let outcome: AdmissionOutcome
        var weight: Double?
        if let request {
            counters.recorded.add(1, ordering: .relaxed)
            weight = filter.admit(target: request.pointee.target, headers: request.pointee.headers, id: id)
            let isSampledOut = weight == 0
            if isSampledOut {
                weight = nil
                counters.sampledOut.add(1, ordering: .relaxed)
            }
            if let weight, let (queued, bytes) = item(weight) {
                if queue.push(queued, bytes: bytes) {
                    outcome = .queued
                } else {
                    counters.droppedQueueFull.add(1, ordering: .relaxed)
                    outcome = .droppedQueueFull
                }
            } else {
                counters.skipped.add(1, ordering: .relaxed)
                outcome = isSampledOut ? .sampledOut : .filtered
            }
        } else {
            counters.shed.add(1, ordering: .relaxed)
            outcome = .shed
        }
        if let observer { observer.observe(call(), outcome: outcome) }
        return outcome == .queued ? weight : nil
    }
}
