import Synchronization

/// The background loop: waits for a full batch or the flush interval, turns
/// queued records into events, and delivers each batch to every exporter
/// with retries. One sender per ``APIMetricsService``; nothing here runs on the
/// request path. The disk spool's side is in BatchSender+Spool.swift.
actor BatchSender {
    struct Slot {
        let exporter: any EventExporter
        /// The drop total (``PipelineCounters/droppedBeforeExport``) already
        /// reported to this exporter in a delivered batch.
        var reportedDrops = 0
        /// Events this exporter gave up on and has not yet been told of.
        var unreportedFailures = 0
        /// When the spool may next be tried for this exporter (monotonic
        /// nanoseconds), and how many tries in a row failed.
        var spoolRetryAt: Int64 = 0
        var spoolFailures = 0
        /// Why the last batch this exporter gave up on was given up.
        var lastGiveUp: UndeliveredBatch.Reason?
    }

    let queue: EventQueue
    let counters: PipelineCounters
    let runner: ProcessingRunner
    let identity: ServiceIdentity
    let batchSize: Int
    let flushInterval: Duration
    let retry: RetryPolicy
    let diagnostics: Diagnostics
    let signal: ShutdownSignal
    let undelivered: (any UndeliveredBatchHandler)?
    let spool: DiskSpool?
    let aggregator: Aggregator
    let metricsInterval: Duration
    let declaredRoutes: [String]
    /// The alert rules, evaluated on every window; `nil` without rules.
    let alerts: AlertEngine?
    /// The clock the schedule, the retries and the spool's waits read.
    let clock: any SenderClock
    /// The process's CPU time when the last heartbeat was taken, for the next one's share.
    var lastUsage: (monotonic: Int64, cpu: Int64)?
    var slots: [Slot]
    var random = SystemRandomNumberGenerator()
    var unsentAtShutdown = 0
    var hasStarted = false

    init(
        queue: EventQueue,
        counters: PipelineCounters,
        runner: ProcessingRunner,
        identity: ServiceIdentity,
        exporters: [any EventExporter],
        configuration: APIMetricsConfiguration,
        signal: ShutdownSignal,
        aggregator: Aggregator,
        spool: DiskSpool? = nil,
        alerts: AlertEngine? = nil
    ) {
        self.alerts = alerts
        self.spool = spool
        self.aggregator = aggregator
        self.metricsInterval = configuration.metrics.interval
        self.declaredRoutes = configuration.metrics.routes
        self.queue = queue
        self.counters = counters
        self.runner = runner
        self.identity = identity
        self.slots = exporters.map { Slot(exporter: $0) }
        self.batchSize = configuration.batching.maxEvents
        self.flushInterval = configuration.batching.flushInterval
        self.retry = configuration.retry
        self.diagnostics = configuration.diagnostics
        self.signal = signal
        self.clock = signal.clock
        self.undelivered = configuration.undeliveredBatchHandler
    }

    /// Events that shutdown could not deliver before its deadline.
    var unsent: Int { unsentAtShutdown }

    /// Runs until shutdown begins and the queue is drained, or the shutdown
    /// deadline passes; then closes the exporters. The timing is
    /// ``SenderSchedule``'s; this loop carries out its actions.
    func run() async {
        // Once: a second loop would share the processing thread and the exporters.
        guard !hasStarted else { return }
        hasStarted = true
        // The batch being exported while the next one is processed: the
        // exporters' waiting (an HTTP round trip) overlaps the processing
        // thread's work. One export at a time, in order.
        var exporting: Task<Void, Never>?
        var schedule = SenderSchedule(
            batchSize: batchSize, flushInterval: flushInterval.nanosecondsClamped,
            metricsInterval: metricsInterval.nanosecondsClamped, start: clock.now())
        lastUsage = (CaptureClock.monotonicNanoseconds(), ProcessUsage.now().cpuNanoseconds)
        // The startup record rides with the first batch that goes out
        // (events, or the first window).
        var extras = MetricsExtras(startup: makeStartupRecord())
        var processed: ProcessedBatch?
        rounds: while true {
            let seen = SenderSchedule.Observation(
                now: clock.now(), queued: queue.count, isStopping: signal.isStopping, isPastDeadline: signal.isPastDeadline)
            switch schedule.next(seen) {
            case let .wait(deadline, count):
                await queue.wait(forCount: count, until: deadline, clock: clock)
            case let .drain(limit):
                let items = queue.drain(limit: limit)
                if !items.isEmpty { processed = await process(items) }
            case let .cutWindow(isFinal):
                // Cut after this round's events were attributed; at
                // shutdown, the last, partial one.
                extras.metrics = aggregator.cutWindow(at: clock.wallNow(), isFinal: isFinal)
                // The last heartbeat is taken at the finish, once the last events are out.
                if !isFinal { extras.heartbeat = makeHeartbeat() }
                // The API's changes since the last window, with it.
                extras.apiChanges = runner.discovery?.takeChanges() ?? []
                if let alerts, let window = extras.metrics {
                    extras.alerts = alerts.evaluate(window, changes: extras.apiChanges)
                    for event in extras.alerts {
                        diagnostics.log(
                            .warning,
                            "alert \(event.state.rawValue): \(event.rule)\(event.instance.isEmpty ? "" : " (\(event.instance))"): \(event.summary)"
                        )
                    }
                }
            case .export:
                // A spool with batches due goes out even when nothing new does.
                if processed != nil || extras.metrics != nil || isSpoolDue() {
                    let batch = processed ?? ProcessedBatch()
                    let carried = extras
                    processed = nil
                    extras = MetricsExtras()
                    await exporting?.value
                    exporting = Task { await self.export(batch, carried) }
                }
            case .finish:
                await exportFinal(processed, extras, after: exporting)
                exporting = nil
                break rounds
            case .abandon:
                break rounds
            }
        }
        await exporting?.value
        let leftItems = queue.drain(limit: .max)
        let left = leftItems.count
        if left > 0 {
            unsentAtShutdown += left
            diagnostics.log(.error, "shutdown deadline passed with \(left) events still queued; they were not sent")
            if undelivered != nil || spool != nil {
                // Processed here, without the user's closures (nothing that
                // could hang), so that what was queued can be stored and
                // sent later like any batch given up.
                var leftover = ProcessedBatch(capacity: left)
                for item in leftItems { leftover.add(runner.processWithoutUserCode(item)) }
                for index in slots.indices where slots[index].exporter.content.contains(.events) {
                    let message = "still queued when the shutdown deadline passed"
                    if spoolBatch(leftover, slot: index, reason: .shutdownDeadline, message: message) {
                        diagnostics.log(
                            .warning, "spooled \(left) events still queued at the deadline for \(slots[index].exporter.name)")
                    }
                    await handOver(leftover, slot: index, reason: .shutdownDeadline, message: message)
                }
            }
        }
        for slot in slots {
            await slot.exporter.shutdown()
        }
        spool?.close()
        runner.close()
    }

    /// Turns queued items into events on the processing thread; `nil` when
    /// nothing is left to export.
    func process(_ items: [QueuedItem]) async -> ProcessedBatch? {
        var batch = await runner.process(items)
        // Tallied on the processing thread as each call was processed;
        // after a closure hung, some were processed elsewhere: all are
        // tallied here then.
        if batch.attribution.count == batch.records.count {
            aggregator.merge(batch.attribution)
        } else {
            aggregator.attribute(batch.records, validationErrors: ValidationProblems.of)
        }
        batch.attribution = Aggregator.Attribution()
        counters.processed.add(items.count, ordering: .relaxed)
        if batch.skipped > 0 { counters.skipped.add(batch.skipped, ordering: .relaxed) }
        return batch.isEmpty ? nil : batch
    }

    /// Delivers one processed batch, with the metrics records that go with
    /// it, to every exporter.
    func export(_ batch: ProcessedBatch, _ extras: MetricsExtras = MetricsExtras()) async {
        // The lines made while processing, when an exporter reads them; any
        // other encoding is made once, by the first exporter that asks.
        let encodings = BatchEncodings(
            identity: identity, records: batch.records, entities: batch.entities, schemaV1: batch.schemaV1Lines)
        var unsentInBatch = 0
        for index in slots.indices {
            let content = slots[index].exporter.content
            var batch = batch
            var extras = extras
            var encodings = encodings
            if Self.isSpooled(content), spool != nil, !(await drainSpool(slot: index)) {
                // Older batches still wait on disk: what this exporter takes
                // of this one goes behind them, so that it receives them in order.
                let events = content.contains(.events) ? batch : ProcessedBatch()
                let alerts = content.contains(.alerts) ? extras.alerts : []
                let message = "behind batches the spool holds for \(slots[index].exporter.name)"
                if !spoolBatch(events, alerts: alerts, slot: index, reason: .retriesExhausted, message: message) {
                    countLost(events, alerts, slot: index, message: message)
                }
                batch = ProcessedBatch()
                encodings = Self.encodings(of: batch, identity)
                // Only what went to the spool (an exporter may send alerts it does not name as its content).
                if content.contains(.alerts) { extras.alerts = [] }
            }
            // Only a batch holding something this exporter sends is handed over.
            guard
                (content.contains(.events) && !batch.isEmpty) || (content.contains(.metrics) && !extras.isEmpty)
                    || (content.contains(.alerts) && !extras.alerts.isEmpty)
            else { continue }
            let maxEvents = slots[index].exporter.batchLimits.maxEvents
            let delivered: Bool
            if content.contains(.events), batch.records.count + batch.entities.count > maxEvents {
                // More than the destination takes in one request: in pieces,
                // the metrics records with the first.
                var allDelivered = true
                let pieces = batch.pieces(maxItems: maxEvents)
                for (number, piece) in pieces.enumerated() {
                    slots[index].lastGiveUp = nil
                    let pieceDelivered = await deliver(
                        piece, Self.encodings(of: piece, identity), number == 0 ? extras : MetricsExtras(), toSlot: index)
                    allDelivered = allDelivered && pieceDelivered
                    if !pieceDelivered, let reason = slots[index].lastGiveUp, reason.isWorthRetrying, number + 1 < pieces.count {
                        // The destination is down, or the deadline passed: the
                        // pieces behind would spend the same retries. They
                        // follow this one, unsent, to the spool or the seam.
                        var rest = ProcessedBatch()
                        for later in pieces[(number + 1)...] { rest.append(later) }
                        await giveUp(
                            rest, MetricsExtras(), slot: index, reason: reason,
                            message: "behind a piece \(slots[index].exporter.name) did not take")
                        break
                    }
                }
                delivered = allDelivered
            } else {
                delivered = await deliver(batch, encodings, extras, toSlot: index)
            }
            if !delivered, content.contains(.events) {
                unsentInBatch = max(unsentInBatch, batch.records.count + batch.entities.count)
            }
        }
        if signal.isStopping { unsentAtShutdown += unsentInBatch }
    }

    /// What one attempt's exporter said it left out; counted only when the
    /// attempt completes, so that a retried batch is not counted twice.
    final class AttemptReports: Sendable {
        let leftOut = Atomic<Int>(0)
        let paused = Atomic<Int>(0)
    }

    /// Where a batch's exporter counts what it reports besides delivery.
    func reportSink(_ attempt: AttemptReports) -> @Sendable (ExportReport) -> Void {
        { [counters, diagnostics] report in
            switch report {
            case let .rejected(count, message):
                counters.rejected.add(count, ordering: .relaxed)
                diagnostics.log(.warning, message)
            case let .leftOut(count):
                attempt.leftOut.add(count, ordering: .relaxed)
            case let .paused(count, message):
                attempt.paused.add(count, ordering: .relaxed)
                diagnostics.log(.warning, message)
            case let .lost(count, message):
                counters.failed.add(count, ordering: .relaxed)
                diagnostics.log(.warning, message)
            case let .warning(message):
                diagnostics.log(.warning, message)
            }
        }
    }

    /// Counts a completed attempt of `count` events: those the exporter
    /// left out by its destination's rules or pause are counted as such,
    /// the rest as exported.
    func countDelivered(_ count: Int, _ attempt: AttemptReports) {
        let leftOut = min(count, attempt.leftOut.load(ordering: .relaxed))
        let paused = min(count - leftOut, attempt.paused.load(ordering: .relaxed))
        if leftOut > 0 { counters.destinationLeftOut.add(leftOut, ordering: .relaxed) }
        if paused > 0 { counters.destinationPaused.add(paused, ordering: .relaxed) }
        counters.exported.add(count - leftOut - paused, ordering: .relaxed)
    }

    /// Delivers one batch to one exporter, retrying per the policy; returns
    /// whether it was delivered.
    func deliver(
        _ processed: ProcessedBatch, _ encodings: BatchEncodings, _ extras: MetricsExtras, toSlot index: Int
    ) async -> Bool {
        let exporter = slots[index].exporter
        // The events this exporter carries: none for an exporter of metrics alone.
        let count = exporter.content.contains(.events) ? processed.records.count + processed.entities.count : 0
        var attempt = 0
        while true {
            attempt += 1
            let dropSnapshot = counters.droppedBeforeExport
            let dropped = max(0, dropSnapshot - slots[index].reportedDrops) + slots[index].unreportedFailures
            let reports = AttemptReports()
            var made = ExportBatch(
                identity: identity, records: processed.records, entities: processed.entities, dropped: dropped,
                sentAtNanoseconds: CaptureClock.wallNanoseconds(), encodings: encodings,
                reportSink: reportSink(reports))
            made.metrics = extras.metrics
            made.heartbeat = extras.heartbeat
            made.startup = extras.startup
            made.apiChanges = extras.apiChanges
            made.alerts = extras.alerts
            made.statistics = counters.statistics(queued: queue.count, spool: spool?.counts)
            switch await self.attempt(made, events: count, reports: reports, slot: index, failures: attempt - 1) {
            case .delivered:
                slots[index].reportedDrops = dropSnapshot
                slots[index].unreportedFailures = 0
                if attempt > 1 {
                    diagnostics.log(.debug, "\(exporter.name) took a batch of \(count) records on attempt \(attempt)")
                }
                return true
            case .timedOut:
                await giveUp(
                    processed, extras, slot: index, reason: .shutdownDeadline,
                    message: "the shutdown deadline passed while \(exporter.name) was sending")
                return false
            case .tooLarge:
                // Too large: each half on its own, down to single events.
                diagnostics.log(.warning, "\(exporter.name) found a batch of \(count) too large; sending it in halves")
                let (first, second) = processed.halves()
                let firstDelivered = await deliver(first, Self.encodings(of: first, identity), extras, toSlot: index)
                let secondDelivered = await deliver(second, Self.encodings(of: second, identity), MetricsExtras(), toSlot: index)
                return firstDelivered && secondDelivered
            case let .refused(error):
                await giveUp(
                    processed, extras, slot: index, reason: .rejected,
                    message: "\(exporter.name) failed as refused: \(error)")
                return false
            case let .failed(error, delay):
                guard attempt < retry.maxAttempts else {
                    await giveUp(
                        processed, extras, slot: index, reason: .retriesExhausted,
                        message: "\(exporter.name) failed after \(attempt) attempts: \(error)")
                    return false
                }
                let deadline = signal.deadlineNanoseconds
                if let deadline, SenderSchedule.adding(clock.now(), delay.nanosecondsClamped) > deadline {
                    await giveUp(
                        processed, extras, slot: index, reason: .shutdownDeadline,
                        message: "\(exporter.name) failed and the next attempt would pass the shutdown deadline: \(error)")
                    return false
                }
                diagnostics.log(
                    .warning, "\(exporter.name) failed attempt \(attempt) of \(retry.maxAttempts), retrying in \(delay): \(error)"
                )
                await signal.sleep(for: delay, seen: deadline)
                counters.retried.add(1, ordering: .relaxed)
            }
        }
    }

    /// The give-up seam: counts the batch as failed for this exporter and
    /// hands it to the undelivered-batch handler, when there is one.
    func giveUp(
        _ processed: ProcessedBatch, _ extras: MetricsExtras, slot index: Int, reason: UndeliveredBatch.Reason, message: String
    ) async {
        if let window = extras.metrics, slots[index].exporter.content.contains(.metrics) {
            diagnostics.log(
                .error,
                "\(slots[index].exporter.name) lost the metrics window ending \(Timestamp.rfc3339(nanosecondsSinceEpoch: window.endNanoseconds)) (\(window.requests) calls): \(message)"
            )
        }
        slots[index].lastGiveUp = reason
        let content = slots[index].exporter.content
        let events = content.contains(.events) ? processed : ProcessedBatch()
        let alerts = content.contains(.alerts) ? extras.alerts : []
        guard !events.isEmpty || !alerts.isEmpty else { return }
        let count = events.records.count + events.entities.count
        if reason.isWorthRetrying, spoolBatch(events, alerts: alerts, slot: index, reason: reason, message: message) {
            diagnostics.log(
                .warning,
                "spooled \(count) events and \(alerts.count) alert transitions for \(slots[index].exporter.name) (\(reason)): \(message)"
            )
        } else {
            countLost(events, alerts, slot: index, message: "\(reason): \(message)")
        }
        await handOver(events, alerts: alerts, slot: index, reason: reason, message: message)
    }

    /// Counts what one exporter will never get, and says what it was.
    func countLost(_ events: ProcessedBatch, _ alerts: [AlertEvent], slot index: Int, message: String) {
        let count = events.records.count + events.entities.count
        if count > 0 {
            slots[index].unreportedFailures += count
            counters.failed.add(count, ordering: .relaxed)
            diagnostics.log(.error, "gave up a batch of \(count) events for \(slots[index].exporter.name) (\(message))")
        }
        if !alerts.isEmpty {
            // Said, with what was lost (the dashboard and the store still have them).
            counters.alertsLost.add(alerts.count, ordering: .relaxed)
            let named = alerts.prefix(5).map { "\($0.state.rawValue) \($0.rule)" }.joined(separator: ", ")
            diagnostics.log(
                .error, "\(slots[index].exporter.name) lost \(alerts.count) alert transition(s) (\(named)): \(message)")
        }
    }

    /// Whether an exporter of `content` has a spool to keep what it did not take.
    static func isSpooled(_ content: ExportContent) -> Bool {
        content.contains(.events) || content.contains(.alerts)
    }

    func handOver(
        _ processed: ProcessedBatch, alerts: [AlertEvent] = [], slot index: Int, reason: UndeliveredBatch.Reason, message: String
    ) async {
        guard let undelivered, !processed.isEmpty || !alerts.isEmpty else { return }
        await undelivered.handle(undeliveredBatch(processed, alerts: alerts, slot: index, reason: reason, message: message))
    }

    func undeliveredBatch(
        _ processed: ProcessedBatch, alerts: [AlertEvent] = [], slot index: Int, reason: UndeliveredBatch.Reason, message: String
    ) -> UndeliveredBatch {
        UndeliveredBatch(
            exporterName: slots[index].exporter.name, reason: reason, message: counters.secrets.scrub(message),
            identity: identity,
            records: processed.records, entities: processed.entities, alerts: alerts,
            abandonedAtNanoseconds: CaptureClock.wallNanoseconds())
    }

    static func encodings(of batch: ProcessedBatch, _ identity: ServiceIdentity) -> BatchEncodings {
        BatchEncodings(identity: identity, records: batch.records, entities: batch.entities, schemaV1: batch.schemaV1Lines)
    }
}
