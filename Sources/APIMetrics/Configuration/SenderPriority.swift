/// How the sender's processing (identification, redaction, encoding)
/// competes with the server for CPU.
///
/// ```swift
/// config.senderPriority = .normal  // keep every event, even on a saturated host
/// ```
public struct SenderPriority: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case idle, low, normal
    }

    let kind: Kind

    /// Only CPU the server leaves idle (Linux `SCHED_IDLE`; the background
    /// QoS class on Apple systems). Under sustained saturation the queue
    /// fills and new events are dropped and counted. A caveat: while it
    /// holds a lock the server also takes (the allocator's, for one), a
    /// saturated host may not run it for a long time, and requests wait for
    /// that lock; the load test saw p99 spikes of tens of milliseconds.
    public static let idle = SenderPriority(kind: .idle)
    /// The smallest share beside the server's threads (nice 19; utility QoS
    /// on Apple systems): at saturation the sender still gets a little CPU,
    /// taken from requests, and never waits long for it. It offers the core
    /// back every 100 µs of work, so that a request never waits behind it
    /// for a whole scheduler slice. The default. (Nice 10 held the load
    /// test's saturated p99 at twice swift-prometheus's; at nice 19 the
    /// sender takes less of a saturated host and sheds more, counted.)
    public static let low = SenderPriority(kind: .low)
    /// The same priority as the server's threads.
    public static let normal = SenderPriority(kind: .normal)

    /// `idle`, `low` or `normal`.
    public var description: String {
        switch kind {
        case .idle: return "idle"
        case .low: return "low"
        case .normal: return "normal"
        }
    }

    /// Reads `idle`, `low` or `normal` (any case).
    public init?(_ text: String) {
        switch text.lowercased() {
        case "idle": kind = .idle
        case "low": kind = .low
        case "normal": kind = .normal
        default: return nil
        }
    }

    private init(kind: Kind) {
        self.kind = kind
    }
}
