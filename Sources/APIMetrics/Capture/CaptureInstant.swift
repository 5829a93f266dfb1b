/// A moment read from both clocks an exchange needs: the wall clock for the
/// event's `ts`, the monotonic clock for its duration.
///
/// Adapters that see a request's first byte before they can begin the
/// exchange take one then and pass it to ``Recorder/begin(_:direction:startedAt:)``.
public struct CaptureInstant: Sendable, Hashable {
    /// Nanoseconds since the Unix epoch.
    package let wallNanoseconds: Int64
    /// Nanoseconds from an arbitrary origin, never going backwards.
    package let monotonicNanoseconds: Int64

    /// Now.
    public static func now() -> CaptureInstant {
        CaptureInstant(wallNanoseconds: CaptureClock.wallNanoseconds(), monotonicNanoseconds: CaptureClock.monotonicNanoseconds())
    }
}

extension CaptureInstant {
    /// The nanoseconds since this instant, by the monotonic clock: the
    /// duration of a call an adapter times without capturing it (a shed
    /// call's, for ``Recorder/recordShedCall(_:)``).
    public var elapsedNanoseconds: Int64 {
        max(0, CaptureClock.monotonicNanoseconds() - monotonicNanoseconds)
    }

    /// The time since this instant, by the monotonic clock
    /// (``elapsedNanoseconds`` as a `Duration`).
    public var elapsed: Duration { .nanoseconds(elapsedNanoseconds) }

    /// The monotonic clock alone, for an adapter timing a call it does not
    /// capture (a shed call's duration): nanoseconds from an arbitrary
    /// origin, never going backwards.
    package static func monotonicNow() -> Int64 {
        CaptureClock.monotonicNanoseconds()
    }
}
