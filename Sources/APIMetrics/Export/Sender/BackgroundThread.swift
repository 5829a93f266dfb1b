import Dispatch
import Foundation
import Synchronization

/// A serial queue on one thread of the library's own, at the sender's
/// priority: what `DispatchQueue` would be, except that a pooled thread
/// cannot be put below normal priority (it would keep the setting for
/// whatever it runs next), and below it is where analytics belongs when the
/// host's cores are saturated.
///
/// Jobs run one at a time, in the order they were handed over; a job handed
/// over with a delay joins the end of the line when it is due. The thread ends once ``retire()`` is called and nothing is left,
/// delayed jobs included (they then run at once).
final class BackgroundThread: Sendable {
    typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        /// Delayed jobs, by the monotonic time (nanoseconds) they are due.
        var delayed: [(due: Int64, job: Job)] = []
        var isRetired = false
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    /// Starts the thread, named `name` (at most 15 bytes), at `priority`.
    init(name: String, priority: SenderPriority) {
        let thread = Thread { [self] in
            nameCurrentThread(name)
            priority.applyToCurrentThread()
            run()
        }
        thread.start()
    }

    /// Runs `job` after those handed over before it.
    func async(_ job: @escaping Job) {
        state.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    /// Runs `job` once `delay` has passed.
    func async(after delay: Duration, _ job: @escaping Job) {
        let due = CaptureClock.monotonicNanoseconds() &+ max(0, delay.nanosecondsClamped)
        state.withLock { $0.delayed.append((due, job)) }
        ready.signal()
    }

    /// Ends the thread once every job handed over has run.
    func retire() {
        state.withLock { $0.isRetired = true }
        ready.signal()
    }

    /// What the thread does next.
    private enum Next {
        case run(Job)
        case wait(until: Int64?)
        case end
    }

    private func run() {
        while true {
            let next = state.withLock { state -> Next in
                // Delayed jobs that are due (all of them once retired) join
                // the end of the line, soonest first.
                let now = CaptureClock.monotonicNanoseconds()
                if state.delayed.contains(where: { $0.due <= now || state.isRetired }) {
                    state.delayed.sort { $0.due < $1.due }
                    // Counted, then taken by index: a slice of the delayed
                    // jobs alive at the removal would have them copied.
                    let isRetired = state.isRetired
                    let due = state.delayed.firstIndex { !($0.due <= now || isRetired) } ?? state.delayed.count
                    for index in 0..<due { state.jobs.append(state.delayed[index].job) }
                    state.delayed.removeFirst(due)
                }
                if !state.jobs.isEmpty { return .run(state.jobs.removeFirst()) }
                if state.isRetired { return .end }
                return .wait(until: state.delayed.map(\.due).min())
            }
            switch next {
            case let .run(job):
                job()
            case let .wait(until: due?):
                let remaining = max(0, due - CaptureClock.monotonicNanoseconds())
                _ = ready.wait(timeout: .now() + .nanoseconds(Int(clamping: remaining)))
            case .wait(until: nil):
                ready.wait()
            case .end:
                return
            }
        }
    }
}

/// Asks `look` until it answers, pausing between asks (from 100 µs, or the
/// expected time, doubling to 1 ms): how the sender waits for the work, or
/// a lock, of a thread below normal priority. Such a thread can be
/// preempted for tens of milliseconds on a saturated host, so a thread of
/// the cooperative pool that waited for its lock would hold back the
/// server's handlers as long; and one woken by it could have the pool start
/// a thread there, inheriting its priority.
/// The pauses are whole in a cancelled task too.
///
/// - Parameter expected: how long the work is expected to take, in
///   nanoseconds: the first pause after the first ask (at least 100 µs,
///   at most 1 ms), so that a batch's work is not asked after every
///   100 µs of it (each pause is a timer, and two threads woken).
func lookUntilAnswered<Answer>(expected: Int64 = 0, _ look: () -> Answer?) async -> Answer {
    var pause: Int64 = min(max(expected, 100_000), 1_000_000)
    while true {
        if let answer = look() { return answer }
        let duration = Duration.nanoseconds(pause)
        if Task.isCancelled {
            // A cancelled task's sleep returns at once: the loop would spin.
            await Task.detached { try? await Task.sleep(for: duration) }.value
        } else {
            try? await Task.sleep(for: duration)
        }
        pause = min(pause * 2, 1_000_000)
    }
}
