import Synchronization

/// Tells the sender that intake has stopped and by when it must be done,
/// on the sender's clock. Whoever waits for shutdown or for the deadline
/// is woken when either comes: nothing polls.
final class ShutdownSignal: Sendable {
    let clock: any SenderClock

    private struct State {
        var deadline: Int64?
        /// Woken, then forgotten, whenever the deadline is set or moves.
        var watchers: [Wakeup] = []
    }

    private let state = Mutex(State())

    init(clock: any SenderClock = SystemSenderClock()) {
        self.clock = clock
    }

    /// Starts the shutdown; an earlier deadline already set is kept.
    ///
    /// - Parameter candidate: The deadline, in the clock's nanoseconds.
    func begin(deadline candidate: Int64) {
        let woken = state.withLock { state -> [Wakeup] in
            let next = min(state.deadline ?? .max, candidate)
            guard next != state.deadline else { return [] }
            state.deadline = next
            defer { state.watchers = [] }
            return state.watchers
        }
        for watcher in woken { watcher.wake() }
    }

    /// Starts the shutdown with `timeout` from now on the clock.
    func begin(within timeout: Duration) {
        begin(deadline: SenderSchedule.adding(clock.now(), timeout.nanosecondsClamped))
    }

    /// The deadline in the clock's nanoseconds, once shutdown began.
    var deadlineNanoseconds: Int64? { state.withLock { $0.deadline } }

    var isStopping: Bool { deadlineNanoseconds != nil }

    var isPastDeadline: Bool {
        guard let deadline = deadlineNanoseconds else { return false }
        return clock.now() >= deadline
    }

    /// Sleeps for `duration`, waking early when shutdown begins or passes
    /// its deadline, or when the task is cancelled.
    ///
    /// - Parameters:
    ///   - duration: How long to sleep on the clock.
    ///   - seen: The deadline the caller decided on, so that a shutdown
    ///     that began since then ends the sleep at once.
    func sleep(for duration: Duration, seen: Int64?) async {
        let end = SenderSchedule.adding(clock.now(), duration.nanosecondsClamped)
        while !Task.isCancelled {
            let deadline = deadlineNanoseconds
            let now = clock.now()
            if now >= end || (seen == nil && deadline != nil) { return }
            if let deadline, now >= deadline { return }
            await waitForChange(from: deadline, orUntil: min(end, deadline ?? .max))
        }
    }

    /// Returns when the deadline differs from `seen`, when the clock
    /// reaches `until`, or when the task is cancelled, whichever is first.
    ///
    /// - Parameters:
    ///   - seen: The deadline the caller last read.
    ///   - until: When to return at the latest, in the clock's nanoseconds;
    ///     `Int64.max` for no limit.
    func waitForChange(from seen: Int64?, orUntil until: Int64) async {
        let wakeup = Wakeup()
        let changed = state.withLock { state -> Bool in
            guard state.deadline == seen else { return true }
            state.watchers.append(wakeup)
            return false
        }
        guard !changed else { return }
        let clock = self.clock
        let limit: (@Sendable () async -> Void)? = until == .max ? nil : { @Sendable in _ = try? await clock.sleep(until: until) }
        await wakeup.wait(orAfter: limit)
        // A watcher woken by its timer leaves the list now, not at the next change.
        state.withLock { state in state.watchers.removeAll { $0 === wakeup } }
    }
}
