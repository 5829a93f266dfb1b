import Dispatch
import Synchronization

/// The local store's writer: an exporter that writes each batch into the
/// SQLite file, one transaction per batch, on a serial queue of its own
/// (never on the request path, never on a thread of Swift's cooperative
/// pool).
///
/// What cannot be written is counted, never thrown back to the sender (a
/// retry would hold the other exporters' batches behind a full disk):
/// calls that a full disk, a lock held by another process or a failing
/// file kept out are counted as lost (``Statistics/failed``) and in the
/// store's own `dropped`; the metrics windows of a failed transaction are
/// kept in memory and written with the next one. A corrupt file is moved
/// aside, with a timestamp, and a fresh store started in its place.
final class StoreWriter: EventExporter, Sendable {
    let options: StoreOptions
    private let queue: DispatchQueue
    private let state: StoreWriterState.Box
    private let status: StoreStatusCell

    /// Checks the file (see ``StoreFile/check(_:field:)``); the store is
    /// opened on the writer's queue, so that a slow disk or a check of a
    /// file left by a killed process never holds up the start.
    ///
    /// - Parameter metricsInterval: how often windows and heartbeats come,
    ///   which tells a gap in the heartbeats (downtime) from their cadence.
    init(options: StoreOptions, metricsInterval: Duration, field: String = "store") throws(ConfigurationError) {
        try options.validate(field: field)
        try StoreFile.check(options.path, field: "\(field).path")
        self.options = options
        let status = StoreStatusCell(StoreStatus(path: options.path))
        self.status = status
        queue = DispatchQueue(label: "apimetrics.store", qos: .utility)
        let state = StoreWriterState(options: options, metricsInterval: metricsInterval, status: status)
        let box = StoreWriterState.Box(state)
        self.state = box
        queue.async { box.value.open() }
    }

    /// `store(PATH)`.
    var name: String { "store(\(options.path))" }

    /// Writes the batch; returns when it is committed (or counted as lost).
    func export(_ batch: ExportBatch) async throws {
        guard batch.count > 0 || batch.hasMetrics else { return }
        let outcome = await run { $0.write(batch) }
        batch.reportLost(outcome.lost, message: outcome.message ?? "")
        if let warning = outcome.warning { batch.warningReporter(warning) }
    }

    /// Marks the store as closed cleanly and closes it.
    func shutdown() async {
        await run { $0.close() }
    }

    /// What the view's pipeline page shows of the store.
    var currentStatus: StoreStatus { status.withLock { $0 } }

    /// Where the view reads the store's status from.
    var statusCell: StoreStatusCell { status }

    /// Runs `body` on the writer's queue and waits for it without holding a
    /// thread of the caller's.
    private func run<Result: Sendable>(_ body: @escaping @Sendable (StoreWriterState) -> Result) async -> Result {
        let state = self.state
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body(state.value)) }
        }
    }

    /// Runs `body` on the writer's queue and waits, for tests and the
    /// benchmark (retention on demand, the file's figures).
    func runForTesting<Result: Sendable>(_ body: @escaping @Sendable (StoreWriterState) -> Result) async -> Result {
        await run(body)
    }
}

/// The store's health, as the pipeline page shows it.
struct StoreStatus: Sendable {
    var path: String
    /// Whether the writer has the file open.
    var isOpen = false
    /// The schema version of the file.
    var schemaVersion = 0
    /// Calls committed by this process.
    var writtenCalls = 0
    /// Calls this process could not write (full, locked, failing file).
    var droppedCalls = 0
    /// Metrics windows waiting in memory for a write to succeed.
    var pendingWindows = 0
    /// Calls deleted by retention (age and bytes) since start.
    var retiredCalls = 0
    /// The last failure, `nil` once a write succeeds again.
    var lastError: String?
    /// When the last failure happened, in nanoseconds since the epoch.
    var lastErrorAt: Int64?
}

/// The store's status, shared by the writer's queue and the view.
final class StoreStatusCell: Sendable {
    private let mutex: Mutex<StoreStatus>

    init(_ status: StoreStatus) { mutex = Mutex(status) }

    func withLock<Result>(_ body: (inout StoreStatus) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
