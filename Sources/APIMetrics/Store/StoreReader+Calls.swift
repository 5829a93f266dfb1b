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
    /// Visits the blocks of calls that may hold calls in `from..<to`, the
    /// latest last call first (or the earliest, `ascending`), skipping
    /// those that `upTo` (the latest time wanted), `endpointID`,
    /// `consumerID`, `statusClass`, `serverErrorsOnly` or `anyOfClasses`
    /// (tokens of the `classes` column, one of which must be there) rule out.
    /// `body` gets the block's id, its last call's time and the statement
    /// (columns from 2 on: `columns`), and returns whether to go on.
    static func visitBlocks(
        _ connection: SQLiteConnection, from: Int64, to: Int64, upTo: Int64? = nil, endpointID: Int64? = nil,
        consumerID: Int64? = nil, statusClass: Int? = nil, serverErrorsOnly: Bool = false, anyOfClasses: [String] = [],
        ascending: Bool = false, columns: String = "calls",
        _ body: (Int64, Int64, SQLiteStatement) throws(SQLiteError) -> Bool
    ) throws(SQLiteError) {
        var conditions = ["last_time >= ?1", "first_time < ?2"]
        if !anyOfClasses.isEmpty {
            let alternatives = anyOfClasses.indices.map { "instr(classes, ?\($0 + 6)) > 0" }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if upTo != nil { conditions.append("first_time <= ?3") }
        if endpointID != nil { conditions.append(statusClass == nil ? "instr(endpoints, ?4) > 0" : "instr(classes, ?4) > 0") }
        if consumerID != nil { conditions.append(statusClass == nil ? "instr(consumers, ?5) > 0" : "instr(classes, ?5) > 0") }
        if serverErrorsOnly || statusClass == 5 { conditions.append("server_errors > 0") }
        let statement: SQLiteStatement
        do {
            statement = try connection.prepare(
                "SELECT id, last_time, \(columns) FROM call_blocks WHERE \(conditions.joined(separator: " AND ")) ORDER BY last_time \(ascending ? "ASC" : "DESC")"
            )
        } catch {
            guard error.message.contains("no such table") else { throw error }
            throw SQLiteError(
                code: error.code,
                message: "its log is in the form of an older release: the server converts it when it next opens the store")
        }
        statement.bind(1, from)
        statement.bind(2, to)
        if let upTo { statement.bind(3, upTo) }
        let suffix = statusClass.map { ":\($0)" } ?? ""
        if let endpointID { statement.bind(4, statusClass == nil ? ",\(endpointID)," : ",e\(endpointID)\(suffix),") }
        if let consumerID { statement.bind(5, statusClass == nil ? ",\(consumerID)," : ",c\(consumerID)\(suffix),") }
        for (index, token) in anyOfClasses.enumerated() { statement.bind(Int32(index + 6), token) }
        while try statement.step() {
            guard !connection.isPastDeadline else { throw SQLiteError.interrupted }
            guard try body(statement.int64(0), statement.int64(1), statement) else { break }
        }
    }

    /// The calls of the block in `column` of the current row.
    static func decodeCalls(_ statement: SQLiteStatement, column: Int32 = 2) throws(SQLiteError) -> [StoredCall] {
        let decoded = statement.withBlob(column) { bytes -> Result<[StoredCall], CallBlockDecoder.Failure> in
            do throws(CallBlockDecoder.Failure) { return .success(try CallBlockDecoder.calls(bytes)) } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case let .success(calls): return calls
        case let .failure(failure): throw SQLiteError.corrupt("\(failure)")
        }
    }

    /// Each call of the block in `column` of the current row, the texts
    /// (path, error, trace id) of those below `textsFromStatus` left empty:
    /// for reads that count calls.
    static func forEachCall(
        _ statement: SQLiteStatement, column: Int32 = 2, textsFromStatus: Int64 = .max, _ body: (StoredCall) -> Void
    ) throws(SQLiteError) {
        let failure = statement.withBlob(column) { bytes -> CallBlockDecoder.Failure? in
            do throws(CallBlockDecoder.Failure) {
                try CallBlockDecoder.visitCalls(bytes, textsFromStatus: textsFromStatus, body)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw SQLiteError.corrupt("\(failure)") }
    }

    /// A call's row id: its block's id times 65,536 plus its place (as the `calls` view numbers it).
    static func rowID(block: Int64, index: Int) -> Int64 { block &* 65_536 &+ Int64(index) }

    /// Names of endpoints and consumers by id, read once for a page of calls.
    struct Names {
        var endpoints: [Int64: (method: String, route: String)] = [:]
        /// `nil` for a consumer no longer in `consumers`.
        var consumers: [Int64: String?] = [:]

        init(_ calls: [StoredCall], _ connection: SQLiteConnection) throws(SQLiteError) {
            let endpoint = try connection.prepare("SELECT method, route FROM endpoints WHERE id = ?1")
            let consumer = try connection.prepare("SELECT consumer FROM consumers WHERE id = ?1")
            for call in calls {
                if endpoints[call.endpointID] == nil {
                    endpoint.reset()
                    endpoint.bind(1, call.endpointID)
                    endpoints[call.endpointID] = try endpoint.step() ? (endpoint.text(0), endpoint.text(1)) : ("", "")
                }
                if let id = call.consumerID, consumers[id] == nil {
                    consumer.reset()
                    consumer.bind(1, id)
                    consumers[id] = .some(try consumer.step() ? consumer.text(0) : nil)
                }
            }
        }

        func call(_ stored: StoredCall, rowID: Int64) -> StoreCall {
            let endpoint = endpoints[stored.endpointID] ?? ("", "")
            return StoreCall(
                rowID: rowID, id: stored.id, time: stored.time, method: endpoint.method,
                route: endpoint.route.isEmpty ? nil : endpoint.route, path: stored.path, status: stored.status,
                durationNanoseconds: stored.durationNanoseconds, consumer: stored.consumerID.flatMap { consumers[$0] ?? nil },
                requestBytes: stored.requestBytes, responseBytes: stored.responseBytes, isOutgoing: stored.isOutgoing,
                errorType: stored.errorType, errorMessage: stored.errorMessage)
        }
    }

    /// A page of the log, newest first, and where the next page starts.
    package func calls(
        _ filter: StoreCallFilter, after cursor: StoreCallCursor? = nil, limit: Int = 50
    ) throws(StoreReadError) -> (calls: [StoreCall], next: StoreCallCursor?) {
        try query { connection throws(SQLiteError) in
            var endpointIDs: Set<Int64>?
            if filter.method != nil || filter.route != nil {
                var conditions: [String] = []
                if filter.method != nil { conditions.append("method = ?1") }
                if filter.route != nil { conditions.append("route = ?2") }
                let lookup = try connection.prepare("SELECT id FROM endpoints WHERE \(conditions.joined(separator: " AND "))")
                if let method = filter.method { lookup.bind(1, method) }
                if let route = filter.route { lookup.bind(2, route) }
                var ids: Set<Int64> = []
                while try lookup.step() { ids.insert(lookup.int64(0)) }
                guard !ids.isEmpty else { return ([], nil) }
                endpointIDs = ids
            }
            var consumerID: Int64?
            if let consumer = filter.consumer {
                let lookup = try connection.prepare("SELECT id FROM consumers WHERE consumer = ?1 AND id > 0")
                lookup.bind(1, consumer)
                guard try lookup.step() else { return ([], nil) }
                consumerID = lookup.int64(0)
            }
            let statusRange: Range<Int>? =
                if let status = filter.status { status..<status + 1 } else if let statusClass = filter.statusClass {
                    statusClass == 0 ? 0..<1 : statusClass * 100..<statusClass * 100 + 100
                } else { nil }
            let part = filter.pathContains.flatMap { $0.isEmpty ? nil : BytePattern($0) }
            func matches(_ call: StoredCall, rowID: Int64) -> Bool {
                guard call.time >= filter.range.from, call.time < filter.range.to else { return false }
                if let cursor, !(call.time < cursor.time || (call.time == cursor.time && rowID < cursor.rowID)) { return false }
                if let endpointIDs, !endpointIDs.contains(call.endpointID) { return false }
                if let statusRange, !statusRange.contains(call.status) { return false }
                if let consumerID, call.consumerID != consumerID { return false }
                if let minimum = filter.minimumDurationNanoseconds, call.durationNanoseconds < minimum { return false }
                if let part, !part.isFound(in: call.path) { return false }
                return true
            }
            let page = max(1, min(limit, 1_000))
            var found: [(call: StoredCall, rowID: Int64)] = []
            var waiting: [(call: StoredCall, rowID: Int64)] = []
            // Calls later than a block's last call are all found: the blocks
            // still to come end at or before it.
            func settle(above time: Int64) {
                guard !waiting.isEmpty else { return }
                waiting.sort { ($0.call.time, $0.rowID) > ($1.call.time, $1.rowID) }
                let split = waiting.firstIndex { $0.call.time <= time } ?? waiting.endIndex
                found.append(contentsOf: waiting[..<split])
                waiting.removeSubrange(..<split)
            }
            try Self.visitBlocks(
                connection, from: filter.range.from, to: filter.range.to, upTo: cursor?.time,
                endpointID: endpointIDs?.count == 1 ? endpointIDs?.first : nil, consumerID: consumerID,
                statusClass: filter.status.map(CallBlockBuilder.statusClass)
                    ?? filter.statusClass.flatMap { (0...5).contains($0) ? $0 : nil }
            ) { block, lastTime, statement throws(SQLiteError) in
                settle(above: lastTime)
                guard found.count <= page else { return false }
                for (index, call) in try Self.decodeCalls(statement).enumerated() {
                    let rowID = Self.rowID(block: block, index: index)
                    if matches(call, rowID: rowID) { waiting.append((call, rowID)) }
                }
                return true
            }
            settle(above: .min)
            if found.count > page + 1 { found.removeSubrange((page + 1)...) }
            let names = try Names(found.map(\.call), connection)
            var calls = found.map { names.call($0.call, rowID: $0.rowID) }
            var nextCursor: StoreCallCursor?
            if calls.count > page {
                calls.removeLast()
                nextCursor = calls.last.map { StoreCallCursor(time: $0.time, rowID: $0.rowID) }
            }
            return (calls, nextCursor)
        }
    }

    /// A part of a path a read looks for (as SQLite's `instr`, by bytes),
    /// in time linear in the path whatever the part (Knuth–Morris–Pratt):
    /// the part comes from whoever reads the log.
    struct BytePattern {
        let bytes: [UInt8]
        /// For each prefix, the length of its longest proper prefix that is also its suffix.
        private let fallback: [Int]

        init(_ text: String) {
            bytes = Array(text.utf8)
            var fallback = [Int](repeating: 0, count: bytes.count)
            var length = 0
            var index = 1
            while index < bytes.count {
                if bytes[index] == bytes[length] {
                    length += 1
                    fallback[index] = length
                    index += 1
                } else if length > 0 {
                    length = fallback[length - 1]
                } else {
                    index += 1
                }
            }
            self.fallback = fallback
        }

        func isFound(in text: String) -> Bool {
            guard !bytes.isEmpty else { return true }
            var text = text
            return text.withUTF8 { haystack in
                guard bytes.count <= haystack.count else { return false }
                var matched = 0
                for byte in haystack {
                    while matched > 0, bytes[matched] != byte { matched = fallback[matched - 1] }
                    if bytes[matched] == byte { matched += 1 }
                    if matched == bytes.count { return true }
                }
                return false
            }
        }
    }

    /// A call found by its id: its block, its place and its columns.
    struct Located {
        var block: Int64
        var index: Int
        var call: StoredCall
    }

    /// The call with this id. An id made by the library begins with its
    /// call's start in milliseconds: the blocks whose time range holds that
    /// millisecond are read. A call whose id does not carry its time is in
    /// `call_untimed`. Both are index lookups, for any id a client sends.
    static func locate(_ id: EventID, _ connection: SQLiteConnection) throws(SQLiteError) -> Located? {
        let milliseconds = Int64(bitPattern: (id.high >> 16) & 0xFFFF_FFFF_FFFF)
        if milliseconds < Int64.max / 1_000_000 - 1 {
            var found: Located?
            // The earliest ending first: a block that spans the millisecond
            // only by a long call of its own ends later than the call's.
            try visitBlocks(connection, from: milliseconds * 1_000_000, to: (milliseconds + 1) * 1_000_000, ascending: true) {
                block, _, statement throws(SQLiteError) in
                let calls = try decodeCalls(statement)
                if let index = calls.firstIndex(where: { $0.id == id && $0.isTimed }) {
                    found = Located(block: block, index: index, call: calls[index])
                    return false
                }
                return true
            }
            if let found { return found }
        }
        let untimed = try connection.prepare(
            """
            SELECT b.id, b.calls FROM call_untimed u JOIN call_blocks b ON b.id = u.block_id
            WHERE u.event_hi = ?1 AND u.event_lo = ?2
            """)
        untimed.bind(1, Int64(bitPattern: id.high))
        untimed.bind(2, Int64(bitPattern: id.low))
        while try untimed.step() {
            guard !connection.isPastDeadline else { throw SQLiteError.interrupted }
            let calls = try decodeCalls(untimed, column: 1)
            if let index = calls.firstIndex(where: { $0.id == id }) {
                return Located(block: untimed.int64(0), index: index, call: calls[index])
            }
        }
        return nil
    }

    /// One call by its event id, with its parent and the calls it made.
    package func call(id: EventID) throws(StoreReadError) -> StoreCallDetail? {
        try query { connection throws(SQLiteError) in
            guard let located = try Self.locate(id, connection) else { return nil }
            let recordRow = try connection.prepare("SELECT records FROM call_blocks WHERE id = ?1")
            recordRow.bind(1, located.block)
            guard try recordRow.step() else { return nil }
            let bytes = recordRow.withBlob(0) { blob in CallBlockRecords.record(at: located.index, in: blob).map { Array($0) } }
            var reader = BinaryReader(bytes ?? [])
            guard bytes != nil, let version = try? reader.byte(), version <= RecordCodec.version,
                let record = try? reader.record(version: version)
            else {
                throw SQLiteError.corrupt("the call's record cannot be read")
            }
            var parent: Located?
            if let parentID = located.call.parent { parent = try Self.locate(parentID, connection) }
            // The calls it made started while it ran.
            var children: [(call: StoredCall, rowID: Int64)] = []
            // A window of at most an hour and a second: a call that ran longer
            // (a stream) shows the calls it made in its first hour.
            let window = min(max(0, located.call.durationNanoseconds), Self.maxChildWindowNanoseconds) + 1_000_000_000
            let (end, overflow) = located.call.time.addingReportingOverflow(window)
            try Self.visitBlocks(connection, from: located.call.time, to: overflow ? .max : end, ascending: true) {
                block, _, statement throws(SQLiteError) in
                for (index, call) in try Self.decodeCalls(statement).enumerated() where call.parent == id {
                    children.append((call, Self.rowID(block: block, index: index)))
                }
                return true
            }
            children.sort { ($0.call.time, $0.rowID) < ($1.call.time, $1.rowID) }
            if children.count > 200 { children.removeSubrange(200...) }
            let names = try Names([located.call] + (parent.map { [$0.call] } ?? []) + children.map(\.call), connection)
            return StoreCallDetail(
                call: names.call(located.call, rowID: Self.rowID(block: located.block, index: located.index)),
                record: record,
                parent: parent.map { names.call($0.call, rowID: Self.rowID(block: $0.block, index: $0.index)) },
                children: children.map { names.call($0.call, rowID: $0.rowID) })
        }
    }

    /// How long after a call's start the calls it made are looked for (and a second more).
    static let maxChildWindowNanoseconds: Int64 = 3_600_000_000_000

    /// The consumers with the most logged calls to one endpoint.
    package func topConsumers(
        _ range: StoreTimeRange, method: String, route: String, limit: Int = 10
    ) throws(StoreReadError) -> [(consumer: String, name: String?, calls: Int)] {
        try query { connection throws(SQLiteError) in
            let lookup = try connection.prepare("SELECT id FROM endpoints WHERE method = ?1 AND route = ?2")
            lookup.bind(1, method)
            lookup.bind(2, route)
            guard try lookup.step() else { return [] }
            let endpointID = lookup.int64(0)
            var counts: [Int64: Int] = [:]
            try Self.visitBlocks(connection, from: range.from, to: range.to, endpointID: endpointID) {
                _, _, statement throws(SQLiteError) in
                try Self.forEachCall(statement) { call in
                    guard call.endpointID == endpointID, call.time >= range.from, call.time < range.to,
                        let consumer = call.consumerID, consumer > 0
                    else { return }
                    counts[consumer, default: 0] += 1
                }
                return true
            }
            let names = try connection.prepare("SELECT consumer, name FROM consumers WHERE id = ?1")
            var rows: [(consumer: String, name: String?, calls: Int)] = []
            for (id, count) in Self.top(counts, limit: limit) {
                names.reset()
                names.bind(1, id)
                if try names.step() { rows.append((names.text(0), names.optionalText(1), count)) }
            }
            return rows.sorted { ($1.calls, $0.consumer) < ($0.calls, $1.consumer) }.prefix(max(0, limit)).map { $0 }
        }
    }

    /// The endpoints one consumer called most, from the log.
    package func consumerEndpoints(
        _ range: StoreTimeRange, consumer: String, limit: Int = 50
    ) throws(StoreReadError) -> [(method: String, route: String, calls: Int)] {
        try query { connection throws(SQLiteError) in
            let lookup = try connection.prepare("SELECT id FROM consumers WHERE consumer = ?1 AND id > 0")
            lookup.bind(1, consumer)
            guard try lookup.step() else { return [] }
            let consumerID = lookup.int64(0)
            var counts: [Int64: Int] = [:]
            try Self.visitBlocks(connection, from: range.from, to: range.to, consumerID: consumerID) {
                _, _, statement throws(SQLiteError) in
                try Self.forEachCall(statement) { call in
                    guard call.consumerID == consumerID, call.time >= range.from, call.time < range.to else { return }
                    counts[call.endpointID, default: 0] += 1
                }
                return true
            }
            let names = try connection.prepare("SELECT method, route FROM endpoints WHERE id = ?1")
            var rows: [(method: String, route: String, calls: Int)] = []
            for (id, count) in Self.top(counts, limit: limit) {
                names.reset()
                names.bind(1, id)
                if try names.step() { rows.append((names.text(0), names.text(1), count)) }
            }
            return rows.sorted { ($1.calls, $0.route) < ($0.calls, $1.route) }.prefix(max(0, limit)).map { $0 }
        }
    }

    /// The ids with the most counts: the first `limit` and every id tied
    /// with the last of them (the caller orders ties by name).
    static func top(_ counts: [Int64: Int], limit: Int) -> [(Int64, Int)] {
        let sorted = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        guard limit > 0, sorted.count > limit else { return limit > 0 ? sorted : [] }
        let last = sorted[limit - 1].value
        return Array(sorted.prefix { $0.value >= last })
    }
}
