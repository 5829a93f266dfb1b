import Synchronization

/// One attempt at one exporter, and what it counts: the single place where
/// a delivery, a failure and the wait before the next try are accounted,
/// for new batches and spooled ones alike.
extension BatchSender {
    /// How an attempt ended, once counted.
    enum AttemptOutcome {
        /// The exporter took the batch; its events are counted exported.
        case delivered
        /// The shutdown deadline passed while the exporter was sending.
        case timedOut
        /// The destination found the batch too large, and it holds more
        /// than one event: worth sending again in halves.
        case tooLarge
        /// Refused for good: the same batch would be refused again.
        case refused(any Error)
        /// Failed for a reason that may pass; the next try waits `delay`
        /// (the policy's backoff, or what `Retry-After` asked, capped).
        case failed(any Error, delay: Duration)
    }

    /// Sends `batch` to one exporter once, racing the shutdown deadline.
    ///
    /// - Parameters:
    ///   - batch: What the exporter is handed.
    ///   - count: The events in it that count as exported once it is taken.
    ///   - reports: Where the exporter's reports for this attempt collect.
    ///   - index: The exporter's slot.
    ///   - failures: Failed tries of this batch (or this spool) before this one.
    /// - Returns: The outcome, with a failure's delay before the next try.
    func attempt(
        _ batch: ExportBatch, events count: Int, reports: AttemptReports, slot index: Int, failures: Int
    ) async -> AttemptOutcome {
        let exporter = slots[index].exporter
        switch await race(signal, { try await exporter.export(batch) }) {
        case .completed:
            countDelivered(count, reports)
            counters.batches.add(1, ordering: .relaxed)
            return .delivered
        case .timedOut:
            return .timedOut
        case let .failed(error):
            counters.noteExportError("\(exporter.name): \(error)")
            let exportError = error as? ExportError
            if let exportError, exportError.isTooLarge, count > 1 { return .tooLarge }
            guard exportError?.isRetryable ?? true else { return .refused(error) }
            let delay =
                exportError?.retryAfter.map { min($0, retry.maxRetryAfter) }
                ?? retry.delay(afterAttempt: failures + 1, using: &random)
            return .failed(error, delay: delay)
        }
    }
}
