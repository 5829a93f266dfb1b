extension StoreWriterState {
    /// How often retention runs: once a minute, and at the next write after
    /// a full disk.
    static let retentionInterval: Int64 = 60_000_000_000
    /// About the calls deleted per transaction (whole blocks of them, at
    /// least one), so that the write lock is held briefly and readers are
    /// never starved; also the consumers deleted per transaction.
    static let retentionChunk = 5_000
    /// The most blocks of calls deleted per transaction.
    static let retentionBlocks = 256
    /// The most changes of the API the store keeps (the newest).
    static let maxStoredChanges = 100_000

    func runRetentionIfDue() {
        let now = CaptureClock.monotonicNanoseconds()
        guard lastRetentionNanoseconds == 0 || now - lastRetentionNanoseconds >= Self.retentionInterval else { return }
        lastRetentionNanoseconds = now
        _ = try? enforceRetention(nowNanoseconds: CaptureClock.wallNanoseconds())
    }

    /// Before a commit of about `bytes`: runs retention first when the data
    /// would pass 90% of ``StoreOptions/maxBytes`` (so that the file stays
    /// under its limit however fast calls come, not only once a minute).
    func makeRoom(forBytes bytes: Int64) {
        guard let connection, let used = try? usedBytes(connection) else { return }
        let limit = Int64(options.maxBytes)
        guard used > limit - limit / 10 - bytes else { return }
        lastRetentionNanoseconds = CaptureClock.monotonicNanoseconds()
        _ = try? enforceRetention(nowNanoseconds: CaptureClock.wallNanoseconds(), incomingBytes: bytes)
    }

    /// The bytes of the pages that hold data (the file less its free pages).
    func usedBytes(_ connection: SQLiteConnection) throws(SQLiteError) -> Int64 {
        let pageSize = try connection.integer("PRAGMA page_size")
        return (try connection.integer("PRAGMA page_count") - (try connection.integer("PRAGMA freelist_count"))) * pageSize
    }

    /// Deletes what is past the age limits, then the oldest calls while the
    /// data (with `incomingBytes` about to be written) passes 90% of
    /// ``StoreOptions/maxBytes``, down to 80%. The freed pages are reused by
    /// the writes that follow: a store the file system's space was given
    /// back from would only grow again. Returns the calls deleted.
    @discardableResult
    func enforceRetention(nowNanoseconds now: Int64, incomingBytes: Int64 = 0) throws(SQLiteError) -> Int {
        guard let connection, let statements else { return 0 }
        let second = Self.floorSeconds(now)
        let keptFrom = second - Int64(options.retentionDays) * 86_400
        // Whole hours: the reader takes minutes from this hour on, hours before it.
        let minutesFrom = StoreSchema.Tier.hour.start(ofSecond: second - Int64(options.minuteResolutionHours) * 3_600)
        var deleted = 0, orphans = 0
        try transaction(statements) { () throws(SQLiteError) in
            try connection.execute(
                """
                DELETE FROM metrics WHERE tier = 0 AND start < \(minutesFrom);
                DELETE FROM consumer_metrics WHERE tier = 0 AND start < \(minutesFrom);
                INSERT OR REPLACE INTO meta(key, value) VALUES ('minutes_from', '\(minutesFrom)');
                DELETE FROM metrics WHERE start < \(StoreSchema.Tier.day.start(ofSecond: keptFrom));
                DELETE FROM consumer_metrics WHERE start < \(StoreSchema.Tier.day.start(ofSecond: keptFrom));
                DELETE FROM error_counts WHERE hour < \(keptFrom);
                DELETE FROM error_groups WHERE last_seen < \(keptFrom * 1_000_000_000);
                DELETE FROM heartbeats WHERE time < \(keptFrom * 1_000_000_000);
                DELETE FROM pipeline WHERE time < \(keptFrom * 1_000_000_000);
                DELETE FROM runs WHERE last_seen < \(keptFrom * 1_000_000_000);
                DELETE FROM api_changes WHERE time < \(keptFrom * 1_000_000_000);
                DELETE FROM api_changes WHERE id <= (SELECT max(id) FROM api_changes) - \(Self.maxStoredChanges);
                DELETE FROM spec_findings WHERE last_seen < \(keptFrom * 1_000_000_000);
                DELETE FROM alert_events WHERE time < \(keptFrom * 1_000_000_000);
                DELETE FROM alert_known WHERE seen < \(keptFrom * 1_000_000_000);
                """)
        }
        // Calls by age, a chunk of blocks per transaction: a block goes once
        // its last call is past the limit.
        while true {
            let (blocks, count) = try deleteBlocks(
                where: "last_time < \(keptFrom * 1_000_000_000)", calls: Self.retentionChunk, connection, statements)
            deleted += count
            if blocks == 0 { break }
        }
        // Then by bytes: the oldest calls first, until the data is under 90% of the limit.
        var used = try usedBytes(connection) + incomingBytes
        let limit = Int64(options.maxBytes)
        // 90% and 80% of the limit, without multiplying it: maxBytes may be as large as Int.max.
        let mark = limit - limit / 10, target = limit - limit / 5
        if used > mark {
            // Consumers whose calls an earlier pass deleted first: clients can name a new one on every call.
            orphans += try deleteOrphanConsumers(connection, statements)
            used = try usedBytes(connection) + incomingBytes
        }
        if used > mark {
            let calls = max(1, try connection.integer("SELECT coalesce(sum(count), 0) FROM call_blocks"))
            while used > mark {
                // Enough calls to come under the mark at the current bytes per call, at most a chunk's worth.
                let perCall = max(1, used / calls)
                let wanted = Int(min(Int64(Self.retentionChunk), max(100, (used - target) / perCall)))
                let (removed, count) = try deleteBlocks(where: "1", calls: wanted, connection, statements)
                deleted += count
                if removed == 0 {
                    let more = try deleteOrphanConsumers(connection, statements)
                    orphans += more
                    if more == 0 { break }
                }
                used = try usedBytes(connection) + incomingBytes
            }
        }
        // Stores made before auto-vacuum was turned off give the space back.
        if try connection.integer("PRAGMA auto_vacuum") == 2, try connection.integer("PRAGMA freelist_count") > 0 {
            try connection.execute("PRAGMA incremental_vacuum")
        }
        if deleted > 0 {
            try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            // Consumers seen only in calls now gone, and their windows gone too.
            try connection.execute(
                """
                DELETE FROM consumers WHERE id > 0 AND last_seen < \(keptFrom * 1_000_000_000)
                AND last_seen < \(Self.oldestLoggedCall) AND id NOT IN (SELECT consumer_id FROM consumer_metrics)
                """)
        }
        // Ids of deleted rows must not be written again: the cache is built anew.
        if deleted > 0 || orphans > 0 { consumerIDs = [:] }
        status.withLock { $0.retiredCalls += deleted }
        return deleted
    }

    /// The time of the oldest call the log keeps (the first of the oldest
    /// block), as SQL. A consumer last seen before it is named by no block:
    /// a block naming it holds one of its calls, at or after the block's
    /// first call and at or before the consumer's `last_seen`.
    static let oldestLoggedCall = "(SELECT coalesce(min(first_time), 9223372036854775807) FROM call_blocks)"

    /// Deletes consumers that no call and no metrics row names (a chunk
    /// per transaction); returns how many.
    private func deleteOrphanConsumers(_ connection: SQLiteConnection, _ statements: StoreStatements) throws(SQLiteError) -> Int {
        var total = 0
        while true {
            var count = 0
            try transaction(statements) { () throws(SQLiteError) in
                try connection.execute(
                    """
                    DELETE FROM consumers WHERE id IN (SELECT id FROM consumers c WHERE c.id > 0
                        AND c.last_seen < \(Self.oldestLoggedCall)
                        AND NOT EXISTS (SELECT 1 FROM consumer_metrics WHERE tier IN (0, 1, 2) AND consumer_id = c.id)
                        LIMIT \(Self.retentionChunk))
                    """)
                count = connection.changes
            }
            total += count
            if count < Self.retentionChunk { break }
        }
        return total
    }

    /// Deletes the oldest blocks of calls that `condition` holds, in one
    /// transaction: whole blocks, until about `calls` calls (at least one
    /// block, at most ``retentionBlocks``). Returns the blocks and their calls.
    private func deleteBlocks(
        where condition: String, calls wanted: Int, _ connection: SQLiteConnection, _ statements: StoreStatements
    ) throws(SQLiteError) -> (blocks: Int, calls: Int) {
        var blocks = 0, calls = 0
        try transaction(statements) { () throws(SQLiteError) in
            let chosen = try connection.prepare(
                "SELECT id, count FROM call_blocks WHERE \(condition) ORDER BY last_time LIMIT \(Self.retentionBlocks)")
            var ids: [Int64] = []
            while calls < wanted, try chosen.step() {
                ids.append(chosen.int64(0))
                calls += chosen.int(1)
            }
            chosen.reset()
            guard !ids.isEmpty else { return }
            let list = ids.map(String.init).joined(separator: ",")
            try connection.execute(
                """
                DELETE FROM call_blocks WHERE id IN (\(list));
                DELETE FROM call_untimed WHERE block_id IN (\(list));
                """)
            blocks = ids.count
        }
        return (blocks, calls)
    }
}
