/// What the request log is filtered by; every part optional, all combined.
package struct StoreCallFilter: Sendable, Hashable {
    package var range: StoreTimeRange
    package var method: String?
    package var route: String?
    /// One status, such as 404.
    package var status: Int?
    /// A status class, 1 to 5 (`4` for 4xx); 0 for calls with no response.
    package var statusClass: Int?
    package var consumer: String?
    package var minimumDurationNanoseconds: Int64?
    /// A part of the recorded path (as redacted).
    package var pathContains: String?

    package init(range: StoreTimeRange) { self.range = range }
}

/// Where the next page of the log starts: the last call shown.
package struct StoreCallCursor: Sendable, Hashable {
    package var time: Int64
    package var rowID: Int64

    package init(time: Int64, rowID: Int64) {
        self.time = time
        self.rowID = rowID
    }

    /// `TIME.ROWID`, as the API hands it out.
    package var text: String { "\(time).\(rowID)" }

    package init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let time = Int64(parts[0]), let rowID = Int64(parts[1]) else { return nil }
        self.init(time: time, rowID: rowID)
    }
}

/// One line of the request log.
package struct StoreCall: Sendable {
    package var rowID: Int64
    package var id: EventID
    package var time: Int64
    package var method: String
    /// `nil` when no route matched.
    package var route: String?
    package var path: String
    package var status: Int
    package var durationNanoseconds: Int64
    package var consumer: String?
    package var requestBytes: Int
    package var responseBytes: Int
    package var isOutgoing: Bool
    package var errorType: String?
    package var errorMessage: String?
}

/// One call with everything the store kept of it.
package struct StoreCallDetail: Sendable {
    package var call: StoreCall
    package var record: ExchangeRecord
    package var parent: StoreCall?
    package var children: [StoreCall]
}

extension StoreReader {
    static let callColumns = """
        c.id, c.time, c.event_hi, c.event_lo, e.method, e.route, c.path, c.status, c.duration, co.consumer,
        c.request_bytes, c.response_bytes, c.direction, c.error_type, c.error_message
        """
    static let callSource =
        "FROM calls c JOIN endpoints e ON e.id = c.endpoint_id LEFT JOIN consumers co ON co.id = c.consumer_id"

    /// A page of the log, newest first, and where the next page starts.
    package func calls(
        _ filter: StoreCallFilter, after cursor: StoreCallCursor? = nil, limit: Int = 50
    ) throws(StoreReadError) -> (calls: [StoreCall], next: StoreCallCursor?) {
        try query { connection throws(SQLiteError) in
            var conditions = ["c.time >= ?1", "c.time < ?2"]
            var texts: [(Int32, String)] = []
            var integers: [(Int32, Int64)] = [(1, filter.range.from), (2, filter.range.to)]
            var next: Int32 = 3
            func integer(_ value: Int64) -> String {
                defer { next += 1 }
                integers.append((next, value))
                return "?\(next)"
            }
            func text(_ value: String) -> String {
                defer { next += 1 }
                texts.append((next, value))
                return "?\(next)"
            }
            if let method = filter.method {
                if let route = filter.route {
                    conditions.append(
                        "c.endpoint_id = (SELECT id FROM endpoints WHERE method = \(text(method)) AND route = \(text(route)))")
                } else {
                    conditions.append("c.endpoint_id IN (SELECT id FROM endpoints WHERE method = \(text(method)))")
                }
            } else if let route = filter.route {
                conditions.append("c.endpoint_id IN (SELECT id FROM endpoints WHERE route = \(text(route)))")
            }
            if let status = filter.status { conditions.append("c.status = \(integer(Int64(status)))") }
            if let statusClass = filter.statusClass {
                if statusClass == 0 {
                    conditions.append("c.status = 0")
                } else {
                    conditions.append(
                        "c.status >= \(integer(Int64(statusClass * 100))) AND c.status < \(integer(Int64(statusClass * 100 + 100)))"
                    )
                }
            }
            if let consumer = filter.consumer {
                conditions.append("c.consumer_id = (SELECT id FROM consumers WHERE consumer = \(text(consumer)) AND id > 0)")
            }
            if let minimum = filter.minimumDurationNanoseconds { conditions.append("c.duration >= \(integer(minimum))") }
            if let part = filter.pathContains, !part.isEmpty { conditions.append("instr(c.path, \(text(part))) > 0") }
            if let cursor {
                conditions.append("(c.time, c.id) < (\(integer(cursor.time)), \(integer(cursor.rowID)))")
            }
            let page = max(1, min(limit, 1_000))
            let statement = try connection.prepare(
                "SELECT \(Self.callColumns) \(Self.callSource) WHERE \(conditions.joined(separator: " AND ")) ORDER BY c.time DESC, c.id DESC LIMIT \(page + 1)"
            )
            for (index, value) in integers { statement.bind(index, value) }
            for (index, value) in texts { statement.bind(index, value) }
            var calls: [StoreCall] = []
            while try statement.step() { calls.append(Self.call(statement)) }
            var nextCursor: StoreCallCursor?
            if calls.count > page {
                calls.removeLast()
                nextCursor = calls.last.map { StoreCallCursor(time: $0.time, rowID: $0.rowID) }
            }
            return (calls, nextCursor)
        }
    }

    static func call(_ row: SQLiteStatement) -> StoreCall {
        let route = row.text(5)
        return StoreCall(
            rowID: row.int64(0), id: EventID(high: UInt64(bitPattern: row.int64(2)), low: UInt64(bitPattern: row.int64(3))),
            time: row.int64(1), method: row.text(4), route: route.isEmpty ? nil : route, path: row.text(6), status: row.int(7),
            durationNanoseconds: row.int64(8), consumer: row.optionalText(9), requestBytes: row.int(10),
            responseBytes: row.int(11), isOutgoing: row.int(12) == 1, errorType: row.optionalText(13),
            errorMessage: row.optionalText(14))
    }

