import Synchronization

/// One suspended task that several parties may wake (a timer, a signal, a
/// cancellation): the first wins, the others find nothing to do. Package
/// wide: `APIMetricsTesting`'s exporter waits with it too.
package final class Wakeup: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let isWoken = Atomic<Bool>(false)

    package init() {}

    /// Suspends until ``wake()`` is called, at once when it already was.
    package func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.continuation.withLock { stored -> Bool in
                if isWoken.load(ordering: .acquiring) { return true }
                stored = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Suspends until ``wake()`` is called, the task is cancelled, or
    /// `sleep` returns, whichever is first.
    ///
    /// - Parameter sleep: The time limit, run in a task of its own and
    ///   cancelled once the wait is over; `nil` for none. It must return
    ///   when cancelled.
    package func wait(orAfter sleep: (@Sendable () async -> Void)?) async {
        let timer = sleep.map { sleep in
            Task {
                await sleep()
                self.wake()
            }
        }
        await withTaskCancellationHandler {
            await wait()
        } onCancel: {
            wake()
        }
        timer?.cancel()
    }

    /// Wakes the waiter, now or when it comes; later calls do nothing.
    package func wake() {
        let waiting = continuation.withLock { stored -> CheckedContinuation<Void, Never>? in
            guard !isWoken.exchange(true, ordering: .acquiringAndReleasing) else { return nil }
            defer { stored = nil }
            return stored
        }
        waiting?.resume()
    }
}
