#if APIMETRICS_SANITIZE_THREAD
import SocketServer

/// Under ThreadSanitizer, the locks of this module are pthread mutexes it
/// can see (see `SanitizerMutex`).
typealias Mutex = SanitizerMutex
#endif
