#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// The local store's writer: an exporter that writes batches into the
/// SQLite file on a thread of its own at the sender's priority (never on
/// the request path, never on a thread of Swift's cooperative pool; below
/// the server's threads by default, offering the core back every 100 µs of
/// a commit, so that a commit of thousands of calls never holds a core the
/// server wants for a whole scheduler slice).
///
/// Commits are grouped: ``export(_:)`` hands the batch over and returns;
/// what is waiting is written in one transaction every
/// ``commitInterval`` milliseconds, or as soon as ``commitCalls`` calls or
/// ``commitBytes`` wait. One transaction of thousands of calls touches
/// each index page once where a transaction per batch of hundreds would
/// touch it again and again; that is most of a write's cost. At most
/// ``maxWaitingCalls`` calls (or ``maxWaitingBytes``) wait: past it
/// ``export(_:)`` waits for the commit, so a slow disk slows the sender
/// (whose queue then drops, counted), never the memory it takes.
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
    private let queue: BackgroundThread
    private let state: StoreWriterState.Box
    private let status: StoreStatusCell
    private let waiting = Mutex(Waiting())
    /// Batches committed and not yet let go: the next ``export(_:)`` drops
    /// them, on the sender's thread. Their calls' memory was allocated by
    /// the server's threads, and freeing it takes the allocator's locks for
    /// those threads' memory; on the writer's thread, below normal priority,
    /// a preemption while it held one kept a server thread waiting for it
    /// (the saturated load test's p99).
    private let committed = Mutex<[ExportBatch]>([])

    /// The batches handed over and not yet committed.
    private struct Waiting {
        var batches: [ExportBatch] = []
        /// Each batch's ``estimatedBytes(_:)``, worked out once, by the sender.
        var sizes: [Int] = []
        var calls = 0
        var bytes = 0
        /// Whether a commit is due on the queue (timed or immediate).
        var isCommitDue = false
    }

    /// How long a handed-over batch waits for its commit at most, in milliseconds.
    static let commitInterval = 250
    /// The calls that make a commit start at once.
    static let commitCalls = 5_000
    /// The bytes of bodies and text that make a commit start at once.
    static let commitBytes = 8 << 20
    /// The calls past which ``export(_:)`` waits for the commit.
    static let maxWaitingCalls = 20_000
    /// The bytes past which ``export(_:)`` waits for the commit.
    static let maxWaitingBytes = 32 << 20

    /// Checks the file (see ``StoreFile/check(_:field:)``); the store is
    /// opened on the writer's thread, so that a slow disk or a check of a
    /// file left by a killed process never holds up the start.
    ///
    /// - Parameter metricsInterval: how often windows and heartbeats come,
    ///   which tells a gap in the heartbeats (downtime) from their cadence.
    init(
        options: StoreOptions, metricsInterval: Duration, priority: SenderPriority = .low, field: String = "store"
    ) throws(ConfigurationError) {
        try options.validate(field: field)
        try StoreFile.check(options.path, field: "\(field).path")
        self.options = options
        let status = StoreStatusCell(StoreStatus(path: options.path))
        self.status = status
        queue = BackgroundThread(name: "apimetrics-db", priority: priority)
        let state = StoreWriterState(
            options: options, metricsInterval: metricsInterval, yieldInterval: priority.yieldInterval, status: status)
        let box = StoreWriterState.Box(state)
        self.state = box
        queue.async { box.value.open() }
    }

    deinit { queue.retire() }

    /// Reads what earlier runs learnt of the API into `discovery`, and
    /// writes what it learns with each metrics window and at shutdown.
    func attach(_ discovery: APIDiscovery) {
        let state = self.state
        queue.async { [self] in
            commitWaiting()
            state.value.discovery = discovery
            state.value.loadDiscovery(into: discovery)
        }
    }

    /// Reads the alert states an earlier run left into `alerts`, and writes
    /// their states and transitions with each metrics window and at shutdown.
    func attach(_ alerts: AlertEngine) {
        let state = self.state
        queue.async { [self] in
            commitWaiting()
            state.value.alerts = alerts
            state.value.loadAlerts(into: alerts)
        }
    }

    /// Forgets the alert states an earlier run left, for a run without
    /// rules: the dashboard would show them firing for ever (the history stays).
    func forgetAlertStates() {
        let state = self.state
        queue.async {
            guard let connection = state.value.connection, state.value.disabledReason == nil else { return }
            try? connection.execute("DELETE FROM alert_states")
        }
    }

    /// `store(PATH)`.
    var name: String { "store(\(options.path))" }

    /// Hands the batch over to the next commit; waits for it only when
    /// more than ``maxWaitingCalls`` calls or ``maxWaitingBytes`` wait.
    /// Calls the commit cannot write are reported through the batch
    /// (``ExportBatch/reportLost(_:message:)``) when it fails.
    func export(_ batch: ExportBatch) async throws {
        // The sender's thread (of the cooperative pool) never waits for a
        // lock the writer (below normal priority) may hold while preempted:
        // it tries, and pauses.
        let done = committed.withLockIfAvailable { committed in
            defer { committed = [] }
            return committed
        }
        defer { withExtendedLifetime(done) {} }
        guard batch.count > 0 || batch.hasMetrics else { return }
        let bytes = Self.estimatedBytes(batch)
        enum Next { case none, schedule, commitNow, wait }
        let next: Next = await lookUntilAnswered {
            waiting.withLockIfAvailable { waiting in
                waiting.batches.append(batch)
                waiting.sizes.append(bytes)
                waiting.calls += batch.records.count
                waiting.bytes += bytes
                // Inside the lock (the status cell's lock is only ever taken
                // second), so that a commit never subtracts what is not yet
                // added; skipped when the writer holds the cell (the figure
                // is for display, and the next batch sets it).
                status.withLockIfAvailable { [calls = waiting.calls] in $0.waitingCalls = calls }
                if waiting.calls >= Self.maxWaitingCalls || waiting.bytes >= Self.maxWaitingBytes { return .wait }
                let isFull = waiting.calls >= Self.commitCalls || waiting.bytes >= commitBytes
                guard !waiting.isCommitDue else { return isFull ? .commitNow : .none }
                waiting.isCommitDue = true
                return isFull ? .commitNow : .schedule
            }
        }
        switch next {
        case .none: break
        case .schedule:
            queue.async(after: .milliseconds(options.commitIntervalForTesting ?? Self.commitInterval)) { [self] in
                commitWaiting()
            }
        case .commitNow: queue.async { [self] in commitWaiting() }
        case .wait: await run { _ in }
        }
    }

    /// Commits what waits (every batch's calls and windows in one
    /// transaction) and reports each batch's losses and warnings.
    /// On the writer's thread.
    private func commitWaiting() {
        let (taken, sizes) = waiting.withLock { waiting in
            defer { waiting = Waiting() }
            status.withLock { $0.waitingCalls = 0 }
            return (waiting.batches, waiting.sizes)
        }
        var start = taken.startIndex
        while start < taken.endIndex {
            // A transaction takes at most a sixteenth of maxBytes (and at
            // least one batch), so that retention before it can make room.
            var end = start, bytes = 0
            while end < taken.endIndex, end == start || bytes + sizes[end] <= commitBytes {
                bytes += sizes[end]
                end += 1
            }
            commit(Array(taken[start..<end]))
            start = end
        }
        if !taken.isEmpty { committed.withLock { $0.append(contentsOf: taken) } }
    }

    private func commit(_ batches: [ExportBatch]) {
        guard let first = batches.first else { return }
        let cpuStart = Self.threadCPUNanoseconds()
        let outcome = state.value.write(batches)
        let cpu = Self.threadCPUNanoseconds() - cpuStart
        status.withLock { $0.commitCPUNanoseconds += cpu }
        // Every batch reports to the same sender's counters: the first one
        // speaks for them all.
        first.reportLost(outcome.lost, message: outcome.message ?? "")
        if let warning = outcome.warning { first.warningReporter(warning) }
    }

    /// The bytes that make a commit start at once: ``commitBytes``, or a
    /// sixteenth of a small store's ``StoreOptions/maxBytes``.
    private var commitBytes: Int { min(Self.commitBytes, options.maxBytes / 16) }

    /// The CPU time of the calling thread.
    private static func threadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// What a batch holds in memory, roughly: its bodies and each call's text.
    static func estimatedBytes(_ batch: ExportBatch) -> Int {
        batch.records.reduce(0) { total, record in
            total + 512 + record.request.target.utf8.count
                + record.requestBody.bytes.count + record.responseBody.bytes.count
        } + batch.entities.count * 512
    }

    /// Commits everything handed over, then marks the store as closed
    /// cleanly and closes it.
    func shutdown() async {
        await run { $0.close() }
        committed.withLock { $0 = [] }
    }

    /// Commits everything handed over so far and returns when it is
    /// written (or counted as lost).
    func flush() async {
        await run { _ in }
        committed.withLock { $0 = [] }
    }

    /// What the view's pipeline page shows of the store.
    var currentStatus: StoreStatus { status.withLock { $0 } }

    /// Where the view reads the store's status from.
    var statusCell: StoreStatusCell { status }

    /// Commits what waits, then runs `body` on the writer's thread, and
    /// waits for both without holding a thread of the caller's. It looks
    /// for the answer (100 µs apart, doubling up to 1 ms) rather than being
    /// woken by the writer: a continuation resumed below normal priority
    /// could have Swift's pool start a thread there, which would inherit
    /// that priority.
    private func run<Result: Sendable>(_ body: @escaping @Sendable (StoreWriterState) -> Result) async -> Result {
        let answer = Mutex<Result?>(nil)
        queue.async { [self] in
            commitWaiting()
            let result = body(state.value)
            answer.withLock { $0 = result }
        }
        return await lookUntilAnswered { answer.withLockIfAvailable { $0.take() } ?? nil }
    }

    /// Commits what waits, runs `body` on the writer's thread and waits, for tests and the
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
    /// Transactions committed by this process.
    var commits = 0
    /// The CPU time the writer's thread spent in commits (and the
    /// retention passes they run), for the benchmark's split between the
    /// sender and the writer.
    var commitCPUNanoseconds: Int64 = 0
    /// Calls handed over and waiting for the next commit.
    var waitingCalls = 0
    /// The heap memory the writer's page cache holds after the last
    /// commit (at most about ``StoreSchema/writerCacheBytes``).
    var cacheBytes = 0
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

/// The store's status, shared by the writer's thread and the view.
final class StoreStatusCell: Sendable {
    private let mutex: Mutex<StoreStatus>

    init(_ status: StoreStatus) { mutex = Mutex(status) }

    func withLock<Result>(_ body: (inout StoreStatus) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }

    /// Runs `body` when the lock is free; `nil`, and nothing run, when it is taken.
    func withLockIfAvailable<Result>(_ body: (inout StoreStatus) -> Result) -> Result? {
        mutex.withLockIfAvailable { body(&$0) }
    }
}
