/// The aggregator's caches of series and paths found recently: fixed
/// memory, read in place on the request path, so that most calls compare
/// a key (the same strings, compared by their bits) instead of hashing one,
/// and a hit copies no key and retains nothing.
///
/// Why it may be `Sendable` though it holds raw pointers: it lives in the
/// aggregator's locked state and is reached only under that lock, which
/// keeps every read and write apart; it is allocated once with the state
/// and released once, in the aggregator's `deinit`, when nothing else can
/// reach it. The slots it points to are unowned: the aggregator's
/// dictionary of series keeps every one for the aggregator's life.
struct RecentCaches: @unchecked Sendable {
    /// Series keys, where their key's cheap hash (lengths and status) points.
    let keys: UnsafeMutablePointer<SeriesKey>
    /// The slots of the key at the same index.
    let slots: UnsafeMutablePointer<Unmanaged<SeriesSlots>>
    /// Paths normalised recently and their templates, where a cheap hash
    /// of the path's bytes points.
    let paths: UnsafeMutablePointer<(path: String, template: String)>

    init() {
        keys = .allocate(capacity: Aggregator.cacheSize)
        keys.initialize(repeating: SeriesKey(method: "", route: "", status: -1), count: Aggregator.cacheSize)
        slots = .allocate(capacity: Aggregator.cacheSize)
        paths = .allocate(capacity: Aggregator.pathCacheSize)
        paths.initialize(repeating: ("", ""), count: Aggregator.pathCacheSize)
    }

    /// Frees the memory; once, when nothing else can reach it.
    func release() {
        keys.deinitialize(count: Aggregator.cacheSize)
        keys.deallocate()
        slots.deallocate()
        paths.deinitialize(count: Aggregator.pathCacheSize)
        paths.deallocate()
    }
}
