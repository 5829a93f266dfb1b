#if APIMETRICS_SANITIZE_THREAD
import SocketServer

/// Under ThreadSanitizer, the locks of this module are pthread mutexes it
/// can see (see `SanitizerMutex`). A type of this module rather than an
/// alias, so that its members are visible in every file without importing
/// SocketServer (MemberImportVisibility). One file, linked to from every
/// module that takes locks but the core, whose own copy imports SocketServer
/// internally, as the rest of the core does.
final class Mutex<Value: ~Copyable>: @unchecked Sendable {
    private let lock: SanitizerMutex<Value>

    init(_ value: consuming Value) {
        lock = SanitizerMutex(value)
    }

    func withLock<Result: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        try lock.withLock(body)
    }

    func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout Value) throws(E) -> Result
    ) throws(E) -> Result? {
        try lock.withLockIfAvailable(body)
    }
}
#endif
