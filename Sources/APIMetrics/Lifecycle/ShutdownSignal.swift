import Synchronization

/// Tells the sender that intake has stopped and by when it must be done.
final class ShutdownSignal: Sendable {
    private let deadline = Mutex<Int64?>(nil)

    /// Starts the shutdown; an earlier deadline already set is kept.
    func begin(deadline candidate: Int64) {
        deadline.withLock { current in
            current = min(current ?? .max, candidate)
        }
    }

    /// The monotonic deadline in nanoseconds, once shutdown began.
    var deadlineNanoseconds: Int64? { deadline.withLock { $0 } }

    var isStopping: Bool { deadlineNanoseconds != nil }

    var isPastDeadline: Bool {
        guard let deadline = deadlineNanoseconds else { return false }
        return CaptureClock.monotonicNanoseconds() >= deadline
    }

    /// Sleeps for `duration`, waking early when shutdown begins or passes
    /// its deadline. Returns early on task cancellation as well.
    func sleep(for duration: Duration) async {
        let end = CaptureClock.monotonicNanoseconds() &+ duration.nanosecondsClamped
        let wasStopping = isStopping
        while true {
            let now = CaptureClock.monotonicNanoseconds()
            if now >= end || Task.isCancelled { return }
            if !wasStopping && isStopping { return }
            if let deadline = deadlineNanoseconds, now >= deadline { return }
            let slice = min(end - now, 50_000_000)
            try? await Task.sleep(for: .nanoseconds(slice))
        }
    }
}
