#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SenderPriority {
    /// How long a thread below normal priority works before it offers the
    /// core back, in nanoseconds; `nil` at normal priority. The scheduler
    /// alone lets a background thread keep a core for a whole slice
    /// (milliseconds) while requests queue behind it: at saturation that
    /// doubled the demo's p99. Offering the core every 100 µs costs one
    /// `sched_yield` per few dozen events, which returns at once when
    /// nothing else wants the core.
    var yieldInterval: Int64? { kind == .normal ? nil : 100_000 }

    /// Sets the calling thread's scheduling. On Linux the policy and the
    /// nice value belong to the thread, not the process: `SCHED_IDLE` runs
    /// only when no other thread wants the core and is preempted at once
    /// when one does; nice 19 takes the smallest share beside the server's
    /// threads. On Apple systems, the background or utility QoS class.
    /// Only for threads of the library's own: a pooled thread would keep
    /// the setting for whatever it runs next.
    func applyToCurrentThread() {
        switch kind {
        case .normal:
            return
        case .idle:
            #if canImport(Glibc)
            var parameters = sched_param()
            parameters.sched_priority = 0
            // SCHED_IDLE is 5 in <sched.h>; Glibc's module does not export it.
            _ = sched_setscheduler(0, 5, &parameters)
            #elseif canImport(Darwin)
            _ = pthread_set_qos_class_self_np(QOS_CLASS_BACKGROUND, 0)
            #endif
        case .low:
            #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #elseif canImport(Darwin)
            _ = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0)
            #endif
        }
    }
}

/// Names the calling thread as `top -H`, `ps -L` and profilers show it;
/// on Linux its first 15 bytes (the most the kernel keeps). Without it a
/// thread shows its creator's name: Foundation's `Thread.name` does not
/// reach the system's thread on Linux.
func nameCurrentThread(_ name: String) {
    #if canImport(Glibc) || canImport(Musl)
    // The C library's pthread_setname_np is not in Swift's module for it;
    // the kernel takes the name written to the thread's `comm`.
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    #elseif canImport(Darwin)
    _ = pthread_setname_np(name)
    #endif
}

/// Offers the core back every `interval` nanoseconds of work, when one is
/// given (see `SenderPriority.yieldInterval`).
struct CoreYielder {
    let interval: Int64?
    private let offer: @Sendable () -> Void
    private var lastYield: Int64

    /// - Parameter offer: how the core is offered back; `sched_yield`
    ///   (tests count the offers instead).
    init(interval: Int64?, offer: @escaping @Sendable () -> Void = { _ = sched_yield() }) {
        self.interval = interval
        self.offer = offer
        lastYield = CaptureClock.monotonicNanoseconds()
    }

    /// Offers the core back when `interval` has passed since the last
    /// offer; returns the monotonic time, read after any offer.
    @discardableResult
    mutating func checkpoint() -> Int64 {
        let now = CaptureClock.monotonicNanoseconds()
        guard let interval, now - lastYield >= interval else { return now }
        offer()
        lastYield = CaptureClock.monotonicNanoseconds()
        return lastYield
    }
}