    /// One call by its event id, with its parent and the calls it made.
    package func call(id: EventID) throws(StoreReadError) -> StoreCallDetail? {
        try query { connection throws(SQLiteError) in
            guard let rowID = try Self.rowID(of: id, connection) else { return nil }
            let statement = try connection.prepare(
                "SELECT \(Self.callColumns), c.record, c.parent_hi, c.parent_lo \(Self.callSource) WHERE c.id = ?1")
            statement.bind(1, rowID)
            guard try statement.step() else { return nil }
            let call = Self.call(statement)
            let bytes = statement.blob(15)
            var reader = BinaryReader(bytes)
            guard let version = try? reader.byte(), version <= RecordCodec.version,
                let record = try? reader.record(version: version)
            else {
                throw SQLiteError(code: 11, message: "the call's record cannot be read")
            }
            var parent: StoreCall?
            if !statement.isNull(16) {
                let parentID = EventID(
                    high: UInt64(bitPattern: statement.int64(16)), low: UInt64(bitPattern: statement.int64(17)))
                if let parentRow = try Self.rowID(of: parentID, connection) {
                    let lookup = try connection.prepare("SELECT \(Self.callColumns) \(Self.callSource) WHERE c.id = ?1")
                    lookup.bind(1, parentRow)
                    if try lookup.step() { parent = Self.call(lookup) }
                }
            }
            let children = try connection.prepare(
                "SELECT \(Self.callColumns) \(Self.callSource) WHERE c.parent_hi = ?1 AND c.parent_lo = ?2 ORDER BY c.time LIMIT 200"
            )
            children.bind(1, Int64(bitPattern: id.high))
            children.bind(2, Int64(bitPattern: id.low))
            var made: [StoreCall] = []
            while try children.step() { made.append(Self.call(children)) }
            return StoreCallDetail(call: call, record: record, parent: parent, children: made)
        }
    }

    /// The row of the call with this id. An id begins with its call's start
    /// in milliseconds, which the row's `time` holds: the lookup reads that
    /// millisecond of the time index. A call whose id does not carry its
    /// time is in the `calls_untimed` index. Both are index lookups, for
    /// any id a client sends. A store not yet migrated has the index of
    /// every id.
    static func rowID(of id: EventID, _ connection: SQLiteConnection) throws(SQLiteError) -> Int64? {
        let milliseconds = Int64(id.high >> 16)
        if milliseconds < Int64.max / 1_000_000 - 1 {
            let timed = try connection.prepare(
                "SELECT id FROM calls WHERE time >= ?1 AND time < ?2 AND event_hi = ?3 AND event_lo = ?4 LIMIT 1")
            timed.bind(1, milliseconds * 1_000_000)
            timed.bind(2, (milliseconds + 1) * 1_000_000)
            timed.bind(3, Int64(bitPattern: id.high))
            timed.bind(4, Int64(bitPattern: id.low))
            if try timed.step() { return timed.int64(0) }
        }
        let migrated = try connection.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'calls_untimed'")
        let untimed = try connection.prepare(
            try migrated.step()
                ? "SELECT id FROM calls INDEXED BY calls_untimed WHERE event_hi = ?1 AND event_lo = ?2 AND \(StoreSchema.untimedCalls) LIMIT 1"
                : "SELECT id FROM calls WHERE event_hi = ?1 AND event_lo = ?2 LIMIT 1")
        untimed.bind(1, Int64(bitPattern: id.high))
        untimed.bind(2, Int64(bitPattern: id.low))
        return try untimed.step() ? untimed.int64(0) : nil
    }

    /// The consumers with the most logged calls to one endpoint.
    package func topConsumers(
        _ range: StoreTimeRange, method: String, route: String, limit: Int = 10
    ) throws(StoreReadError) -> [(consumer: String, name: String?, calls: Int)] {
        try query { connection throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT co.consumer, co.name, count(*) AS n FROM calls c JOIN consumers co ON co.id = c.consumer_id
                WHERE c.endpoint_id = (SELECT id FROM endpoints WHERE method = ?1 AND route = ?2) AND c.time >= ?3 AND c.time < ?4
                    AND c.consumer_id > 0
                GROUP BY c.consumer_id ORDER BY n DESC, co.consumer LIMIT ?5
                """)
            statement.bind(1, method)
            statement.bind(2, route)
            statement.bind(3, range.from)
            statement.bind(4, range.to)
            statement.bind(5, limit)
            var rows: [(String, String?, Int)] = []
            while try statement.step() { rows.append((statement.text(0), statement.optionalText(1), statement.int(2))) }
            return rows
        }
    }

    /// The endpoints one consumer called most, from the log.
    package func consumerEndpoints(
        _ range: StoreTimeRange, consumer: String, limit: Int = 50
    ) throws(StoreReadError) -> [(method: String, route: String, calls: Int)] {
        try query { connection throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT e.method, e.route, count(*) AS n FROM calls c JOIN endpoints e ON e.id = c.endpoint_id
                WHERE c.consumer_id = (SELECT id FROM consumers WHERE consumer = ?1 AND id > 0) AND c.time >= ?2 AND c.time < ?3
                GROUP BY c.endpoint_id ORDER BY n DESC, e.route LIMIT ?4
                """)
            statement.bind(1, consumer)
            statement.bind(2, range.from)
            statement.bind(3, range.to)
            statement.bind(4, limit)
            var rows: [(String, String, Int)] = []
            while try statement.step() { rows.append((statement.text(0), statement.text(1), statement.int(2))) }
            return rows
        }
    }
}
