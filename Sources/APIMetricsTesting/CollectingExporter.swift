public import APIMetrics
import Synchronization

/// An exporter that keeps every batch it is handed, in memory: a real
/// destination for the tests of an integration, with a way to wait for
/// what the sender delivers.
///
/// ```swift
/// let exporter = CollectingExporter()
/// var configuration = APIMetricsConfiguration(service: "orders", exporters: [.custom(exporter)])
/// configuration.batching.flushInterval = .milliseconds(20)
/// // … serve requests …
/// let records = await exporter.waitForRecords(atLeast: 2)
/// ```
///
/// A script of failures makes it a destination that is down, refuses or
/// finds batches too large, attempt by attempt.
public final class CollectingExporter: EventExporter {
    private struct State {
        var batches: [ExportBatch] = []
        var attempts = 0
        /// Callers of ``waitForRecords(atLeast:timeout:)`` still waiting.
        var waiters: [(count: Int, waiter: Wakeup)] = []
    }

    private let state = Mutex(State())
    private let failures: @Sendable (Int) -> ExportError?

    /// The encodings it asks the sender for (schema-v1 lines by default).
    public let encodings: ExportEncodings
    /// The most a batch may hold: a batch whose schema-v1 lines pass
    /// `maxBytes` is refused with `ExportError.tooLarge(_:httpStatus:)`,
    /// as a vendor's exporter does, and the sender sends it again in halves.
    public let batchLimits: ExportBatchLimits

    /// An exporter that keeps what it is handed.
    ///
    /// - Parameters:
    ///   - encodings: The encodings to ask for; schema-v1 lines by default.
    ///   - limits: The most a batch may hold; no limit by default.
    ///   - failures: The error to throw on each attempt, by its number from
    ///     0; `nil` takes the batch. By default every attempt succeeds.
    public init(
        encodings: ExportEncodings = .schemaV1JSON, limits: ExportBatchLimits = .unlimited,
        failures: @escaping @Sendable (Int) -> ExportError? = { _ in nil }
    ) {
        self.encodings = encodings
        self.batchLimits = limits
        self.failures = failures
    }

    /// Its name in diagnostics and undelivered batches.
    public var name: String { "collecting" }

    /// Keeps `batch`, or throws what the script of failures says.
    public func export(_ batch: ExportBatch) async throws {
        let attempt = state.withLock { state in
            defer { state.attempts += 1 }
            return state.attempts
        }
        if let failure = failures(attempt) { throw failure }
        let bytes = batch.schemaV1Lines.events.reduce(0) { $0 + $1.count }
        if batch.records.count > 1, batchLimits.isOver(bytes: bytes) {
            throw ExportError.tooLarge("\(bytes) bytes is over \(batchLimits.maxBytes)")
        }
        let woken = state.withLock { state -> [Wakeup] in
            state.batches.append(batch)
            let total = state.batches.reduce(0) { $0 + $1.records.count }
            let due = state.waiters.filter { $0.count <= total }.map(\.waiter)
            state.waiters.removeAll { $0.count <= total }
            return due
        }
        for waiter in woken { waiter.wake() }
    }

    /// Every batch taken, in order.
    public var received: [ExportBatch] { state.withLock { $0.batches } }

    /// Every call record taken, in order.
    public var records: [ExchangeRecord] { received.flatMap(\.records) }

    /// Attempts so far, failed ones included.
    public var attemptCount: Int { state.withLock { $0.attempts } }

    /// Waits until at least `count` call records have been taken, or
    /// `timeout` passes, or the task is cancelled, and returns the records
    /// taken by then.
    ///
    /// - Parameters:
    ///   - count: How many records to wait for.
    ///   - timeout: How long to wait at the most.
    /// - Returns: Every record taken, which may be fewer than `count` when
    ///   the wait ended first.
    @discardableResult
    public func waitForRecords(atLeast count: Int, timeout: Duration = .seconds(20)) async -> [ExchangeRecord] {
        let waiter = Wakeup()
        let isDue = state.withLock { state -> Bool in
            if state.batches.reduce(0, { $0 + $1.records.count }) >= count { return true }
            state.waiters.append((count, waiter))
            return false
        }
        guard !isDue else { return records }
        await waiter.wait(orAfter: { _ = try? await Task.sleep(for: timeout) })
        state.withLock { state in state.waiters.removeAll { $0.waiter === waiter } }
        return records
    }
}
