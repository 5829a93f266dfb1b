@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// Records `count` calls spread over consumers and statuses; returns how
/// many of each status were sent.
@discardableResult
func recordStoreTraffic(_ metrics: APIMetricsService, count: Int, offset: Int = 0) -> [Int: Int] {
    var statuses: [Int: Int] = [:]
    for n in offset..<(offset + count) {
        let status = n % 10 == 0 ? 500 : (n % 7 == 0 ? 404 : 200)
        statuses[status, default: 0] += 1
        var headers: HeaderFields = ["x-customer-id": n % 3 == 0 ? "acme" : "globex", "authorization": "Bearer secret-\(n)"]
        headers.append(name: "content-type", value: "application/json")
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: n % 4 == 0 ? "POST" : "GET", target: "/orders/\(n)?token=t\(n)", headers: headers, route: "/orders/{id}"))
        exchange.recordRequestBody(Array(#"{"password":"hunter2","n":\#(n)}"#.utf8))
        exchange.recordResponseHead(ResponseHead(status: status, headers: ["content-type": "application/json"]))
        exchange.recordResponseBody(Array(#"{"id":\#(n)}"#.utf8))
        exchange.finish()
    }
    return statuses
}

func storeConfiguration(_ path: String, options: (inout StoreOptions) -> Void = { _ in }) -> APIMetricsConfiguration {
    var store = StoreOptions(path: path)
    options(&store)
    var config = testConfiguration([.store(store)])
    config.identifyConsumer = .header("x-customer-id")
    config.capture.isBodyCaptureEnabled = true
    config.metrics.interval = .seconds(1)
    return config
}

/// Runs `sqlite3` (the real command-line shell) on a file; returns its output.
func sqlite3(_ path: String, _ sql: String, writing: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = (writing ? [] : ["-readonly"]) + [path, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A store as the release before blocks of calls left it: schema 6, the
/// calls in a table, a row each with its record.
func makeStoreOfSchemaSix(_ path: String, records: [ExchangeRecord]) throws {
    let connection = try SQLiteConnection(path: path, readOnly: false)
    _ = try connection.integer("PRAGMA journal_mode = WAL")
    for step in 0..<6 { try connection.execute(StoreSchema.migrations[step]) }
    try connection.execute("PRAGMA application_id = \(StoreSchema.applicationID); PRAGMA user_version = 6")
    let endpoint = try connection.prepare("INSERT OR IGNORE INTO endpoints(method, route) VALUES (?1, ?2)")
    let insert = try connection.prepare(
        """
        INSERT INTO calls(time, event_hi, event_lo, parent_hi, parent_lo, direction, endpoint_id, status, duration, path,
            request_bytes, response_bytes, consumer_id, error_type, error_message, trace_id, record)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT id FROM endpoints WHERE method = ?18 AND route = ?19), ?7, ?8, ?9, ?10, ?11,
            NULL, ?12, ?13, ?14, ?15)
        """)
    for record in records {
        endpoint.bind(1, record.request.method)
        endpoint.bind(2, record.request.route ?? "")
        try endpoint.run()
        var writer = BinaryWriter()
        writer.byte(RecordCodec.version)
        writer.record(record, keepingSessionToken: false)
        insert.bind(1, record.startTimeNanoseconds)
        insert.bind(2, Int64(bitPattern: record.id.high))
        insert.bind(3, Int64(bitPattern: record.id.low))
        insert.bind(4, record.parentID.map { Int64(bitPattern: $0.high) })
        insert.bind(5, record.parentID.map { Int64(bitPattern: $0.low) })
        insert.bind(6, record.direction == .incoming ? 0 : 1)
        insert.bind(7, record.response?.status ?? 0)
        insert.bind(8, record.durationNanoseconds)
        insert.bind(9, record.request.target)
        insert.bind(10, record.requestBody.size)
        insert.bind(11, record.responseBody.size)
        insert.bind(12, record.errors.first?.type)
        insert.bind(13, record.errors.first?.message)
        insert.bind(14, record.traceID)
        insert.bind(15, blob: writer.bytes)
        insert.bind(18, record.request.method)
        insert.bind(19, record.request.route ?? "")
        try insert.run()
    }
}

@Suite("The local store")
struct StoreTests {
    @Test func callsWindowsAndConsumersAreWrittenAndReadBack() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let metrics = try APIMetricsService(configuration: storeConfiguration(path))
        let runner = Task { try await metrics.run() }
        let statuses = recordStoreTraffic(metrics, count: 60)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        #expect(metrics.statistics.failed == 0)

        let reader = try StoreReader(path: path)
        let now = CaptureClock.wallNanoseconds()
        let range = StoreTimeRange.last(seconds: 3_600, now: now + 1_000_000_000)
        let totals = try reader.totals(range)
        #expect(totals.requests == 60)
        #expect(totals.serverErrors == statuses[500])
        #expect(totals.clientErrors == statuses[404])
        #expect(totals.latency.count == 60)
        let endpoints = try reader.endpoints(range)
        #expect(Set(endpoints.map { "\($0.method) \($0.route)" }) == ["GET /orders/{id}", "POST /orders/{id}"])
        #expect(endpoints.reduce(0) { $0 + $1.figures.requests } == 60)
        #expect(endpoints.flatMap(\.statuses).reduce(0) { $0 + $1.value } == 60)
        let points = try reader.points(range, resolutionSeconds: 60)
        #expect(points.reduce(0) { $0 + $1.figures.requests } == 60)
        let (consumers, anonymous, _, _) = try reader.consumers(range)
        #expect(consumers.map(\.id).sorted() == ["acme", "globex"])
        #expect(consumers.reduce(0) { $0 + $1.requests } + anonymous == 60)

        // The log: every call once, filters, paging.
        var filter = StoreCallFilter(range: range)
        filter.consumer = "acme"
        filter.statusClass = 5
        let acmeErrors = try reader.calls(filter)
        #expect(acmeErrors.calls.count == (0..<60).filter { $0 % 3 == 0 && $0 % 10 == 0 }.count)
        #expect(acmeErrors.calls.allSatisfy { $0.consumer == "acme" && $0.status == 500 })
        var seen: [StoreCall] = []
        var cursor: StoreCallCursor?
        repeat {
            let page = try reader.calls(StoreCallFilter(range: range), after: cursor, limit: 7)
            seen += page.calls
            cursor = page.next
        } while cursor != nil
        #expect(seen.count == 60)
        #expect(Set(seen.map(\.id)).count == 60)
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.time >= $1.time })

        // Each row's columns and its record are one call's (sixteen calls
        // share a statement, each with its own parameters).
        for call in seen {
            let detail = try #require(try reader.call(id: call.id))
            #expect(detail.record.id == call.id)
            #expect(detail.record.startTimeNanoseconds == call.time)
            #expect(detail.record.request.target == call.path)
            #expect(detail.record.response?.status == call.status)
            #expect(detail.record.consumer?.id == call.consumer)
            #expect(detail.record.requestBody.size == call.requestBytes)
        }

        // One call: redacted as the exporters get it.
        let one = try #require(seen.first)
        let detail = try #require(try reader.call(id: one.id))
        #expect(detail.record.request.headers["authorization"] == "[REDACTED]")
        #expect(detail.call.path.contains("token=[REDACTED]"))
        #expect(!String(decoding: detail.record.requestBody.bytes, as: UTF8.self).contains("hunter2"))
        #expect(detail.record.sessionToken == nil)

        // The file as sqlite3 itself reads it.
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "60")
        #expect(try sqlite3(path, "PRAGMA integrity_check") == "ok")
        #expect(try sqlite3(path, "SELECT sum(requests) FROM metrics WHERE tier = 0 AND series_id = 0") == "60")
        // The README's three queries, as a user pastes them into the shell.
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"),
            encoding: .utf8)
        // After a newline: an argument that begins with the comment's `--` is an option to `sqlite3`.
        let queries = readme.components(separatedBy: "```sql").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(queries.count == 3)
        if queries.count == 3 {
            let slowest = try sqlite3(path, queries[0]).split(separator: "\n")
            let milliseconds = slowest.compactMap { $0.split(separator: "|").last.flatMap { Double($0) } }
            #expect(slowest.count == 10 && milliseconds.count == 10 && milliseconds == milliseconds.sorted(by: >), "\(slowest)")
            let perConsumer = try sqlite3(path, queries[1])
            #expect(perConsumer.contains("|acme|20") && perConsumer.contains("|globex|40"), "\(perConsumer)")
            let perEndpoint = try sqlite3(path, queries[2])
            #expect(perEndpoint.contains("GET|/orders/{id}|") && perEndpoint.contains("POST|/orders/{id}|"), "\(perEndpoint)")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aRestartKeepsTheHistoryAndShowsTheDowntimeBetweenRuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        // Two runs on clocks of their own: the first from 10 s ago, the second 4 s after it stopped.
        var wall = CaptureClock.wallNanoseconds() - 10_000_000_000
        for run in 0..<2 {
            var config = storeConfiguration(path)
            config.instanceID = "instance-a"
            let clock = TestClock(wallOrigin: wall)
            let metrics = try APIMetricsService(configuration: config, clock: clock)
            let runner = Task { try await metrics.run() }
            recordStoreTraffic(metrics, count: 20, offset: run * 20)
            // Two heartbeats a run, a second apart.
            await clock.run(for: .milliseconds(2_300))
            await clock.shutdown(metrics, timeout: .seconds(30))
            try await runner.value
            wall = clock.wallNow() + 4_000_000_000
        }
        let reader = try StoreReader(path: path)
        let now = CaptureClock.wallNanoseconds()
        let range = StoreTimeRange.last(seconds: 86_400, now: now)
        #expect(try reader.totals(range).requests == 40)
        let uptime = try reader.uptime(range, now: now)
        #expect(uptime.runs.count == 2)
        // The downtime between the runs is one gap (a loaded machine may delay a heartbeat into another).
        let between = uptime.gaps.filter { $0.from < uptime.runs[1].startedAt && $0.to > uptime.runs[0].lastSeen }
        #expect(between.count == 1, "\(uptime.gaps) \(uptime.runs)")
        if let gap = between.first {
            #expect(gap.from >= uptime.runs[0].startedAt && gap.to <= uptime.runs[1].startedAt + 1_000_000_000)
            #expect(gap.to - gap.from >= 3_000_000_000)
        }
        #expect((uptime.ratio ?? 1) < 1)
    }

    @Test func aFileThatIsNoStoreIsAConfigurationErrorAndIsLeftAsItWas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("notes.txt")
        try Data("my notes, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try APIMetricsService(configuration: storeConfiguration(path))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "exporters[0].path" && error.reason.contains("not an APIMetrics store")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "my notes, not a database\n")
        // Nor a link.
        let link = directory.file("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory.file("elsewhere.sqlite"))
        #expect(throws: ConfigurationError.self) { _ = try APIMetricsService(configuration: storeConfiguration(link)) }
        #expect(!FileManager.default.fileExists(atPath: directory.file("elsewhere.sqlite")))
    }

    @Test func aCorruptStoreIsMovedAsideAndAFreshOneStarted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        do {
            let metrics = try APIMetricsService(configuration: storeConfiguration(path))
            let runner = Task { try await metrics.run() }
            recordStoreTraffic(metrics, count: 200)
            await metrics.shutdown(timeout: .seconds(30))
            try await runner.value
        }
        // Damage every page after the first (the header stays an APIMetrics store's).
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4_096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4_096))
        try handle.close()
        // As after kill -9: the file says it was not closed, so it is checked.
        _ = try sqlite3(path, "SELECT 1")
        let warnings = DiagnosticsCollector()
        var config = storeConfiguration(path)
        config.diagnostics = warnings.diagnostics
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        recordStoreTraffic(metrics, count: 10)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        let moved = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains(".corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm")
        }
        #expect(moved.count == 1, "\((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])")
        #expect(warnings.messages.contains { $0.contains("was corrupt") && $0.contains("moved to") }, "\(warnings.messages)")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "10")
        #expect(try sqlite3(path, "PRAGMA integrity_check") == "ok")
    }

    @Test func aSecondWriterIsLockedOutAndCountsItsCallsAsDropped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let first = try APIMetricsService(configuration: storeConfiguration(path))
        let firstRunner = Task { try await first.run() }
        recordStoreTraffic(first, count: 5)
        #expect(await eventually { first.statistics.exported == 5 })
        let warnings = DiagnosticsCollector()
        var config = storeConfiguration(path)
        config.diagnostics = warnings.diagnostics
        let second = try APIMetricsService(configuration: config)
        let secondRunner = Task { try await second.run() }
        recordStoreTraffic(second, count: 7)
        await second.shutdown(timeout: .seconds(30))
        try await secondRunner.value
        #expect(second.statistics.failed == 7)
        #expect(warnings.messages.contains { $0.contains("being written by another process") }, "\(warnings.messages)")
        await first.shutdown(timeout: .seconds(30))
        try await firstRunner.value
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "5")
    }

    @Test func aFullStoreDropsCallsCountedAndKeepsTheWindowsUntilTheyCanBeWritten() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e", instanceID: "i")
        let now = CaptureClock.wallNanoseconds()
        func batch(_ calls: Int, requests: Int) -> ExportBatch {
            let records = (0..<calls).map { n in
                ExchangeRecord(
                    id: EventID(high: UInt64(n + 1), low: UInt64(requests)), direction: .incoming, startTimeNanoseconds: now,
                    durationNanoseconds: 1_000_000, request: RequestHead(method: "GET", target: "/x/\(n)", route: "/x/{n}"),
                    requestBody: CapturedBody(bytes: Array(repeating: 0x61, count: 2_000), size: 2_000),
                    response: ResponseHead(status: 200))
            }
            var latency = LatencySketch()
            latency.add(nanoseconds: 1_000_000, count: UInt64(requests))
            let window = MetricsWindow(
                startNanoseconds: now, endNanoseconds: now + 1,
                series: [
                    SeriesMetrics(
                        key: SeriesKey(method: "GET", route: "/x/{n}", status: 200), requests: requests, latency: latency)
                ])
            return ExportBatch(identity: identity, records: records, sentAtNanoseconds: now, metrics: window)
        }
        try await writer.exportCommitted(batch(10, requests: 10))
        // Now the "disk" is full: the page limit is what the file holds.
        let pages = await writer.runForTesting { state in (try? state.connection?.integer("PRAGMA page_count")) ?? 0 }
        _ = await writer.runForTesting { state in try? state.connection?.integer("PRAGMA max_page_count = \(pages)") }
        try await writer.exportCommitted(batch(50, requests: 50))
        var status = writer.currentStatus
        #expect(status.droppedCalls == 50)
        #expect(status.pendingWindows == 1)
        #expect(status.lastError?.contains("full") == true)
        // Room again: the kept window is written with the next batch.
        _ = await writer.runForTesting { state in try? state.connection?.integer("PRAGMA max_page_count = 1000000") }
        try await writer.exportCommitted(batch(5, requests: 5))
        status = writer.currentStatus
        #expect(status.pendingWindows == 0)
        #expect(status.lastError == nil)
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "15")
        #expect(try sqlite3(path, "SELECT sum(requests) FROM metrics WHERE tier = 0 AND series_id = 0") == "65")
    }

    @Test func retentionByBytesDeletesTheOldestCallsAndKeepsTheFileUnderItsLimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, maxBytes: 1 << 20), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let start = CaptureClock.wallNanoseconds() - 1_000_000_000_000
        for round in 0..<20 {
            let records = (0..<100).map { n in
                ExchangeRecord(
                    id: EventID(high: UInt64(round * 1_000 + n + 1), low: 7), direction: .incoming,
                    startTimeNanoseconds: start + Int64(round * 100 + n) * 1_000_000, durationNanoseconds: 1_000,
                    request: RequestHead(method: "GET", target: "/x", route: "/x"),
                    response: ResponseHead(status: 200),
                    responseBody: CapturedBody(bytes: Array(repeating: UInt8(ascii: "b"), count: 1_000), size: 1_000))
            }
            try await writer.exportCommitted(ExportBatch(identity: identity, records: records, sentAtNanoseconds: start))
        }
        // Retention ran before the commits that would have passed 90% of the limit.
        let deleted = writer.currentStatus.retiredCalls
        #expect(deleted > 0)
        #expect(writer.currentStatus.droppedCalls == 0)
        await writer.shutdown()
        let kept = Int(try sqlite3(path, "SELECT count(*) FROM calls")) ?? -1
        #expect(kept > 0 && kept + deleted == 2_000)
        // The newest were kept.
        #expect(try sqlite3(path, "SELECT max(time) FROM calls") == "\(start + Int64(1_999) * 1_000_000)")
        #expect(StoreFile.bytesOnDisk(path) <= 1 << 20)
    }

    @Test func aCallIsFoundByItsIdThroughItsTimeOrTheIndexOfCallsWhoseIdsDoNotCarryIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let identity = ServiceIdentity(service: "s", environment: "e")
        let ids = EventIDGenerator()
        let now = CaptureClock.wallNanoseconds()
        func record(_ id: EventID, at time: Int64, parent: EventID? = nil) -> ExchangeRecord {
            var record = ExchangeRecord(
                id: id, direction: parent == nil ? .incoming : .outgoing, startTimeNanoseconds: time, durationNanoseconds: 1_000,
                request: RequestHead(method: "GET", target: "/x", route: "/x"), response: ResponseHead(status: 200))
            record.parentID = parent
            return record
        }
        // A store of the release before the log was kept in blocks (schema
        // 6), its calls in a table as that release wrote them; one with an id
        // as an earlier release made it (random, no time in it).
        let untimed = EventID(high: 0xFFFF_0123_4567_89AB, low: 42)
        let before = record(untimed, at: now - 5_000_000_000)
        let oldParent = record(ids.next(wallNanoseconds: now - 6_000_000_000), at: now - 6_000_000_000)
        let oldChild = record(ids.next(wallNanoseconds: now - 5_999_000_000), at: now - 5_999_000_000, parent: oldParent.id)
        try makeStoreOfSchemaSix(path, records: [oldParent, oldChild, before])
        // A reader of the file before the writer converts it says why it reads no call.
        #expect(throws: StoreReadError.self) { try StoreReader(path: path).call(id: untimed) }

        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        // Calls of this release: time-ordered ids, one made by another (its parent).
        let parentTime = now - 2_000_000_000
        let parent = record(ids.next(wallNanoseconds: parentTime), at: parentTime)
        let childTime = parentTime + 1_500_000
        let child = record(ids.next(wallNanoseconds: childTime), at: childTime, parent: parent.id)
        // The same millisecond as the parent, another id: not to be found in its place.
        let neighbour = record(EventID(high: parent.id.high, low: parent.id.low &+ 1), at: parentTime)
        // Handed over with a time of its own (`Recorder.record(_:)`), and one
        // whose time is a nanosecond past its id's millisecond.
        let handed = record(ids.next(wallNanoseconds: now - 60_000_000_000), at: now - 1_000_000_000)
        let edge = (now - 3_000_000_000) / 1_000_000 * 1_000_000 + 999_999
        let early = record(ids.next(wallNanoseconds: edge), at: edge + 1)
        try await writer.exportCommitted(
            ExportBatch(
                identity: identity, records: [parent, neighbour, child, handed, early], sentAtNanoseconds: now))
        await writer.shutdown()
        // The old table's calls are in blocks, the table gone, and `calls` is the view over the blocks.
        #expect(try sqlite3(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'calls_legacy'") == "0")
        #expect(try sqlite3(path, "SELECT type FROM sqlite_schema WHERE name = 'calls'") == "view")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "8")
        #expect(try sqlite3(path, "SELECT count(*) FROM call_blocks") == "2")
        // Only the calls whose ids do not carry their time are in the table of such ids.
        #expect(try sqlite3(path, "SELECT count(*) FROM call_untimed") == "3")

        let reader = try StoreReader(path: path)
        let converted = try #require(try reader.call(id: oldChild.id))
        #expect(converted.parent?.id == oldParent.id)
        #expect(converted.record.request.target == "/x")
        #expect(converted.call.method == "GET" && converted.call.route == "/x")
        #expect(try reader.call(id: oldParent.id)?.children.map(\.id) == [oldChild.id])
        for call in [parent, neighbour, child, handed, early, before, oldParent, oldChild] {
            #expect(try reader.call(id: call.id)?.call.id == call.id)
        }
        let found = try #require(try reader.call(id: child.id))
        #expect(found.parent?.id == parent.id)
        #expect(try reader.call(id: parent.id)?.children.map(\.id) == [child.id])
        // Ids that were never written: in a written millisecond, in none, past any time.
        #expect(try reader.call(id: EventID(high: parent.id.high, low: parent.id.low &+ 2)) == nil)
        #expect(try reader.call(id: ids.next(wallNanoseconds: now)) == nil)
        #expect(try reader.call(id: EventID(high: .max, low: .max)) == nil)
        #expect(try reader.call(id: EventID(high: 0, low: 0)) == nil)
    }

    @Test func aNewStoreHasPagesSizedToItsLimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (maxBytes, pageSize) in [(StoreOptions.defaultMaxBytes, "16384"), (4 << 20, "4096")] {
            let path = directory.file("store-\(maxBytes).sqlite")
            let writer = try StoreWriter(options: StoreOptions(path: path, maxBytes: maxBytes), metricsInterval: .seconds(60))
            try await writer.exportCommitted(
                ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: [], sentAtNanoseconds: 0))
            await writer.shutdown()
            #expect(try sqlite3(path, "PRAGMA page_size") == pageSize)
        }
    }
}

extension StoreWriter {
    /// Hands the batch over and waits for its commit, as the tests that
    /// read the store right after a write need (the writer groups commits).
    func exportCommitted(_ batch: ExportBatch) async throws {
        try await export(batch)
        await flush()
    }
}
