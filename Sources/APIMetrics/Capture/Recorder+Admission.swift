/// The one admission point: every call the recorder sees, finished, failed,
/// handed over whole or shed, passes through ``Recorder/admit(_:offer:)``.
/// It counts the call, shows it to the observer (the aggregation stage),
/// then offers its event to the filter and the queue.
extension Recorder {
    /// The event that comes with a call, if any.
    enum EventOffer: ~Copyable {
        /// None: the call was shed under overload.
        case none
        /// A finished exchange, queued as it is and turned into a record in
        /// the sender. Offered from inside the exchange's lock: the request
        /// head the filter reads is lent from its state, not copied.
        case exchange(ActiveExchange, queueBytes: Int, request: UnsafePointer<RequestHead>)
        /// A record built whole (``Recorder/record(_:)``, an abandoned exchange).
        case record(ExchangeRecord)
    }

    /// Counts the call, shows its summary to the observer, and queues its
    /// event when the filter admits it and the queue has room.
    ///
    /// Inlined into each caller, so that the offer's case is known there and
    /// the enum costs nothing; the summary is made only when an observer
    /// reads it.
    ///
    /// - Returns: the queued event's weight, or `nil` when no event was queued.
    @discardableResult
    @inline(__always)
    func admit(_ call: @autoclosure () -> CallSummary, offer: consuming EventOffer) -> Double? {
        guard isRecording else { return nil }
        let outcome: AdmissionOutcome
        var weight: Double?
        switch consume offer {
        case .none:
            counters.shed.add(1, ordering: .relaxed)
            outcome = .shed
        case let .exchange(exchange, bytes, request):
            counters.recorded.add(1, ordering: .relaxed)
            weight = filter.admit(target: request.pointee.target, headers: request.pointee.headers, id: exchange.id)
            outcome = weight == nil ? .filtered : push(.active(exchange), bytes: bytes)
        case var .record(record):
            counters.recorded.add(1, ordering: .relaxed)
            weight = filter.admit(target: record.request.target, headers: record.request.headers, id: record.id)
            if let weight {
                record.weight = weight
                outcome = push(.exchange(record), bytes: record.estimatedBytes)
            } else {
                outcome = .filtered
            }
        }
        if outcome == .filtered { counters.skipped.add(1, ordering: .relaxed) }
        if let observer { observer.observe(call(), outcome: outcome) }
        return outcome == .queued ? weight : nil
    }

    private func push(_ item: QueuedItem, bytes: Int) -> AdmissionOutcome {
        if queue.push(item, bytes: bytes) { return .queued }
        counters.droppedQueueFull.add(1, ordering: .relaxed)
        return .droppedQueueFull
    }
}
