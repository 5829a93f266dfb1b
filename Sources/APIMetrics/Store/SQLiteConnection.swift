import CSQLite

/// What SQLite said when a call failed: its result code and message.
struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code.
    var code: Int32
    var message: String

    var description: String { "\(message) (SQLite \(code))" }

    /// The file is damaged, or is no database at all.
    var isCorrupt: Bool { primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB }
    /// The disk (or the file's page limit) is full.
    var isFull: Bool { primary == SQLITE_FULL }
    /// A deadline set with ``SQLiteConnection/setDeadline(_:)`` passed.
    var isInterrupted: Bool { primary == SQLITE_INTERRUPT }
    /// A read stopped at its deadline outside SQLite.
    static let interrupted = SQLiteError(code: SQLITE_INTERRUPT, message: "interrupted")

    /// Bytes of the file that do not read as what was written.
    static func corrupt(_ message: String) -> SQLiteError { SQLiteError(code: SQLITE_CORRUPT, message: message) }
    /// Another connection holds the lock.
    var isBusy: Bool { primary == SQLITE_BUSY || primary == SQLITE_LOCKED }
    /// The file cannot be written: read-only, gone, or an I/O error.
    var isIOError: Bool { primary == SQLITE_IOERR || primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN }

    private var primary: Int32 { code & 0xFF }
}

/// One connection to a SQLite file, used by one thread at a time (opened
/// without SQLite's own mutex: the store's writer thread owns its
/// connection, and a reader takes one from a pool).
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    let path: String

    /// Opens `path`, never through a symbolic link.
    ///
    /// - Parameters:
    ///   - readOnly: a reader's connection, which cannot write or create.
    init(path: String, readOnly: Bool) throws(SQLiteError) {
        self.path = path
        var handle: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_close_v2(handle)
            throw SQLiteError(code: result, message: message)
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    /// Closes the connection; its statements must be finalized first (they
    /// are, when their owners are gone: `sqlite3_close_v2` waits for them).
    func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements that return nothing to read.
    func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        guard result == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(message)
            throw SQLiteError(code: result, message: text)
        }
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw SQLiteError(code: result, message: lastMessage)
        }
        return SQLiteStatement(statement, connection: self)
    }

    /// The single integer a query such as `PRAGMA page_count` answers.
    func integer(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        defer { statement.reset() }
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// The heap memory the connection's page cache holds, as SQLite counts
    /// it (`SQLITE_DBSTATUS_CACHE_USED`: pages and their headers).
    var cacheBytes: Int {
        var current: Int32 = 0
        var highest: Int32 = 0
        guard sqlite3_db_status(handle, SQLITE_DBSTATUS_CACHE_USED, &current, &highest, 0) == SQLITE_OK else { return 0 }
        return Int(current)
    }

    /// How long a statement waits for another connection's lock before
    /// failing with `SQLITE_BUSY`.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Stops any statement of this connection once the monotonic clock
    /// passes `deadline` (nanoseconds; `nil` for none), failing it with
    /// `SQLITE_INTERRUPT`: a reader's query is bounded in time whatever the
    /// file holds.
    func setDeadline(_ deadline: Int64?) {
        guard let handle else { return }
        guard let deadline else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            queryDeadline.value = .max
            return
        }
        queryDeadline.value = deadline
        sqlite3_progress_handler(
            handle, 4_000,
            { context in
                guard let context else { return 0 }
                let deadline = Unmanaged<QueryDeadline>.fromOpaque(context).takeUnretainedValue()
                return CaptureClock.monotonicNanoseconds() > deadline.value ? 1 : 0
            }, Unmanaged.passUnretained(queryDeadline).toOpaque())
    }

    /// Whether the deadline of ``setDeadline(_:)`` has passed: work done
    /// outside SQLite between two steps (decoding blocks of calls) stops
    /// by it too.
    var isPastDeadline: Bool { CaptureClock.monotonicNanoseconds() > queryDeadline.value }

    /// The deadline the progress handler reads; lives as long as the connection.
    private let queryDeadline = QueryDeadline()

    final class QueryDeadline {
        var value: Int64 = .max
    }

    /// Stops the statement running on this connection (from another thread:
    /// a reader's query past its deadline).
    func interrupt() {
        if let handle { sqlite3_interrupt(handle) }
    }

    var lastMessage: String {
        handle.map { String(cString: sqlite3_errmsg($0)) } ?? "the connection is closed"
    }

    var lastCode: Int32 {
        handle.map { sqlite3_extended_errcode($0) } ?? SQLITE_MISUSE
    }

    /// Rows changed by the last statement.
    var changes: Int { handle.map { Int(sqlite3_changes($0)) } ?? 0 }
}

/// A compiled statement: bind, step, read columns, reset.
final class SQLiteStatement {
    private var statement: OpaquePointer?
    private let connection: SQLiteConnection

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    /// Clears the bindings and makes the statement ready to run again.
    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(statement, index, value) }
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(statement, index, Int64(value)) }
    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(statement, index, value) }
    func bindNull(_ index: Int32) { sqlite3_bind_null(statement, index) }

    func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    _ = sqlite3_bind_text(statement, index, base, Int32(chars.count), apimetrics_sqlite_transient())
                } else {
                    _ = sqlite3_bind_text(statement, index, "", 0, apimetrics_sqlite_transient())
                }
            }
        }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    /// Binds bytes SQLite reads in place rather than copying (no
    /// destructor: `SQLITE_STATIC`): valid only while `bytes` is, so the
    /// statement must run, and be reset, before they go (``run()`` resets).
    func bindInPlace(_ index: Int32, blob bytes: UnsafeRawBufferPointer) {
        _ = sqlite3_bind_blob(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), nil)
    }

    /// Binds UTF-8 text that stays where it is until the statement runs and resets.
    func bindInPlace(_ index: Int32, text bytes: UnsafeRawBufferPointer) {
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        _ = sqlite3_bind_text(statement, index, base ?? UnsafePointer(bitPattern: 1), Int32(bytes.count), nil)
    }

    func bind(_ index: Int32, blob: [UInt8]) {
        blob.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(
                statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count),
                apimetrics_sqlite_transient())
        }
    }

    /// Runs the statement to its next row: `true` when there is one to read,
    /// `false` when it is done.
    @discardableResult
    func step() throws(SQLiteError) -> Bool {
        let result = sqlite3_step(statement)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: result, message: connection.lastMessage)
            sqlite3_reset(statement)
            throw error
        }
    }

    /// Runs a statement that returns no rows, then resets it.
    func run() throws(SQLiteError) {
        defer { reset() }
        try step()
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    /// Reads a blob column in place, without a copy.
    func withBlob<Result>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else {
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
