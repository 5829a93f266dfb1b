#if APIMETRICS_SANITIZE_THREAD
internal import SocketServer

/// Under ThreadSanitizer, the locks of this module are pthread mutexes it
/// can see (see `SanitizerMutex`). A type of this module rather than an
/// alias, so that its members are visible in every file without importing
/// SocketServer (MemberImportVisibility). The other modules that take locks
/// link to `Sources/APIMetricsWire/SanitizerMutex+Alias.swift`, the same
/// type with SocketServer imported as they import it elsewhere; this one
/// imports it internally, as the rest of this module does.
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
