/// The store's tables and their forward migrations.
///
/// The schema version is SQLite's `user_version`; `application_id` marks the
/// file as an APIMetrics store, so that a file of anyone else's is never
/// written. Opening runs every migration past the file's version, each in a
/// transaction of its own; a file from a newer release (a version past
/// ``version``) is read but never written.
///
/// Times: a call's `time` is nanoseconds since the Unix epoch; a metrics
/// row's `start` is seconds since the epoch, aligned to its tier (a minute,
/// an hour, a UTC day).
enum StoreSchema {
    /// `APMS` in ASCII, in the header's application id field.
    static let applicationID: Int32 = 0x4150_4D53
    /// The version this release writes.
    static var version: Int { migrations.count }

    /// The series row that adds up every series of a window, so that the
    /// overview reads one row per minute rather than one per series.
    static let allSeriesID: Int64 = 0
    /// The consumer row of calls identified as no consumer.
    static let anonymousConsumerID: Int64 = 0
    /// The consumer row of calls whose events were dropped before
    /// identification (the windows' `unattributed`); no row in `consumers`.
    static let unattributedConsumerID: Int64 = -1
    /// The row of calls left out of the logs on purpose by an exclusion
    /// (the windows' `excluded`); no row in `consumers`.
    static let excludedConsumerID: Int64 = -2
    /// The writer's page cache: SQLite takes it as it is used, up to this
    /// many bytes of pages (a little more with each page's own header).
    static let writerCacheBytes = 16 << 20

