#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Synchronization

/// Runs the processing of each batch (identification, redaction, encoding)
/// on a thread of its own at the configured ``SenderPriority`` (by default
/// nice 19), for two reasons:
///
/// - When the host saturates its cores, request handling comes first; the
///   sender lags, the bounded queue fills and drops are counted, rather
///   than the server losing throughput or latency to analytics. Below
///   normal priority it also yields the core every `SenderPriority.yieldInterval`.
/// - A closure of the user's that hangs costs only the event it was working
///   on: past ``APIMetricsConfiguration/userClosureTimeout`` the sender
///   stops waiting, processes that event without user code, and carries on
///   with the rest on a fresh thread.
///
/// One thread does every batch's work, started with the first batch and
/// kept. A hung closure keeps that thread, and the next batch gets a new
/// one; after ``maxAbandonedThreads`` of them the runner stops calling user
/// code at all and says so in the diagnostics.
final class ProcessingRunner: Sendable {
    static let maxAbandonedThreads = 8
    private let processor: EventProcessor
    private let timeoutNanoseconds: Int64
    private let priority: SenderPriority
    private let diagnostics: Diagnostics
    private let abandoned = Atomic<Int>(0)
    /// The thread that takes the next batch; `nil` before the first and
    /// after ``close()``.
    private let worker = Mutex<Worker?>(nil)

    init(processor: EventProcessor, timeout: Duration, priority: SenderPriority, diagnostics: Diagnostics) {
        self.processor = processor
        self.timeoutNanoseconds = timeout.nanosecondsClamped
        self.priority = priority
        self.diagnostics = diagnostics
    }

    deinit { close() }

    var abandonedThreads: Int { abandoned.load(ordering: .relaxed) }

    /// Lets the processing thread end once it is idle; a later batch
    /// starts another.
    func close() {
        worker.withLock { worker in
            worker?.retire()
            worker = nil
        }
    }

    /// The thread for the next batch, started when there is none.
    private func currentWorker() -> Worker {
        worker.withLock { worker in
            if let worker { return worker }
            let started = Worker.start(
                processor: processor, priority: priority,
                yieldEvery: priority.yieldInterval)
            worker = started
            return started
        }
    }

    /// Gives up on a thread stuck in a closure: it ends when the closure
    /// returns, if ever; the next batch gets a new one.
    private func abandon(_ stuck: Worker) {
        stuck.retire()
        worker.withLock { worker in
            if worker === stuck { worker = nil }
        }
    }

    /// The learner of the API's shapes, when discovery is on.
    var discovery: APIDiscovery? { processor.discovery }

    /// Processes one item on the caller's thread without the user's
    /// closures: nothing here can hang.
    func processWithoutUserCode(_ item: QueuedItem) -> EventProcessor.Outcome {
        processor.process(item, userCode: false)
    }

    /// Runs `items` as the processing thread runs a batch, on the calling
    /// thread, user code included and without a watchdog: for the benchmark,
    /// on a service whose sender is not running (the processor is not made
    /// for two threads at once).
    func processOnCallingThread(_ items: [QueuedItem]) -> ProcessedBatch {
        let job = Job(items: items)
        job.run(processor, userCode: processor.runsUserCode)
        return job.takeFinished()
    }

    func process(_ items: [QueuedItem]) async -> ProcessedBatch {
        guard !items.isEmpty else { return ProcessedBatch() }
        let userCode = processor.runsUserCode && abandonedThreads < Self.maxAbandonedThreads
        var outcomes = ProcessedBatch()
        var start = 0
        while start < items.count {
            let job = Job(items: start == 0 ? items : Array(items[start...]))
            var worker = currentWorker()
            // Never waits for the thread's lock: asks again while it is taken.
            while await !lookUntilAnswered({ worker.submit(job, userCode: userCode) }) {
                // Retired under us (closed, or given up on): a fresh one.
                abandon(worker)
                worker = currentWorker()
            }
            // Without user code nothing can hang: no watchdog.
            let result = await job.wait(timeoutNanoseconds: userCode ? timeoutNanoseconds : .max)
            if start == 0 && result.stuckAt == nil { return result.done }
            outcomes.append(result.done)
            guard let stuck = result.stuckAt else { break }
            abandon(worker)
            let total = abandoned.wrappingAdd(1, ordering: .relaxed).newValue
            diagnostics.log(
                .error,
                "a closure of yours ran past \(Duration.nanoseconds(timeoutNanoseconds)) on an event; it went without what the closure would have added (\(total) threads left waiting)"
            )
            outcomes.add(processor.process(job.items[stuck], userCode: false))
            start += stuck + 1
            if total >= Self.maxAbandonedThreads {
                diagnostics.log(.error, "\(total) closures of yours never returned; no more user code runs in this process")
                for item in items[start...] { outcomes.add(processor.process(item, userCode: false)) }
                break
            }
        }
        return outcomes
    }

    /// The processing thread: it waits for a job, runs it, and waits again,
    /// until it is retired.
    private final class Worker: Sendable {
        private struct State {
            /// Jobs handed over and not yet taken, oldest first.
            var pending: [(job: Job, userCode: Bool)] = []
            var isRetired = false
        }

        private let state = Mutex(State())
        private let ready = DispatchSemaphore(value: 0)

        private init() {}

        /// Starts the thread, at `priority`.
        static func start(processor: EventProcessor, priority: SenderPriority, yieldEvery: Int64?) -> Worker {
            let worker = Worker()
            let thread = Thread {
                nameCurrentThread("apimetrics-proc")
                priority.applyToCurrentThread()
                while let (job, userCode) = worker.next() {
                    job.run(processor, userCode: userCode, yieldEvery: yieldEvery)
                }
            }
            thread.start()
            return worker
        }

