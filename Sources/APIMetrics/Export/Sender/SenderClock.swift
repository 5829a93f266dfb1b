/// The time the sender schedules by: monotonic nanoseconds, and a way to
/// wait for a point in them; and the wall time it stamps its metrics
/// windows and heartbeats with.
///
/// The service runs on ``SystemSenderClock``. Tests drive a clock of their
/// own that moves only when told to, so that a flush interval, a retry's
/// delay or a shutdown deadline passes without a test waiting for it.
protocol SenderClock: Sendable {
    /// Now, in nanoseconds from an arbitrary origin, never going backwards.
    func now() -> Int64

    /// Returns once the clock reads `deadline` or later.
    ///
    /// - Parameter deadline: The point to wait for, in this clock's nanoseconds.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Int64) async throws

    /// The wall time, in nanoseconds since 1970: the ends of the metrics
    /// windows the sender cuts and the times of its heartbeats.
    func wallNow() -> Int64
}

/// The system's monotonic clock.
struct SystemSenderClock: SenderClock {
    func now() -> Int64 { CaptureClock.monotonicNanoseconds() }

    func wallNow() -> Int64 { CaptureClock.wallNanoseconds() }

    func sleep(until deadline: Int64) async throws {
        // Task.sleep's clock may run apart from CLOCK_MONOTONIC (across a
        // suspend): sleep again until this clock reads the deadline.
        while true {
            let wait = deadline &- now()
            guard wait > 0 else { return try Task.checkCancellation() }
            try await Task.sleep(for: .nanoseconds(wait))
        }
    }
}
