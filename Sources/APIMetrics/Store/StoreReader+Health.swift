/// A group of errors over a range.
package struct StoreErrorGroup: Sendable {
    package var isValidation: Bool
    package var method: String
    package var route: String
    package var type: String
    package var message: String
    package var field: String
    package var location: String?
    package var count: Double
    package var firstSeen: Int64
    package var lastSeen: Int64
    /// Distinct consumers of the logged calls that failed this way.
    package var consumersAffected: Int
}

/// One run of a service instance: from its start to its last heartbeat.
package struct StoreRun: Sendable {
    package var instance: String
    package var startedAt: Int64
    package var lastSeen: Int64
    package var intervalNanoseconds: Int64
    package var version: String?
}

/// When the service was up over a range, from its heartbeats.
package struct StoreUptime: Sendable {
    /// Spans with no heartbeat from any instance, in nanoseconds.
    package var gaps: [(from: Int64, to: Int64)]
    package var runs: [StoreRun]
    /// The share of the range (from the first run's start) covered.
    package var ratio: Double?
}

extension StoreReader {
    /// The error groups seen in `range`, most frequent first.
    package func errorGroups(
        _ range: StoreTimeRange, method: String? = nil, route: String? = nil, limit: Int = 200
    ) throws(StoreReadError) -> [StoreErrorGroup] {
        try query { connection throws(SQLiteError) in
            let filter = method == nil ? "" : " AND g.method = ?4 AND g.route = ?5"
            let statement = try connection.prepare(
                """
                SELECT g.kind, g.method, g.route, g.type, g.message, g.field, g.location, sum(n.count), min(n.first_seen), max(n.last_seen)
                FROM error_counts n JOIN error_groups g ON g.id = n.group_id
                WHERE n.hour >= ?1 AND n.hour < ?2\(filter)
                GROUP BY g.id ORDER BY sum(n.count) DESC, g.route LIMIT ?3
                """)
            statement.bind(1, StoreSchema.Tier.hour.start(ofSecond: StoreWriterState.floorSeconds(range.from)))
            statement.bind(2, StoreWriterState.floorSeconds(range.to + 999_999_999))
            statement.bind(3, limit)
            if let method {
                statement.bind(4, method)
                statement.bind(5, route ?? "")
            }
            var groups: [StoreErrorGroup] = []
            while try statement.step() {
                groups.append(
                    StoreErrorGroup(
                        isValidation: statement.int(0) == 1, method: statement.text(1), route: statement.text(2),
                        type: statement.text(3), message: statement.text(4), field: statement.text(5),
                        location: statement.optionalText(6), count: statement.double(7), firstSeen: statement.int64(8),
                        lastSeen: statement.int64(9), consumersAffected: 0))
            }
            // One pass over the blocks with server errors, for the busiest 50
            // groups of server errors (the rest show 0).
            let endpoint = try connection.prepare("SELECT id FROM endpoints WHERE method = ?1 AND route = ?2")
            var groupsOf: [Int64: [Int]] = [:]
            for index in groups.indices.prefix(50) where !groups[index].isValidation {
                endpoint.reset()
                endpoint.bind(1, groups[index].method)
                endpoint.bind(2, groups[index].route)
                if try endpoint.step() { groupsOf[endpoint.int64(0), default: []].append(index) }
            }
            guard !groupsOf.isEmpty else { return groups }
            var consumers: [Int: Set<Int64>] = [:]
            // Only blocks where one of these endpoints answered 5xx (or a
            // status past 599, in class 0).
            let tokens = groupsOf.keys.sorted().flatMap { [",e\($0):5,", ",e\($0):0,"] }
            do throws(SQLiteError) {
                try countAffected()
            } catch {
                // Past the read's deadline: the groups, with the consumers they affected not counted.
                guard error.isInterrupted else { throw error }
                return groups
            }
            for (index, set) in consumers { groups[index].consumersAffected = set.count }
            return groups

            func countAffected() throws(SQLiteError) {
                try Self.visitBlocks(
                    connection, from: range.from, to: range.to, serverErrorsOnly: true, anyOfClasses: tokens
                ) { _, _, statement throws(SQLiteError) in
                    // The errors' texts of server errors only.
                    try Self.forEachCall(statement, textsFromStatus: 500) { call in
                        guard call.status >= 500, call.time >= range.from, call.time < range.to, let consumer = call.consumerID,
                            consumer > 0, let indices = groupsOf[call.endpointID]
                        else { return }
                        for index in indices
                        where call.errorType == nil
                            || (call.errorType == groups[index].type && call.errorMessage == groups[index].message)
                        {
                            consumers[index, default: []].insert(consumer)
                        }
                    }
                    return true
                }
            }
        }
    }

