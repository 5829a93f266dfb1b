#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `pthread_mutex_t` with the shape of the standard library's `Mutex`,
/// for builds under ThreadSanitizer only (`-DAPIMETRICS_SANITIZE_THREAD`,
/// see `.ci/run`).
///
/// On Linux, `Synchronization.Mutex` waits on a priority-inheritance futex
/// that ThreadSanitizer cannot see: it reports every access the lock
/// guards as a race, even in a program of ten lines. ThreadSanitizer
/// intercepts pthread mutexes, so with this one in its place the races it
/// reports are real ones. Each module that takes locks makes `Mutex` mean
/// this type in such builds.
public final class SanitizerMutex<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock around `value`.
    public init(_ value: consuming Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the lock held.
    public func withLock<Result: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` with the value when the lock is free; `nil`, and nothing
    /// run, when another thread holds it.
    public func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout Value) throws(E) -> Result
    ) throws(E) -> Result? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

#if APIMETRICS_SANITIZE_THREAD
typealias Mutex = SanitizerMutex
#endif
