import Synchronization

/// The disk spool's side of the sender: batches an exporter could not take
/// in time go to disk, and come back out, oldest first, once it takes
/// them again.
extension BatchSender {
    /// Appends a batch (events, alert transitions) to the spool for one
    /// exporter; whether it is on disk.
    func spoolBatch(
        _ processed: ProcessedBatch, alerts: [AlertEvent] = [], slot index: Int, reason: UndeliveredBatch.Reason, message: String
    ) -> Bool {
        guard let spool, !processed.isEmpty || !alerts.isEmpty else { return false }
        let outcome = spool.append(undeliveredBatch(processed, alerts: alerts, slot: index, reason: reason, message: message))
        countEvicted(outcome)
        guard outcome.isSpooled else { return false }
        counters.spooled.add(processed.records.count + processed.entities.count, ordering: .relaxed)
        return true
    }

    /// Counts and says what the spool deleted unsent to make room.
    func countEvicted(_ outcome: DiskSpool.AppendOutcome) {
        if outcome.evictedEvents > 0 {
            counters.droppedSpoolFull.add(outcome.evictedEvents, ordering: .relaxed)
            diagnostics.log(.error, "the spool was full: deleted its oldest \(outcome.evictedEvents) events unsent")
        }
        if outcome.evictedAlerts > 0 {
            counters.alertsLost.add(outcome.evictedAlerts, ordering: .relaxed)
            diagnostics.log(.error, "the spool was full: deleted its oldest \(outcome.evictedAlerts) alert transitions unsent")
        }
    }

    /// Whether some exporter has spooled batches and may be tried now.
    func isSpoolDue() -> Bool {
        guard let spool else { return false }
        spool.syncIfDue()
        let now = clock.now()
        return slots.contains { slot in
            Self.isSpooled(slot.exporter.content) && now >= slot.spoolRetryAt && spool.hasPending(for: slot.exporter.name)
        }
    }

    /// Sends what the spool holds for one exporter, oldest first, one
    /// attempt each; returns whether nothing is left for it. After a failed
    /// attempt the spool waits for this exporter as the retry policy says
    /// (or as `Retry-After` asks) before it is tried again.
    func drainSpool(slot index: Int) async -> Bool {
        guard let spool else { return true }
        let exporter = slots[index].exporter
        guard spool.hasPending(for: exporter.name) else { return true }
        guard clock.now() >= slots[index].spoolRetryAt else { return false }
        while let entry = spool.oldest(for: exporter.name) {
            guard let stored = spool.read(entry) else { continue }
            let maxEvents = exporter.batchLimits.maxEvents
            if stored.count > maxEvents {
                // Spooled whole, more than the exporter takes in one request.
                guard await drainInPieces(stored, entry, size: maxEvents, slot: index) else { return false }
                continue
            }
            let reports = AttemptReports()
            let batch = spooledBatch(
                stored.identity, records: stored.records, entities: stored.entities, alerts: stored.alerts, reports: reports)
            switch await attempt(batch, events: stored.count, reports: reports, slot: index, failures: slots[index].spoolFailures)
            {
            case .delivered:
                spool.acknowledge(entry)
                slots[index].spoolFailures = 0
            case .timedOut:
                return false
            case .tooLarge:
                guard await drainInPieces(stored, entry, size: (stored.count + 1) / 2, slot: index) else { return false }
            case let .refused(error):
                // Refused for good: sending it again would be refused again.
                spool.acknowledge(entry)
                counters.failed.add(stored.count, ordering: .relaxed)
                counters.alertsLost.add(stored.alerts.count, ordering: .relaxed)
                diagnostics.log(
                    .error,
                    "\(exporter.name) refused a spooled batch of \(stored.count) events and \(stored.alerts.count) alert transitions: \(error)"
                )
            case let .failed(error, delay):
                noteSpoolFailure(error, delay: delay, slot: index)
                return false
            }
        }
        return true
    }

    /// After a failed attempt at the spool, it waits `delay` (the policy's
    /// backoff, or what `Retry-After` asked) before this exporter is tried again.
    func noteSpoolFailure(_ error: any Error, delay: Duration, slot index: Int) {
        slots[index].spoolFailures += 1
        slots[index].spoolRetryAt = SenderSchedule.adding(clock.now(), delay.nanosecondsClamped)
        diagnostics.log(.warning, "\(slots[index].exporter.name) still fails; its spool is tried again in \(delay): \(error)")
    }

