/// The sender's timing as a state machine: from what it observes (the
/// clock, the queue's count, shutdown), the next thing to do. It holds no
/// clock, queue or task of its own, so every decision can be tested by
/// handing it observations.
///
/// One round: wait for a full batch, the flush interval or the window's end
/// (``Action/wait(untilNanoseconds:forCount:)``); drain a batch when one is
/// due (``Action/drain``); cut the metrics window when its interval passed
/// or the queue is empty at shutdown (``Action/cutWindow(isFinal:)``); then
/// hand what the round made to the exporters (``Action/export``), or, at
/// the last round, export it and stop (``Action/finish``). Past the
/// shutdown deadline the loop stops where it is (``Action/abandon``).
struct SenderSchedule: Sendable {
    /// What the sender sees when it asks for its next step.
    struct Observation: Sendable {
        /// The clock, in nanoseconds.
        var now: Int64
        /// Items in the queue.
        var queued: Int
        /// Whether shutdown began.
        var isStopping: Bool
        /// Whether the shutdown deadline passed.
        var isPastDeadline: Bool
    }

    /// What the sender does next.
    enum Action: Equatable, Sendable {
        /// Waits until the clock reads the deadline or the queue holds
        /// `forCount` items (or closes), then asks again.
        case wait(untilNanoseconds: Int64, forCount: Int)
        /// Takes up to `limit` items off the queue and processes them.
        case drain(limit: Int)
        /// Cuts the metrics window; the final one at shutdown.
        case cutWindow(isFinal: Bool)
        /// Hands the round's batch and window to the exporters, after the
        /// export still running, then starts the next round.
        case export
        /// Exports what is left, the final window last, and stops.
        case finish
        /// The deadline passed: stops, leaving what is queued.
        case abandon
    }

    private enum Phase: Sendable {
        /// A round begins: wait if nothing is due.
        case idle
        /// The wait is over: see whether a batch is due.
        case waited
        /// The batch (if any) is drained: see whether the window is due.
        case drained(now: Int64, isStopping: Bool)
        /// The window is decided: export, or finish.
        case decided(isLast: Bool)
    }

    let batchSize: Int
    let flushInterval: Int64
    let metricsInterval: Int64
    /// When the last batch was drained.
    private(set) var lastFlush: Int64
    /// When the last window was cut.
    private(set) var lastWindow: Int64
    private var phase = Phase.idle

    /// - Parameters:
    ///   - batchSize: The most items a batch takes; a queue holding this
    ///     many ends the wait.
    ///   - flushInterval: The longest a queued item waits for its batch, in
    ///     nanoseconds.
    ///   - metricsInterval: The length of a metrics window, in nanoseconds.
    ///   - start: The clock when the sender starts.
    init(batchSize: Int, flushInterval: Int64, metricsInterval: Int64, start: Int64) {
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        self.metricsInterval = metricsInterval
        lastFlush = start
        lastWindow = start
    }

    /// `base + interval`, or `Int64.max` where that would overflow.
    static func adding(_ base: Int64, _ interval: Int64) -> Int64 {
        let (sum, overflow) = base.addingReportingOverflow(interval)
        return overflow ? .max : sum
    }

    /// The next step, given what the sender sees now.
    mutating func next(_ seen: Observation) -> Action {
        while true {
            switch phase {
            case .idle:
                phase = .waited
                guard !seen.isStopping else { continue }
                // Saturating: an interval of years (flush by size only) waits, never wraps.
                let due = min(Self.adding(lastFlush, flushInterval), Self.adding(lastWindow, metricsInterval))
                if seen.queued < batchSize && due > seen.now {
                    return .wait(untilNanoseconds: due, forCount: batchSize)
                }
            case .waited:
                if seen.isPastDeadline { return .abandon }
                phase = .drained(now: seen.now, isStopping: seen.isStopping)
                if seen.queued >= batchSize || seen.now &- lastFlush >= flushInterval || seen.isStopping {
                    lastFlush = seen.now
                    return .drain(limit: batchSize)
                }
            case let .drained(now, isStopping):
                // The queue as the drain left it: the last round takes all.
                let isLast = isStopping && seen.queued == 0
                phase = .decided(isLast: isLast)
                if now &- lastWindow >= metricsInterval || isLast {
                    lastWindow = now
                    return .cutWindow(isFinal: isLast)
                }
            case let .decided(isLast):
                phase = .idle
                return isLast ? .finish : .export
            }
        }
    }
}
