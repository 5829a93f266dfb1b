import Synchronization
@testable import APIMetrics

/// A sender clock that moves only when the test moves it: a sleeper wakes
/// when ``advance(by:)`` takes the clock to its deadline. A test waits for
/// the sender to sleep (``sleeper(after:)``), reads the deadline it chose,
/// and moves the clock: a flush interval, a retry's delay or a shutdown
/// deadline passes without the test waiting for it.
final class TestClock: SenderClock {
    private struct Sleeper {
        let deadline: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        let id: UInt64
        let after: Int64
        let continuation: CheckedContinuation<Int64?, Never>
    }

    private struct State {
        var now: Int64 = 1_000_000_000_000
        var nextID: UInt64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
        /// Tests waiting for a sleeper whose deadline is past a point.
        var watchers: [Watcher] = []
        /// Watchers whose time ran out before they were installed.
        var expired: Set<UInt64> = []
    }

    private let state = Mutex(State())
    /// The clock's first reading, and the wall time then: the wall time
    /// moves with the clock.
    private let origin: Int64 = State().now
    private let wallOrigin: Int64

    /// A clock whose wall time starts at `wallOrigin` (now by default).
    init(wallOrigin: Int64 = CaptureClock.wallNanoseconds()) {
        self.wallOrigin = wallOrigin
    }

    func now() -> Int64 { state.withLock { $0.now } }

    func wallNow() -> Int64 { wallOrigin &+ (now() &- origin) }

    func sleep(until deadline: Int64) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case due, cancelled, asleep([Watcher]) }
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    let woken = state.watchers.filter { deadline > $0.after }
                    state.watchers.removeAll { deadline > $0.after }
                    return .asleep(woken)
                }
                switch outcome {
                case .due:
                    continuation.resume()
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                case let .asleep(watchers):
                    for watcher in watchers { watcher.continuation.resume(returning: deadline) }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on, waking every sleeper whose deadline it reaches.
    func advance(by duration: Duration) {
        advance(to: now() &+ duration.nanosecondsClamped)
    }

    /// Moves the clock to `instant` (never back), waking the sleepers due.
    func advance(to instant: Int64) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = max(state.now, instant)
            let now = state.now
            let woken = state.sleepers.filter { $0.value.deadline <= now }
            for id in woken.keys { state.sleepers.removeValue(forKey: id) }
            return woken.values.sorted { $0.deadline < $1.deadline }.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// The deadlines of the tasks sleeping now, earliest first.
    var deadlines: [Int64] { state.withLock { $0.sleepers.values.map(\.deadline).sorted() } }

    /// Waits until some task sleeps until a deadline later than `instant`,
    /// and returns that deadline: the point at which the sender waits.
    /// `nil` when none does within `timeout` of real time (a test that
    /// expects a sleeper then fails rather than hangs).
    func sleeper(after instant: Int64, timeout: Duration = .seconds(30)) async -> Int64? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            let watcher = state.withLock { state -> Watcher? in
                guard let index = state.watchers.firstIndex(where: { $0.id == id }) else {
                    state.expired.insert(id)
                    return nil
                }
                return state.watchers.remove(at: index)
            }
            watcher?.continuation.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int64?, Never>) in
            let found = state.withLock { state -> Int64? in
                if let deadline = state.sleepers.values.map(\.deadline).filter({ $0 > instant }).min() { return deadline }
                if state.expired.remove(id) != nil { return .min }
                state.watchers.append(Watcher(id: id, after: instant, continuation: continuation))
                return nil
            }
            if let found { continuation.resume(returning: found == .min ? nil : found) }
        }
    }

    /// Waits until something sleeps on the clock past now, and returns
    /// that deadline; `nil` when nothing does within `timeout` of real
    /// time. With one sleeper (the sender's wait), its sleeping again means
    /// that what the last move set off has run; work running beside it (an
    /// export in flight) may still be running.
    func settle(timeout: Duration = .seconds(30)) async -> Int64? {
        await sleeper(after: now(), timeout: timeout)
    }

    /// Moves the clock from one sleeper's deadline to the next, as
    /// ``run(until:within:)`` does, until `duration` of clock time has
    /// passed (never beyond), and lets what the last move set off run.
    func run(for duration: Duration) async {
        let end = now() &+ duration.nanosecondsClamped
        _ = await run(until: { self.now() >= end }, within: duration)
        if now() < end { advance(to: end) }  // nothing slept in between
        _ = await settle(timeout: .seconds(5))
    }

    /// Moves the clock from one sleeper's deadline to the next until
    /// `condition` holds; `false` when it still does not once `limit` of
    /// clock time has passed (the clock is never moved beyond it), or after
    /// 30 s of real time. Between moves, work the clock set off that waits
    /// on something else (an export in flight, a collector answering) gets
    /// a moment of real time before the clock moves on.
    func run(until condition: () -> Bool, within limit: Duration = .seconds(120)) async -> Bool {
        let end = now() &+ limit.nanosecondsClamped
        let realEnd = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < realEnd {
            if condition() { return true }
            // Nothing asleep yet: the work is still running; look again.
            guard let next = await sleeper(after: now(), timeout: .milliseconds(20)) else { continue }
            // A jump of a second or more (a window, a long flush interval)
            // waits longer for what is in flight: it would set off more.
            let grace: Duration = next &- now() >= 1_000_000_000 ? .milliseconds(20) : .milliseconds(1)
            let graceEnd = ContinuousClock.now + grace
            while !condition() && ContinuousClock.now < graceEnd { try? await Task.sleep(for: .microseconds(200)) }
            if condition() { return true }
            guard now() < end else { return false }
            // To the earliest deadline now (a sleeper that came during the
            // grace, a retry's, goes before the one found first), and never
            // past the limit.
            advance(to: min(next, deadlines.first { $0 > now() } ?? next, end))
        }
        return condition()
    }

    /// Shuts `metrics` down while the clock moves from sleeper to sleeper,
    /// short of the shutdown deadline: retries and flushes pass, and
    /// exports in flight finish in real time rather than being cut off by
    /// the deadline. Only when the shutdown has not finished within 30 s
    /// of real time does the clock move to the deadline.
    @discardableResult
    func shutdown(_ metrics: APIMetricsService, timeout: Duration = .seconds(60)) async -> ShutdownReport {
        let done = Atomic<Bool>(false)
        let start = now()
        let stopping = Task {
            let report = await metrics.shutdown(timeout: timeout)
            done.store(true, ordering: .releasing)
            return report
        }
        let finished = await run(until: { done.load(ordering: .acquiring) }, within: timeout - .milliseconds(1))
        if !finished { advance(to: start &+ timeout.nanosecondsClamped) }
        return await stopping.value
    }
}