    /// Migration `n` takes the file from version `n` to `n + 1`.
    static let migrations: [String] = [
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE endpoints(id INTEGER PRIMARY KEY, method TEXT NOT NULL, route TEXT NOT NULL, UNIQUE(method, route));
        CREATE TABLE series(id INTEGER PRIMARY KEY, method TEXT NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL,
            UNIQUE(method, route, status));
        INSERT INTO series(id, method, route, status) VALUES (0, '', '', -1);
        CREATE TABLE consumers(id INTEGER PRIMARY KEY, consumer TEXT NOT NULL UNIQUE, name TEXT, email TEXT, company TEXT,
            grp TEXT, metadata BLOB, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
        INSERT INTO consumers(id, consumer, first_seen, last_seen) VALUES (0, '', 0, 0);
        CREATE TABLE calls(
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            event_hi INTEGER NOT NULL, event_lo INTEGER NOT NULL,
            parent_hi INTEGER, parent_lo INTEGER,
            direction INTEGER NOT NULL,
            endpoint_id INTEGER NOT NULL,
            status INTEGER NOT NULL,
            duration INTEGER NOT NULL,
            path TEXT NOT NULL,
            request_bytes INTEGER NOT NULL,
            response_bytes INTEGER NOT NULL,
            consumer_id INTEGER,
            error_type TEXT,
            error_message TEXT,
            trace_id TEXT,
            record BLOB NOT NULL);
        CREATE INDEX calls_time ON calls(time);
        CREATE INDEX calls_event ON calls(event_hi);
        CREATE INDEX calls_parent ON calls(parent_hi) WHERE parent_hi IS NOT NULL;
        CREATE INDEX calls_consumer ON calls(consumer_id, time) WHERE consumer_id IS NOT NULL;
        CREATE INDEX calls_endpoint ON calls(endpoint_id, time);
        CREATE TABLE metrics(tier INTEGER NOT NULL, series_id INTEGER NOT NULL, start INTEGER NOT NULL,
            requests INTEGER NOT NULL, client_errors INTEGER NOT NULL, server_errors INTEGER NOT NULL,
            request_bytes INTEGER NOT NULL, response_bytes INTEGER NOT NULL, sketch BLOB NOT NULL,
            PRIMARY KEY(tier, series_id, start)) WITHOUT ROWID;
        CREATE INDEX metrics_time ON metrics(tier, start);
        CREATE TABLE consumer_metrics(tier INTEGER NOT NULL, consumer_id INTEGER NOT NULL, start INTEGER NOT NULL,
            requests REAL NOT NULL, client_errors REAL NOT NULL, server_errors REAL NOT NULL,
            PRIMARY KEY(tier, consumer_id, start)) WITHOUT ROWID;
        CREATE INDEX consumer_metrics_time ON consumer_metrics(tier, start);
        CREATE TABLE error_groups(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL,
            type TEXT NOT NULL, message TEXT NOT NULL, field TEXT NOT NULL, location TEXT,
            first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE(kind, method, route, type, message, field));
        CREATE TABLE error_counts(group_id INTEGER NOT NULL, hour INTEGER NOT NULL, count REAL NOT NULL,
            first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY(group_id, hour)) WITHOUT ROWID;
        CREATE INDEX error_counts_time ON error_counts(hour);
        CREATE TABLE runs(id INTEGER PRIMARY KEY, instance TEXT NOT NULL, started_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL, interval_ms INTEGER NOT NULL, version TEXT, library_version TEXT,
            UNIQUE(instance, started_at));
        CREATE TABLE heartbeats(time INTEGER NOT NULL, run_id INTEGER NOT NULL, cpu_share REAL, resident_bytes INTEGER,
            PRIMARY KEY(time, run_id)) WITHOUT ROWID;
        CREATE TABLE pipeline(time INTEGER NOT NULL, run_id INTEGER NOT NULL, statistics TEXT NOT NULL,
            PRIMARY KEY(time, run_id)) WITHOUT ROWID;
        CREATE TABLE profiles(kind TEXT NOT NULL, key TEXT NOT NULL, updated INTEGER NOT NULL, profile BLOB NOT NULL,
            PRIMARY KEY(kind, key)) WITHOUT ROWID;
        """,
        // The consumers' counts over a range are read by time across every
        // consumer; through an index of (tier, start) alone each row cost a
        // lookup in the table's primary key (2–3 µs: 33 ms of the overview's
        // 38 ms over a day, with 500 consumers). The index now holds the counts.
        """
        DROP INDEX consumer_metrics_time;
        CREATE INDEX consumer_metrics_time ON consumer_metrics(tier, start, consumer_id, requests, client_errors, server_errors);
        """,
        // API discovery: each operation's learnt shapes (OperationShapeCodec:
        // names, types and counts, never a value), and the change log.
        """
        CREATE TABLE api_operations(method TEXT NOT NULL, route TEXT NOT NULL, shape BLOB NOT NULL, updated INTEGER NOT NULL,
            PRIMARY KEY(method, route)) WITHOUT ROWID;
        CREATE TABLE api_changes(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL,
            kind TEXT NOT NULL, location TEXT NOT NULL, detail TEXT NOT NULL, example_hi INTEGER NOT NULL, example_lo INTEGER NOT NULL);
        CREATE INDEX api_changes_time ON api_changes(time);
        """,
        // Calls checked against the team's spec: per spec version (its
        // digest), operation, rule and place, a count with the first and
        // last time and an example call; never a value.
        """
        CREATE TABLE spec_findings(spec TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, rule TEXT NOT NULL,
            location TEXT NOT NULL, count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
            example_hi INTEGER NOT NULL, example_lo INTEGER NOT NULL,
            PRIMARY KEY(spec, method, path, rule, location)) WITHOUT ROWID;
        CREATE INDEX spec_findings_last_seen ON spec_findings(last_seen);
        """,
        // Alerts: each alert's state (so that one firing before a restart is
        // not told again), the transitions told, and the server-error groups
        // already seen (a group is new once).
        """
        CREATE TABLE alert_states(rule TEXT NOT NULL, instance TEXT NOT NULL, firing INTEGER NOT NULL, since INTEGER NOT NULL,
            fired_at INTEGER NOT NULL, told_at INTEGER NOT NULL, value REAL NOT NULL, last_active INTEGER NOT NULL,
            PRIMARY KEY(rule, instance)) WITHOUT ROWID;
        CREATE TABLE alert_events(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, rule TEXT NOT NULL, state TEXT NOT NULL,
            value REAL NOT NULL, threshold REAL, scope TEXT NOT NULL, instance TEXT NOT NULL, summary TEXT NOT NULL,
            firing_since INTEGER NOT NULL, repeat INTEGER NOT NULL);
        CREATE INDEX alert_events_time ON alert_events(time);
        CREATE TABLE alert_known(identity TEXT PRIMARY KEY, seen INTEGER NOT NULL) WITHOUT ROWID;
        """,
        // A call is found by its id through the time its id begins with
        // (the high half's top 48 bits are its start in milliseconds, and
        // `time` is that start): the index of every id cost each insert a
        // second B-tree entry. The calls whose id does not carry their time
        // (written before ids did, handed over with a time of their own, or
        // before 1970) are in a partial index, which a call written as
        // usual never enters.
        """
        DROP INDEX IF EXISTS calls_event;
        CREATE INDEX calls_untimed ON calls(event_hi, event_lo) WHERE \(StoreSchema.untimedCalls);
        """,
        // The log as blocks of calls (CallBlock): a row a call, with an
        // entry in each of four indexes, cost the writer 3.2 µs a call in
        // the load test, and a lean row with no index still 1.6. A block
        // holds one commit's calls as JSON (so that `sqlite3` reads them
        // through the `calls` view as it read the table) and their records;
        // a read skips the blocks its time range, endpoint, consumer or
        // server errors rule out. The calls of the table before are moved
        // into blocks when the writer opens the file (a transaction per
        // block), then the table is dropped.
        """
        CREATE TABLE call_blocks(id INTEGER PRIMARY KEY, first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,
            count INTEGER NOT NULL, server_errors INTEGER NOT NULL, endpoints TEXT NOT NULL, consumers TEXT NOT NULL,
            classes TEXT NOT NULL, calls TEXT NOT NULL, records BLOB NOT NULL);
        CREATE INDEX call_blocks_time ON call_blocks(last_time, first_time);
        CREATE TABLE call_untimed(event_hi INTEGER NOT NULL, event_lo INTEGER NOT NULL, block_id INTEGER NOT NULL,
            PRIMARY KEY(event_hi, event_lo, block_id)) WITHOUT ROWID;
        CREATE INDEX call_untimed_block ON call_untimed(block_id);
        ALTER TABLE calls RENAME TO calls_legacy;
        \(StoreSchema.callsView)
        """,
    ]

    /// The first version whose log is kept in `call_blocks`.
    static let blocksVersion = 7

    /// The table of calls `sqlite3` users query, over the blocks: the
    /// columns of the table it replaces but the record, an id that is the
    /// block's id times 65,536 plus the call's place in it, and the block's
    /// first and last call's times (a condition on `block_last_time` lets
    /// SQLite skip older blocks through their index instead of reading
    /// every call).
    static let callsView = """
        CREATE VIEW calls AS SELECT b.id * 65536 + j.key AS id, json_extract(j.value, '$[0]') AS time,
            json_extract(j.value, '$[1]') AS event_hi, json_extract(j.value, '$[2]') AS event_lo,
            json_extract(j.value, '$[3]') AS parent_hi, json_extract(j.value, '$[4]') AS parent_lo,
            json_extract(j.value, '$[5]') AS direction, json_extract(j.value, '$[6]') AS endpoint_id,
            json_extract(j.value, '$[7]') AS status, json_extract(j.value, '$[8]') AS duration,
            json_extract(j.value, '$[9]') AS path, json_extract(j.value, '$[10]') AS request_bytes,
            json_extract(j.value, '$[11]') AS response_bytes, json_extract(j.value, '$[12]') AS consumer_id,
            json_extract(j.value, '$[13]') AS error_type, json_extract(j.value, '$[14]') AS error_message,
            json_extract(j.value, '$[15]') AS trace_id, b.first_time AS block_first_time, b.last_time AS block_last_time
        FROM call_blocks b, json_each(b.calls) j;
        """

    /// The calls whose `time` is not in the millisecond their id begins
    /// with: the condition of the `calls_untimed` index, written the same in
    /// the lookups that use it.
    static let untimedCalls = """
        NOT (time >= ((event_hi >> 16) & 281474976710655) * 1000000 AND time < ((event_hi >> 16) & 281474976710655) * 1000000 + 1000000)
        """

    /// Resolution tiers of the `metrics` and `consumer_metrics` tables.
    enum Tier: Int, CaseIterable, Sendable {
        case minute = 0, hour = 1, day = 2

        /// The tier's length in seconds.
        var seconds: Int64 {
            switch self {
            case .minute: 60
            case .hour: 3_600
            case .day: 86_400
            }
        }

        /// The start of the tier's bucket holding `second` (seconds since the epoch).
        func start(ofSecond second: Int64) -> Int64 {
            let length = seconds
            return (second >= 0 ? second / length : (second - length + 1) / length) * length
        }
    }

    /// Applies the pragmas every writer connection runs with and brings the
    /// schema up to ``version``.
    ///
    /// - Returns: the file's version before, or `nil` when the file is of a
    ///   newer release (nothing was changed).
    static func prepare(_ connection: SQLiteConnection, maxBytes: Int = StoreOptions.defaultMaxBytes) throws(StoreFailure) -> Int?
    {
        do {
            // Before the first table (it takes effect only on an empty file):
            // no auto-vacuum. Its pointer map is kept up to date on every page
            // a write allocates (6% of store.write's CPU), and pages freed by
            // retention are reused by the next writes anyway; the file never
            // passes maxBytes (the writer's page cap) either way. Pages of
            // 16 KiB in a new file: a commit dirties, logs and checkpoints
            // fewer of them (store.write 8.4–9.0 µs a call against 9.4–10.3
            // with 4 KiB), and the log's pages and the overview read as
            // fast. Not in a small store, whose tables' and indexes' first
            // pages alone would take a good part of it.
            let pageSize = maxBytes >= 64 << 20 ? 16_384 : 4_096
            try connection.execute("PRAGMA auto_vacuum = NONE; PRAGMA page_size = \(pageSize)")
            _ = try connection.integer("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; PRAGMA journal_size_limit = 67108864")
            // Each batch's calls landed on random pages of the event-id
            // index (and on one page per consumer and endpoint): with SQLite's
            // defaults (a 2 MiB cache, a checkpoint every 1,000 pages) a
            // store of 150,000 calls re-read those pages from the file and
            // checkpointed, with an fsync, after nearly every batch — half of
            // the writer's CPU in the kernel (store.write: 30 µs a call). A
            // 16 MiB cache (taken as used) and a checkpoint every 64 MiB of
            // log (the journal's size limit) write a page dirtied by many
            // batches back once: 19–22 µs. (A 4 MiB cache, tried against the
            // attacks' resident memory: store.write 8.2–8.5 µs a call on
            // 600,000 calls against 6.7 µs.)
            try connection.execute(
                "PRAGMA cache_size = -\(StoreSchema.writerCacheBytes / 1_024); PRAGMA wal_autocheckpoint = 16384")
            let applicationID = try connection.integer("PRAGMA application_id")
            let current = Int(try connection.integer("PRAGMA user_version"))
            let tables = try connection.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
            if applicationID != Int64(Self.applicationID) {
                guard applicationID == 0, tables == 0 else {
                    throw StoreFailure.notAStore("it is a SQLite database of another program")
                }
            }
            guard current <= version else { return nil }
            for step in current..<version {
                try connection.execute("BEGIN IMMEDIATE")
                do {
                    try connection.execute(migrations[step])
                    try connection.execute("PRAGMA application_id = \(Self.applicationID); PRAGMA user_version = \(step + 1)")
                    try connection.execute("COMMIT")
                } catch {
                    try? connection.execute("ROLLBACK")
                    throw error
                }
            }
            return current
        } catch let error as SQLiteError {
            throw StoreFailure(error)
        } catch let error as StoreFailure {
            throw error
        } catch {
            throw StoreFailure.sqlite(SQLiteError(code: -1, message: "\(error)"))
        }
    }
}

/// Why the store could not be used.
enum StoreFailure: Error, Sendable, CustomStringConvertible {
    case notAStore(String)
    case corrupt(SQLiteError)
    case full(SQLiteError)
    case locked
    case sqlite(SQLiteError)

    init(_ error: SQLiteError) {
        if error.isCorrupt { self = .corrupt(error) } else if error.isFull { self = .full(error) } else { self = .sqlite(error) }
    }

    var description: String {
        switch self {
        case let .notAStore(reason): "not an APIMetrics store: \(reason)"
        case let .corrupt(error): "the file is corrupt: \(error)"
        case let .full(error): "the disk is full: \(error)"
        case .locked: "another process is writing it"
        case let .sqlite(error): "\(error)"
        }
    }
}