    /// A spooled batch sent in pieces of at most `size` (and the exporter's
    /// own limit), one attempt each as any spooled batch gets; a piece found
    /// too large is halved. At the first piece that fails for a reason worth
    /// retrying, it and those behind it go back to the spool as one batch
    /// before the entry is acknowledged (a crash in between sends delivered
    /// pieces twice, with the same ids, rather than losing any), and the
    /// spool waits as after any failure. Returns whether the spool can go on.
    func drainInPieces(_ stored: UndeliveredBatch, _ entry: DiskSpool.Entry, size: Int, slot index: Int) async -> Bool {
        guard let spool else { return false }
        let exporter = slots[index].exporter
        var whole = ProcessedBatch()
        whole.records = stored.records
        whole.entities = stored.entities
        var pending = whole.pieces(maxItems: min(size, exporter.batchLimits.maxEvents))[...]
        // The alert transitions go first, alone: until they are taken the entry stays first in line, so
        // that none of them goes behind a later one of the same alert.
        if !stored.alerts.isEmpty {
            let reports = AttemptReports()
            let batch = spooledBatch(stored.identity, records: [], entities: [], alerts: stored.alerts, reports: reports)
            switch await attempt(batch, events: 0, reports: reports, slot: index, failures: slots[index].spoolFailures) {
            case .delivered:
                break
            case .timedOut:
                return false
            case .tooLarge:
                // Not said of a batch of no events; counted as refused if it were.
                counters.alertsLost.add(stored.alerts.count, ordering: .relaxed)
            case let .refused(error):
                counters.alertsLost.add(stored.alerts.count, ordering: .relaxed)
                diagnostics.log(.error, "\(exporter.name) refused \(stored.alerts.count) spooled alert transitions: \(error)")
            case let .failed(error, delay):
                noteSpoolFailure(error, delay: delay, slot: index)
                return false
            }
        }
        var alerts: [AlertEvent] = []
        while let piece = pending.first {
            let count = piece.records.count + piece.entities.count
            let reports = AttemptReports()
            let batch = spooledBatch(
                stored.identity, records: piece.records, entities: piece.entities, alerts: alerts, reports: reports)
            var failure: (error: any Error, delay: Duration)?
            switch await attempt(batch, events: count, reports: reports, slot: index, failures: slots[index].spoolFailures) {
            case .delivered:
                pending.removeFirst()
                alerts = []
                continue
            case .timedOut:
                failure = nil
            case .tooLarge:
                let (first, second) = piece.halves()
                pending.removeFirst()
                pending = [first, second] + pending
                continue
            case let .refused(error):
                counters.failed.add(count, ordering: .relaxed)
                counters.alertsLost.add(alerts.count, ordering: .relaxed)
                diagnostics.log(
                    .error, "\(exporter.name) refused \(count) spooled events and \(alerts.count) alert transitions: \(error)")
                pending.removeFirst()
                alerts = []
                continue
            case let .failed(error, delay):
                failure = (error, delay)
            }
            // Not taken now: what is left goes back to the spool, then the entry goes.
            var rest = ProcessedBatch()
            for later in pending { rest.append(later) }
            let outcomeOfAppend = spool.append(
                UndeliveredBatch(
                    exporterName: stored.exporterName, reason: stored.reason, message: stored.message, identity: stored.identity,
                    records: rest.records, entities: rest.entities, alerts: alerts,
                    abandonedAtNanoseconds: stored.abandonedAtNanoseconds))
            countEvicted(outcomeOfAppend)
            if !outcomeOfAppend.isSpooled {
                let left = rest.records.count + rest.entities.count
                counters.failed.add(left, ordering: .relaxed)
                counters.alertsLost.add(alerts.count, ordering: .relaxed)
                diagnostics.log(
                    .error,
                    "gave up \(left) spooled events and \(alerts.count) alert transitions for \(exporter.name): the spool could not take them back"
                )
            }
            spool.acknowledge(entry)
            if let failure { noteSpoolFailure(failure.error, delay: failure.delay, slot: index) }
            return false
        }
        spool.acknowledge(entry)
        slots[index].spoolFailures = 0
        return true
    }

    /// What the exporter is handed for spooled records: labelled with the
    /// identity they were spooled under, no drops to report.
    private func spooledBatch(
        _ identity: ServiceIdentity, records: [ExchangeRecord], entities: [EntityRecord], alerts: [AlertEvent],
        reports: AttemptReports
    ) -> ExportBatch {
        var batch = ExportBatch(
            identity: identity, records: records, entities: entities, dropped: 0,
            sentAtNanoseconds: CaptureClock.wallNanoseconds(),
            encodings: BatchEncodings(identity: identity, records: records, entities: entities),
            reportSink: reportSink(reports))
        batch.alerts = alerts
        return batch
    }
}
