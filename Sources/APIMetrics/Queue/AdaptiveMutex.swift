#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// State behind the one lock that every request thread takes (the queue's).
///
/// On Linux the standard library's `Mutex` is a priority-inheritance futex:
/// each contended acquisition enters the kernel's rt-mutex code, which
/// costs microseconds when dozens of server threads finish requests at
/// once. This is glibc's adaptive mutex instead: it spins briefly while the
/// holder runs (the critical sections here are a few dozen instructions)
/// and sleeps on a plain futex otherwise.
///
/// Sendable when its state is, as NIO's locked box is: the lock keeps
/// accesses apart, and what goes in or comes out may cross threads. State
/// holding a class that is not thread-safe has to say why it may be
/// `Sendable` (``SeriesSlots``, ``RecentCaches``). Locking without a
/// closure (for the hot callers that touch fields in place) is behind
/// ``unsafe``, whose pointers are valid only while the mutex is alive and
/// the lock held.
///
/// The lock order, where one is taken while another is held: an
/// exchange's state, then the queue's, then the aggregator's. Nothing
/// takes an earlier one while holding a later one, and no lock is held
/// across a call into user code or an exporter.
final class AdaptiveMutex<State> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Out of line, so that reaching it needs no exclusivity check: the
    /// lock is what keeps accesses apart.
    private let state: UnsafeMutablePointer<State>

    init(_ state: State) {
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: state)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Locking by hand, for a hot caller that must touch fields in place:
    /// the caller pairs each ``Unsafe/lock()`` with ``Unsafe/unlock()`` on
    /// every path and lets no pointer outlive the lock.
    var unsafe: Unsafe { Unsafe(mutex: mutex, state: state) }

    /// Raw locking: see ``AdaptiveMutex/unsafe``.
    struct Unsafe {
        fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>
        fileprivate let state: UnsafeMutablePointer<State>

        /// Takes the lock and returns the state's address. Pair with ``unlock()``.
        @inline(__always)
        func lock() -> UnsafeMutablePointer<State> {
            pthread_mutex_lock(mutex)
            return state
        }

        /// Releases the lock taken by ``lock()``.
        @inline(__always)
        func unlock() {
            pthread_mutex_unlock(mutex)
        }
    }

    /// Runs `body` with the state while holding the lock.
    @inline(__always)
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }
}

extension AdaptiveMutex: @unchecked Sendable where State: Sendable {}