    /// The longest heartbeat interval believed from a file (a day, the
    /// longest metrics interval the configuration takes): past it, the
    /// nanoseconds would not fit in 64 bits.
    static let maxIntervalMilliseconds: Int64 = 86_400_000

    /// The runs that overlap `range` and the gaps between heartbeats:
    /// a gap is a stretch longer than two and a half heartbeat intervals
    /// with no heartbeat (or start) from any instance.
    package func uptime(_ range: StoreTimeRange, now: Int64) throws(StoreReadError) -> StoreUptime {
        try query { connection throws(SQLiteError) in
            let runRows = try connection.prepare(
                """
                SELECT instance, started_at, last_seen, interval_ms, version FROM runs
                WHERE last_seen >= ?1 - interval_ms * 3000000 AND started_at < ?2 ORDER BY started_at
                """)
            runRows.bind(1, range.from)
            runRows.bind(2, range.to)
            var runs: [StoreRun] = []
            while try runRows.step() {
                runs.append(
                    StoreRun(
                        instance: runRows.text(0), startedAt: runRows.int64(1), lastSeen: runRows.int64(2),
                        intervalNanoseconds: min(max(1, runRows.int64(3)), Self.maxIntervalMilliseconds) * 1_000_000,
                        version: runRows.optionalText(4)))
            }
            guard let first = runs.map(\.startedAt).min() else { return StoreUptime(gaps: [], runs: [], ratio: nil) }
            let interval = runs.map(\.intervalNanoseconds).max() ?? 60_000_000_000
            let tolerance = interval * 5 / 2
            var times = runs.map(\.startedAt)
            let beats = try connection.prepare("SELECT time FROM heartbeats WHERE time >= ?1 AND time < ?2 ORDER BY time")
            beats.bind(1, range.from - tolerance)
            beats.bind(2, range.to + tolerance)
            while try beats.step() { times.append(beats.int64(0)) }
            times.sort()
            let start = max(range.from, first)
            let end = min(range.to, now)
            var gaps: [(Int64, Int64)] = []
            var previous = start
            for time in times where time > previous {
                if time - previous > tolerance, time > start {
                    gaps.append((max(previous, start), min(time, end)))
                }
                previous = time
            }
            if end - previous > tolerance { gaps.append((previous, end)) }
            gaps = gaps.filter { $0.1 > $0.0 }
            let covered = end - start
            let down = gaps.reduce(Int64(0)) { $0 + ($1.1 - $1.0) }
            return StoreUptime(gaps: gaps, runs: runs, ratio: covered > 0 ? Double(covered - down) / Double(covered) : nil)
        }
    }

    /// The pipeline's counters as each run last reported them (JSON objects).
    package func latestPipeline() throws(StoreReadError) -> [(instance: String, time: Int64, statistics: String)] {
        try query { connection throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT r.instance, p.time, p.statistics FROM pipeline p JOIN runs r ON r.id = p.run_id
                WHERE p.time = (SELECT max(time) FROM pipeline q WHERE q.run_id = p.run_id)
                ORDER BY p.time DESC LIMIT 20
                """)
            var rows: [(String, Int64, String)] = []
            while try statement.step() { rows.append((statement.text(0), statement.int64(1), statement.text(2))) }
            return rows
        }
    }

    /// The file's figures: calls kept, the oldest, the schema version, and
    /// the bytes its pages take.
    package func fileFigures() throws(StoreReadError) -> (calls: Int, oldestCall: Int64?, schemaVersion: Int, bytes: Int) {
        try query { connection throws(SQLiteError) in
            let calls = Int(try connection.integer("SELECT coalesce(sum(count), 0) FROM call_blocks"))
            let oldest = try connection.prepare("SELECT min(first_time) FROM call_blocks")
            let oldestTime = try oldest.step() ? oldest.optionalInt64(0) : nil
            let version = Int(try connection.integer("PRAGMA user_version"))
            return (calls, oldestTime, version, StoreFile.bytesOnDisk(path))
        }
    }
}
