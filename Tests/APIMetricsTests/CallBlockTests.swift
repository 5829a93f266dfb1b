@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// The log's blocks of calls: read back by the library as SQLite's own JSON
/// functions read them (through the `calls` view), in order across blocks
/// whose times overlap, filtered as SQL filters them; hostile blocks are
/// errors, never crashes.
@Suite("Store: blocks of calls")
struct CallBlockTests {
    /// Text with what JSON must escape, and what it need not.
    static func text(_ random: inout SeededGenerator, maxLength: Int = 24) -> String {
        let pieces = ["a", "/", "\"", "\\", "\u{01}", "\n", "\t", "é", "日本", "🙂", "%20", "?q=1", "\u{7F}", "\u{2028}", " "]
        var text = ""
        for _ in 0..<Int.random(in: 0...maxLength, using: &random) { text += pieces.randomElement(using: &random) ?? "a" }
        return text
    }

    /// Calls in several commits whose time ranges overlap, each with fields
    /// drawn at random (statuses 0 and 999 among them).
    static func traffic(_ random: inout SeededGenerator, commits: Int, now: Int64) -> [[ExchangeRecord]] {
        let ids = EventIDGenerator()
        let routes = ["/a", "/b/{id}", "/c"]
        let consumers = ["acme", "globex", "initech", "umbrella"]
        var made: [ExchangeRecord] = []
        return (0..<commits).map { commit in
            (0..<Int.random(in: 1...300, using: &random)).map { _ in
                // Each commit spans 40 s, and starts 10 s after the one before.
                let time =
                    now - 3_600_000_000_000 + Int64(commit) * 10_000_000_000
                    + Int64.random(in: 0..<40_000_000_000, using: &random)
                // One id in ten does not carry its time.
                let id =
                    Int.random(in: 0..<10, using: &random) == 0
                    ? EventID(high: random.next(), low: random.next()) : ids.next(wallNanoseconds: time)
                let status = [0, 200, 201, 204, 301, 404, 422, 500, 503, 999].randomElement(using: &random) ?? 200
                var record = ExchangeRecord(
                    id: id, direction: .incoming, startTimeNanoseconds: time,
                    durationNanoseconds: Int64.random(in: 0..<5_000_000_000, using: &random),
                    request: RequestHead(
                        method: ["GET", "POST"].randomElement(using: &random) ?? "GET", target: "/x/" + text(&random),
                        route: routes.randomElement(using: &random)),
                    response: status == 0 ? nil : ResponseHead(status: status))
                if Int.random(in: 0..<4, using: &random) > 0 {
                    record.consumer = Consumer(id: consumers.randomElement(using: &random) ?? "acme")
                }
                if status >= 500 || Int.random(in: 0..<8, using: &random) == 0 {
                    record.errors = [RecordedError(type: text(&random, maxLength: 6), message: text(&random))]
                }
                if Int.random(in: 0..<3, using: &random) == 0 { record.traceID = text(&random, maxLength: 8) }
                if let parent = made.randomElement(using: &random), Int.random(in: 0..<5, using: &random) == 0 {
                    record.parentID = parent.id
                    record.direction = .outgoing
                }
                made.append(record)
                return record
            }
        }
    }

    /// Every call of `filter`, page after page of `limit`.
    static func walk(_ reader: StoreReader, _ filter: StoreCallFilter, limit: Int) throws -> [StoreCall] {
        var calls: [StoreCall] = []
        var cursor: StoreCallCursor?
        repeat {
            let page = try reader.calls(filter, after: cursor, limit: limit)
            calls += page.calls
            cursor = page.next
        } while cursor != nil
        return calls
    }

    @Test func theLogReadsBackWhatSQLiteReadsThroughTheViewInOrderAndFiltered() async throws {
        var random = SeededGenerator.replayable()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        let commits = Self.traffic(&random, commits: 12, now: now)
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        for records in commits {
            try await writer.exportCommitted(
                ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: records, sentAtNanoseconds: now))
        }
        await writer.shutdown()
        let total = commits.reduce(0) { $0 + $1.count }
        #expect(writer.currentStatus.writtenCalls == total)

