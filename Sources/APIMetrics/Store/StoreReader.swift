#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Reads a store while its writer runs (SQLite's write-ahead log lets
/// readers and the writer work at once): what the view's JSON API and the
/// `apimetrics` command show. Every figure over a range is read from the
/// metrics rows, merging their sketches, so that a p99 over 30 days is as
/// exact as the live one (within 1%).
///
/// Connections are read-only, opened on demand and kept in a small pool;
/// each query runs on the caller's thread.
package final class StoreReader: Sendable {
    package let path: String
    private let pool: Mutex<[ConnectionBox]>
    /// The most idle connections kept open.
    private static let maxPooled = 4

    private final class ConnectionBox: @unchecked Sendable {
        let connection: SQLiteConnection
        /// The file the connection opened: a pooled connection to a file no
        /// longer at the path (a corrupt store the writer moved aside) is dropped.
        let file: FileIdentity?
        init(_ connection: SQLiteConnection, file: FileIdentity?) {
            self.connection = connection
            self.file = file
        }
    }

    /// A file's device and inode.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// Opens the store at `path` for reading.
    ///
    /// - Throws: ``StoreReadError`` when the file is missing, not a store,
    ///   or of a newer release.
    package init(path: String) throws(StoreReadError) {
        self.path = path
        pool = Mutex([])
        try withConnection { (connection: SQLiteConnection) throws(StoreReadError) in
            let applicationID: Int64
            let version: Int64
            do {
                applicationID = try connection.integer("PRAGMA application_id")
                version = try connection.integer("PRAGMA user_version")
            } catch {
                throw StoreReadError(path: path, reason: "cannot be read: \(error)")
            }
            guard applicationID == Int64(StoreSchema.applicationID) else {
                throw StoreReadError(path: path, reason: applicationID == 0 ? "holds no store yet" : "is not an APIMetrics store")
            }
            guard version <= Int64(StoreSchema.version) else {
                throw StoreReadError(path: path, reason: "was written by a newer release (schema \(version)); upgrade to read it")
            }
        }
    }

    /// The most queries running at once; past it a query is refused as
    /// busy rather than queued (each holds a thread and a connection).
    package static let maxConcurrentQueries = 4
    /// How long one query may run before it is stopped.
    package static let queryTimeout: Duration = .seconds(5)
    private let running = Mutex(0)

    /// Runs `body` with a read-only connection of the pool's.
    func withConnection<Result>(_ body: (SQLiteConnection) throws(StoreReadError) -> Result) throws(StoreReadError) -> Result {
        let admitted = running.withLock { count -> Bool in
            guard count < Self.maxConcurrentQueries else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw StoreReadError(
                path: path, reason: "is busy: \(Self.maxConcurrentQueries) queries are running; try again", kind: .busy)
        }
        defer { running.withLock { $0 -= 1 } }
        let box: ConnectionBox
        let current = FileIdentity(path: path)
        let pooled = pool.withLock { pooled -> ConnectionBox? in
            // Connections to a file no longer at the path (moved aside) go.
            pooled.removeAll { $0.file == nil || $0.file != current }
            return pooled.popLast()
        }
        if let pooled {
            box = pooled
        } else {
            do {
                let connection = try SQLiteConnection(path: path, readOnly: true)
                connection.setBusyTimeout(milliseconds: 2_000)
                box = ConnectionBox(connection, file: current)
            } catch {
                throw StoreReadError(path: path, reason: "cannot be opened: \(error)")
            }
        }
        defer {
            pool.withLock { pooled in
                if pooled.count < Self.maxPooled { pooled.append(box) }
            }
        }
        box.connection.setDeadline(CaptureClock.monotonicNanoseconds() &+ Self.queryTimeout.nanosecondsClamped)
        defer { box.connection.setDeadline(nil) }
        return try body(box.connection)
    }

    /// Runs a query's body, turning SQLite's failures into ``StoreReadError``.
    func query<Result>(_ body: (SQLiteConnection) throws(SQLiteError) -> Result) throws(StoreReadError) -> Result {
        try withConnection { (connection: SQLiteConnection) throws(StoreReadError) in
            do {
                return try body(connection)
            } catch {
                if (error as? SQLiteError)?.isInterrupted == true {
                    throw StoreReadError(
                        path: path, reason: "took longer than \(Self.queryTimeout) to read; narrow the range or the filters",
                        kind: .timedOut)
                }
                throw StoreReadError(path: path, reason: "cannot be read: \(error)")
            }
        }
    }
}

/// Why a store could not be read: the path and the reason.
package struct StoreReadError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: one worth retrying soon, or not.
    package enum Kind: Sendable {
        case unreadable, busy, timedOut
    }

    package var path: String
    package var reason: String
    package var kind: Kind = .unreadable

    package init(path: String, reason: String, kind: Kind = .unreadable) {
        self.path = path
        self.reason = reason
        self.kind = kind
    }

    package var description: String { "\(path) \(reason)" }
}

/// A span of time, in nanoseconds since the epoch: `from` up to, not
/// including, `to`.
package struct StoreTimeRange: Sendable, Hashable {
    package var from: Int64
    package var to: Int64

    package init(from: Int64, to: Int64) {
        self.from = from
        self.to = max(from, to)
    }

    /// The last `seconds` up to `now`.
    package static func last(seconds: Int64, now: Int64) -> StoreTimeRange {
        StoreTimeRange(from: now - seconds * 1_000_000_000, to: now)
    }

    package var seconds: Int64 { (to - from) / 1_000_000_000 }

    /// The point spacing that keeps a chart of this range under about 300
    /// points: a minute up to 2 hours, 5 minutes up to 2 days, an hour up
    /// to 8 days, 6 hours beyond.
    package var resolutionSeconds: Int64 {
        switch seconds {
        case ...7_200: 60
        case ...172_800: 300
        case ...691_200: 3_600
        default: 21_600
        }
    }
}