        /// Hands the thread a job, run after those before it; `false`, and
        /// nothing handed, once the thread is retired; `nil`, and nothing
        /// handed, while the thread holds the lock (try again).
        func submit(_ job: Job, userCode: Bool) -> Bool? {
            let taken = state.withLockIfAvailable { state -> Bool in
                guard !state.isRetired else { return false }
                state.pending.append((job, userCode))
                return true
            }
            if taken == true { ready.signal() }
            return taken
        }

        /// Ends the thread once it finishes what it is doing.
        func retire() {
            state.withLock { $0.isRetired = true }
            ready.signal()
        }

        /// On the thread: the next job, or `nil` once retired with none left.
        private func next() -> (Job, Bool)? {
            while true {
                ready.wait()
                let taken = state.withLock { state -> (Job, Bool)?? in
                    if !state.pending.isEmpty {
                        let first = state.pending.removeFirst()
                        return .some((first.job, first.userCode))
                    }
                    return state.isRetired ? .some(nil) : nil
                }
                if let taken { return taken }
            }
        }
    }

    /// One batch's processing on the processing thread, watched from the sender.
    private final class Job: Sendable {
        struct Result: Sendable {
            var done: ProcessedBatch
            var stuckAt: Int?
        }

        private struct State {
            var outcomes: ProcessedBatch
            var startedAt: Int64?
            var isAbandoned = false
            var isFinished = false
        }

        let items: [QueuedItem]
        private let state: Mutex<State>
        /// About what one call without a body takes to process.
        static let expectedNanosecondsPerItem: Int64 = 2_000

        init(items: [QueuedItem]) {
            self.items = items
            state = Mutex(State(outcomes: ProcessedBatch(capacity: items.count)))
        }

        /// On the worker thread; with `yieldEvery` (nanoseconds), offers the
        /// core to other threads that often.
        func run(_ processor: EventProcessor, userCode: Bool, yieldEvery: Int64? = nil) {
            var yielder = CoreYielder(interval: yieldEvery)
            // Tallied here, outside the lock: the sender takes the lock to
            // wait for the job, on a thread of the cooperative pool, and
            // this thread (below normal priority) may be preempted at any
            // point; under the lock only moves are done.
            var attribution = Aggregator.Attribution()
            for item in items {
                let now = yielder.checkpoint()
                let proceed = state.withLock { state -> Bool in
                    state.startedAt = now
                    return !state.isAbandoned
                }
                guard proceed else { return }
                // Taken out of the optional under the lock: the outcome (a
                // whole record and its JSON) is moved into the batch, not copied.
                var outcome: EventProcessor.Outcome? = attribution.tallied(
                    processor.process(item, userCode: userCode))
                let keep = state.withLock { state -> Bool in
                    guard !state.isAbandoned else { return false }
                    if let taken = outcome.take() { state.outcomes.add(taken) }
                    state.startedAt = nil
                    return true
                }
                guard keep else { return }
            }
            // The sender finds it done (see `wait`): nothing is resumed from
            // this thread.
            state.withLock { state in
                guard !state.isAbandoned else { return }
                swap(&state.outcomes.attribution, &attribution)
                state.isFinished = true
            }
        }

        /// What a run that finished made.
        func takeFinished() -> ProcessedBatch {
            state.withLock { Self.take(&$0.outcomes) }
        }

        private static func take(_ batch: inout ProcessedBatch) -> ProcessedBatch {
            var taken = ProcessedBatch()
            swap(&taken, &batch)
            return taken
        }

        /// On the sender: waits for the worker, or gives up on the item it is
        /// stuck on once that item has run past the timeout.
        ///
        /// It looks (``lookUntilAnswered(expected:_:)``) rather than being woken by the
        /// worker: a continuation resumed on a
        /// thread below normal priority hands its task to Swift's pool from
        /// there, and a thread the pool starts then inherits that priority
        /// (Linux threads inherit their creator's nice value) and would run
        /// the server's handlers at it. Nor does it wait for the job's lock:
        /// the worker can be preempted holding it for tens of milliseconds on
        /// a saturated host (the load test saw 29 ms), and the sender runs on
        /// a thread of the pool the server's handlers run on.
        func wait(timeoutNanoseconds: Int64) async -> Result {
            // A call takes a few microseconds to process: the first look
            // comes when most of the batch should be done.
            await lookUntilAnswered(expected: Int64(items.count) * Self.expectedNanosecondsPerItem) {
                let now = CaptureClock.monotonicNanoseconds()
                return state.withLockIfAvailable { state -> Result? in
                    if state.isFinished { return Result(done: Self.take(&state.outcomes), stuckAt: nil) }
                    guard !state.isAbandoned, let startedAt = state.startedAt, now - startedAt > timeoutNanoseconds
                    else { return nil }
                    state.isAbandoned = true
                    let done = Self.take(&state.outcomes)
                    return Result(done: done, stuckAt: done.itemCount)
                } ?? nil
            }
        }
    }
}

extension Aggregator.Attribution {
    /// Tallies the outcome's call, if it is one, and hands the outcome back
    /// (moved, not copied).
    fileprivate mutating func tallied(_ outcome: consuming EventProcessor.Outcome) -> EventProcessor.Outcome {
        switch consume outcome {
        case let .record(record, line):
            tally(record)
            return .record(record, schemaV1: line)
        case let .entity(entity, line):
            return .entity(entity, schemaV1: line)
        case .skipped:
            return .skipped
        }
    }
}