        // SQLite's reading of the blocks, through the view, as the peer.
        let peer = try SQLiteConnection(path: path, readOnly: true)
        func viewed(_ condition: String) throws -> [String] {
            let statement = try peer.prepare(
                """
                SELECT c.id, c.time, c.event_hi, c.event_lo, c.status, c.duration, c.path, co.consumer, c.error_type,
                    c.error_message, e.method, e.route
                FROM calls c JOIN endpoints e ON e.id = c.endpoint_id LEFT JOIN consumers co ON co.id = c.consumer_id
                WHERE \(condition) ORDER BY c.time DESC, c.id DESC
                """)
            var rows: [String] = []
            while try statement.step() {
                rows.append(
                    [
                        "\(statement.int64(0))", "\(statement.int64(1))", "\(statement.int64(2))", "\(statement.int64(3))",
                        "\(statement.int64(4))", "\(statement.int64(5))", statement.text(6),
                        statement.optionalText(7) ?? "-", statement.optionalText(8) ?? "-", statement.optionalText(9) ?? "-",
                        statement.text(10), statement.text(11),
                    ].joined(separator: "|"))
            }
            return rows
        }
        func line(_ call: StoreCall) -> String {
            [
                "\(call.rowID)", "\(call.time)", "\(Int64(bitPattern: call.id.high))", "\(Int64(bitPattern: call.id.low))",
                "\(call.status)", "\(call.durationNanoseconds)", call.path, call.consumer ?? "-", call.errorType ?? "-",
                call.errorMessage ?? "-", call.method, call.route ?? "",
            ].joined(separator: "|")
        }
        let reader = try StoreReader(path: path)
        let everything = StoreTimeRange(from: now - 7_200_000_000_000, to: now)
        let all = try Self.walk(reader, StoreCallFilter(range: everything), limit: 97)
        #expect(all.count == total)
        #expect(all.map(line) == (try viewed("1")))
        // Every call's path and error as recorded, escapes and all.
        let written = Dictionary(commits.joined().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(all.allSatisfy { written[$0.id]?.request.target == $0.path })
        #expect(all.allSatisfy { written[$0.id]?.errors.first?.message == $0.errorMessage })

        // Filters, one at a time and together, against the same in SQL.
        let middle = StoreTimeRange(from: now - 3_000_000_000_000, to: now - 3_400_000_000_000 + 1_000_000_000_000)
        var cases: [(StoreCallFilter, String)] = []
        var filter = StoreCallFilter(range: middle)
        cases.append((filter, "c.time >= \(middle.from) AND c.time < \(middle.to)"))
        filter = StoreCallFilter(range: everything)
        filter.consumer = "globex"
        filter.statusClass = 5
        cases.append((filter, "co.consumer = 'globex' AND c.status >= 500 AND c.status < 600"))
        filter = StoreCallFilter(range: everything)
        filter.method = "POST"
        filter.route = "/b/{id}"
        filter.status = 404
        cases.append((filter, "e.method = 'POST' AND e.route = '/b/{id}' AND c.status = 404"))
        filter = StoreCallFilter(range: everything)
        filter.route = "/c"
        filter.statusClass = 0
        cases.append((filter, "e.route = '/c' AND c.status = 0"))
        filter = StoreCallFilter(range: everything)
        filter.status = 999
        filter.consumer = "acme"
        cases.append((filter, "c.status = 999 AND co.consumer = 'acme'"))
        filter = StoreCallFilter(range: middle)
        filter.minimumDurationNanoseconds = 4_000_000_000
        filter.pathContains = "\""
        cases.append(
            (
                filter,
                "c.time >= \(middle.from) AND c.time < \(middle.to) AND c.duration >= 4000000000 AND instr(c.path, '\"') > 0"
            ))
        filter = StoreCallFilter(range: everything)
        filter.method = "GET"
        filter.pathContains = "日本"
        cases.append((filter, "e.method = 'GET' AND instr(c.path, '日本') > 0"))
        filter = StoreCallFilter(range: everything)
        filter.consumer = "nobody"
        cases.append((filter, "co.consumer = 'nobody'"))
        for (filter, condition) in cases {
            let expected = try viewed(condition)
            #expect(try Self.walk(reader, filter, limit: 13).map(line) == expected, "\(condition)")
        }

        // Each call by its id, with its parent and the calls it made.
        for record in commits.joined().shuffled(using: &random).prefix(200) {
            let found = try #require(try reader.call(id: record.id))
            #expect(found.record.request.target == record.request.target)
            #expect(found.parent?.id == record.parentID)
            let made = commits.joined().filter {
                $0.parentID == record.id && $0.startTimeNanoseconds >= record.startTimeNanoseconds
            }
            #expect(
                Set(found.children.map(\.id)).isSuperset(
                    of: made.filter { $0.startTimeNanoseconds <= record.startTimeNanoseconds + record.durationNanoseconds }.map(
                        \.id)))
        }
    }

    @Test func hostileBlocksAreErrorsNotCrashes() throws {
        var random = SeededGenerator.replayable()
        var builder = CallBlockBuilder()
        var calls: [StoredCall] = []
        for index in 0..<20 {
            let call = StoredCall(
                time: Int64(index) * 1_000, id: EventID(high: random.next(), low: random.next()),
                parent: index % 3 == 0 ? EventID(high: .max, low: 0) : nil, isOutgoing: index % 3 == 0,
                endpointID: Int64(index % 4), status: [0, 200, 500, 999][index % 4], durationNanoseconds: .max,
                path: Self.text(&random), requestBytes: index, responseBytes: Int.max, consumerID: index % 2 == 0 ? nil : -1,
                errorType: index % 5 == 0 ? Self.text(&random) : nil, errorMessage: index % 7 == 0 ? Self.text(&random) : nil,
                traceID: index % 4 == 1 ? "" : nil)
            calls.append(call)
            builder.append(call)
        }
        let bytes = Array(builder.finishCalls())
        // What a read skips a block by: every endpoint's and consumer's status classes.
        var classes = CallBlockBuilder()
        for (endpoint, status, consumer) in [(1, 200, 7), (1, 500, 7), (1, 503, nil), (2, 999, 7), (2, 404, 8)]
            as [(Int64, Int, Int64?)]
        {
            var call = calls[0]
            call.endpointID = endpoint
            call.status = status
            call.consumerID = consumer
            classes.append(call)
        }
        #expect(classes.classList == ",e1:2,e1:5,e2:0,e2:4,c7:0,c7:2,c7:5,c8:4,")
        #expect(CallBlockBuilder.idList(classes.endpoints) == ",1,2," && CallBlockBuilder.idList(classes.consumers) == ",7,8,")
        // Statuses from 500 up, as the error groups count them.
        #expect(classes.serverErrors == 3 && classes.count == 5)
        #expect(try bytes.withUnsafeBytes { try CallBlockDecoder.calls($0) } == calls)

        // Every cut of the block, and bytes changed at random: an error or calls, never a trap.
        for end in 0..<bytes.count {
            #expect(throws: CallBlockDecoder.Failure.self) {
                try bytes[..<end].withUnsafeBytes { try CallBlockDecoder.calls($0) }
            }
        }
        for _ in 0..<2_000 {
            var changed = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                changed[Int.random(in: 0..<changed.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = try? changed.withUnsafeBytes { try CallBlockDecoder.calls($0) }
        }
        let hostile = [
            "", "[", "[[]]", "[[1,2,3]]", "[[99999999999999999999,1,1,null,null,0,0,200,0,\"/\",0,0]]",
            "[[1,1,1,null,null,0,0,200,0,\"\\x\",0,0]]",
            "[[1,1,1,null,null,0,0,200,0,\"\u{01}\",0,0]]", "[[1,1,1,null,null,0,0,200,0,\"/\",0,0]] x",
            "[[1,1,1,null,null,0,0,200,0,\"/\",0,0,1,\"a\",\"b\",\"c\",\"d\"]]", "[[1.5,1,1,null,null,0,0,200,0,\"/\",0,0]]",
            String(repeating: "[", count: 100_000),
        ]
        for text in hostile {
            #expect(throws: CallBlockDecoder.Failure.self, "\(text.prefix(60))") {
                try Array(text.utf8).withUnsafeBytes { try CallBlockDecoder.calls($0) }
            }
        }
        // Any status and size reads back as written (a record handed over may carry any).
        let odd = try Array(#"[[1,1,1,null,null,0,0,-1,0,"/",-5,9223372036854775807]]"#.utf8).withUnsafeBytes {
            try CallBlockDecoder.calls($0)
        }
        #expect(odd.first?.status == -1 && odd.first?.requestBytes == -5 && odd.first?.responseBytes == .max)
        // Escapes SQLite writes and the extremes of Int64 are read as it reads them.
        let edge = #"[[-9223372036854775808,9223372036854775807,0,null,null,1,0,200,0,"\ud83d\ude42\ud800\u00e9\/",0,0]]"#
        let read = try Array(edge.utf8).withUnsafeBytes { try CallBlockDecoder.calls($0) }
        #expect(read.first?.time == .min && read.first?.id.high == UInt64(Int64.max) && read.first?.path == "🙂\u{FFFD}é/")

        // Records whose lengths do not add up are not read.
        var records = BinaryWriter()
        records.count(3)
        records.bytes += [1, 2, 3]
        records.count(1 << 40)
        records.bytes.withUnsafeBytes { blob in
            #expect(CallBlockRecords.record(at: 0, in: blob).map(Array.init) == [1, 2, 3])
            #expect(CallBlockRecords.record(at: 1, in: blob) == nil)
            #expect(CallBlockRecords.record(at: 2, in: blob) == nil)
        }
        #expect([UInt8](repeating: 0xFF, count: 12).withUnsafeBytes { CallBlockRecords.record(at: 0, in: $0) } == nil)
    }

    @Test func aStoreOfTheReleaseBeforeIsConvertedABlockAtATimeAndAStopHalfWayLosesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        let ids = EventIDGenerator()
        // 40 calls past the retention period, then 2,500 of the last hour, in the order of their times.
        let records = (0..<2_540).map { n in
            let time = n < 40 ? now - 40 * 86_400_000_000_000 : now - Int64(2_540 - n) * 1_000_000_000
            return ExchangeRecord(
                id: ids.next(wallNanoseconds: time), direction: .incoming, startTimeNanoseconds: time,
                durationNanoseconds: Int64(n), request: RequestHead(method: "GET", target: "/x/\(n)", route: "/x/{n}"),
                response: ResponseHead(status: n % 10 == 0 ? 500 : 200))
        }
        try makeStoreOfSchemaSix(path, records: records)
        var writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        // One block's worth, then a stop.
        await writer.runForTesting { state in
            state.open()
            state.convertLegacyCalls(forNanoseconds: 0)
        }
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM call_blocks") == "1")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "1024")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls_legacy") == "1476")
        // The newest calls first.
        #expect(try sqlite3(path, "SELECT min(time) FROM calls") == "\(now - 1_024 * 1_000_000_000)")

        // The next run goes on after a commit, until the table is gone.
        writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        let new = ExchangeRecord(
            id: ids.next(wallNanoseconds: now), direction: .incoming, startTimeNanoseconds: now, durationNanoseconds: 1,
            request: RequestHead(method: "GET", target: "/new", route: "/new"), response: ResponseHead(status: 200))
        try await writer.exportCommitted(
            ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: [new], sentAtNanoseconds: now))
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'calls_legacy'") == "0")
        #expect(try sqlite3(path, "SELECT count(*), count(DISTINCT event_lo) FROM calls") == "2501|2501")
        let reader = try StoreReader(path: path)
        let range = StoreTimeRange(from: now - 7_200_000_000_000, to: now + 1)
        let all = try Self.walk(reader, StoreCallFilter(range: range), limit: 500)
        let expected = [new.id] + records[40...].reversed().map(\.id)
        #expect(all.count == expected.count && all.map(\.id) == expected)
        #expect(try reader.call(id: records[1_234].id)?.record.request.target == "/x/1234")
    }

    @Test func aPartOfAPathIsFoundAsBytesAreInLinearTime() {
        var random = SeededGenerator.replayable()
        func naive(_ text: String, _ part: String) -> Bool {
            let text = Array(text.utf8), part = Array(part.utf8)
            guard !part.isEmpty else { return true }
            guard part.count <= text.count else { return false }
            return (0...(text.count - part.count)).contains { Array(text[$0..<$0 + part.count]) == part }
        }
        for _ in 0..<5_000 {
            let alphabet = ["a", "b", "ab", "é"]
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" }
                .joined()
            let part = (0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" }
                .joined()
            #expect(StoreReader.BytePattern(part).isFound(in: text) == naive(text, part), "\(part) in \(text)")
        }
        // A part that a naive search compares a thousand times at each byte.
        let path = String(repeating: "a", count: 2_048)
        let part = String(repeating: "a", count: 1_000) + "b"
        #expect(!StoreReader.BytePattern(part).isFound(in: path))
        #expect(StoreReader.BytePattern(String(repeating: "a", count: 2_048)).isFound(in: path))
    }

    @Test func aBlockChangedOnDiskIsAnErrorOfTheReadNotOfTheServer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        var random = SeededGenerator.replayable()
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        let records = Self.traffic(&random, commits: 1, now: now)[0]
        try await writer.exportCommitted(
            ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: records, sentAtNanoseconds: now))
        await writer.shutdown()
        _ = try sqlite3(path, "UPDATE call_blocks SET calls = '[[1,2', records = x'ff'", writing: true)
        let reader = try StoreReader(path: path)
        let range = StoreTimeRange(from: now - 7_200_000_000_000, to: now)
        #expect(throws: StoreReadError.self) { try reader.calls(StoreCallFilter(range: range)) }
        #expect(throws: StoreReadError.self) { try reader.call(id: records[0].id) }
    }
}
