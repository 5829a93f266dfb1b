@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// The store's reader over ranges that cut across its tiers, the log's
/// paging, and what clients that name consumers do to the writer (hostile
/// files and extreme settings: StoreReviewTests+Hostile.swift).
@Suite("Store review")
struct StoreReviewTests {
    /// One window a minute at known minutes, `requests` calls each.
    struct Minute {
        var start: Int64  // seconds since the epoch, minute-aligned
        var requests: Int
    }

    /// Writes one window per minute (a single series) into a fresh writer.
    private func writeMinutes(_ minutes: [Minute], options: StoreOptions) async throws -> StoreWriter {
        let writer = try StoreWriter(options: options, metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e", instanceID: "i")
        for minute in minutes {
            var latency = LatencySketch()
            latency.add(nanoseconds: 1_000_000, count: UInt64(minute.requests))
            let window = MetricsWindow(
                startNanoseconds: minute.start * 1_000_000_000, endNanoseconds: (minute.start + 60) * 1_000_000_000,
                series: [
                    SeriesMetrics(
                        key: SeriesKey(method: "GET", route: "/r", status: 200), requests: minute.requests, latency: latency)
                ])
            try await writer.exportCommitted(
                ExportBatch(identity: identity, records: [], sentAtNanoseconds: minute.start * 1_000_000_000, metrics: window))
        }
        return writer
    }

    /// What a range must count: the minute rows that overlap it, and where
    /// minutes are no longer kept (before `minutesFrom`), the hour rows that
    /// overlap it — each window once.
    private func expected(_ minutes: [Minute], from: Int64, to: Int64, minutesFrom: Int64) -> Int {
        let fromSecond = StoreWriterState.floorSeconds(from)
        let toSecond = StoreWriterState.floorSeconds(to + 999_999_999)
        var total = 0
        for minute in minutes {
            if minute.start >= minutesFrom {
                if minute.start + 60 > fromSecond, minute.start < toSecond { total += minute.requests }
            } else {
                let hour = StoreSchema.Tier.hour.start(ofSecond: minute.start)
                if hour + 3_600 > fromSecond, hour < toSecond { total += minute.requests }
            }
        }
        return total
    }

    private func randomMinutes(around now: Int64, using generator: inout SeededGenerator) -> [Minute] {
        // Three days back from the last whole minute, across hour and day edges.
        let last = StoreSchema.Tier.minute.start(ofSecond: now / 1_000_000_000) - 600
        var starts = Set<Int64>()
        while starts.count < 150 { starts.insert(last - Int64.random(in: 0..<(3 * 1_440), using: &generator) * 60) }
        // Every minute next to an hour's and a day's edge, too.
        let day = StoreSchema.Tier.day.start(ofSecond: last)
        for edge in [day, day - 86_400, StoreSchema.Tier.hour.start(ofSecond: last) - 7_200] {
            for offset in [-120, -60, 0, 60] where edge + Int64(offset) <= last { starts.insert(edge + Int64(offset)) }
        }
        return starts.sorted().map { Minute(start: $0, requests: Int.random(in: 1...9, using: &generator)) }
    }

    private func checkRanges(
        _ reader: StoreReader, _ minutes: [Minute], minutesFrom: Int64, using generator: inout SeededGenerator
    ) throws {
        let low = (minutes.first?.start ?? 0) - 7_200, high = (minutes.last?.start ?? 0) + 7_200
        var failures: [String] = []
        for round in 0..<150 {
            // Whole minutes, whole hours, whole seconds and any nanosecond, mixed.
            func instant() -> Int64 {
                let second = Int64.random(in: low...high, using: &generator)
                switch round % 4 {
                case 0: return StoreSchema.Tier.minute.start(ofSecond: second) * 1_000_000_000
                case 1: return StoreSchema.Tier.hour.start(ofSecond: second) * 1_000_000_000
                case 2: return second * 1_000_000_000
                default: return second * 1_000_000_000 + Int64.random(in: 0..<1_000_000_000, using: &generator)
                }
            }
            var from = instant(), to = instant()
            if from > to { swap(&from, &to) }
            guard from < to else { continue }
            let range = StoreTimeRange(from: from, to: to)
            let want = expected(minutes, from: from, to: to, minutesFrom: minutesFrom)
            let totals = try reader.totals(range).requests
            let endpoints = try reader.endpoints(range).reduce(0) { $0 + $1.figures.requests }
            if totals != want || endpoints != want {
                failures.append("[\(from), \(to)): totals \(totals), endpoints \(endpoints), expected \(want)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) ranges wrong, first: \(failures.prefix(5))")
    }

    @Test func rangesAcrossHourAndDayEdgesCountEveryMinuteOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        var generator = SeededGenerator(seed: 27)
        let now = CaptureClock.wallNanoseconds()
        let minutes = randomMinutes(around: now, using: &generator)
        let writer = try await writeMinutes(
            minutes, options: StoreOptions(path: path, retentionDays: 3_650, minuteResolutionHours: 87_600))
        let reader = try StoreReader(path: path)
        try checkRanges(reader, minutes, minutesFrom: .min, using: &generator)
        await writer.shutdown()
    }

    @Test func rangesAcrossTheEndOfTheMinuteRowsCountEveryMinuteOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        var generator = SeededGenerator(seed: 2_701)
        let now = CaptureClock.wallNanoseconds()
        let minutes = randomMinutes(around: now, using: &generator)
        let writer = try await writeMinutes(
            minutes, options: StoreOptions(path: path, retentionDays: 3_650, minuteResolutionHours: 30))
        _ = await writer.runForTesting { state in (try? state.enforceRetention(nowNanoseconds: now)) ?? -1 }
        let minutesFrom = Int64(try sqlite3(path, "SELECT value FROM meta WHERE key = 'minutes_from'")) ?? .min
        #expect(minutesFrom > minutes[0].start && minutesFrom < minutes[minutes.count - 1].start)
        #expect(try sqlite3(path, "SELECT count(*) FROM metrics WHERE tier = 0 AND start < \(minutesFrom)") == "0")
        let reader = try StoreReader(path: path)
        try checkRanges(reader, minutes, minutesFrom: minutesFrom, using: &generator)
        await writer.shutdown()
    }

    @Test func aReaderOpenBeforeTheStoreWasMovedAsideReadsTheFreshStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, retentionDays: 3_650), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let now = CaptureClock.wallNanoseconds()
        func batch(_ count: Int, from first: Int) -> ExportBatch {
            ExportBatch(
                identity: identity,
                records: (first..<(first + count)).map { n in
                    ExchangeRecord(
                        id: EventID(high: UInt64(n + 1), low: 1), direction: .incoming, startTimeNanoseconds: now,
                        durationNanoseconds: 1_000,
                        request: RequestHead(method: "GET", target: "/x", route: "/x"), response: ResponseHead(status: 200))
                }, sentAtNanoseconds: now)
        }
        try await writer.exportCommitted(batch(30, from: 0))
        // The view's reader, as StoreAccess keeps it for the process's life.
        let reader = try StoreReader(path: path)
        let range = StoreTimeRange(from: now - 1_000, to: now + 1_000)
        #expect(try reader.calls(StoreCallFilter(range: range), limit: 200).calls.count == 30)
        // The writer finds the file corrupt: moved aside, a fresh store in its place.
        let message = await writer.runForTesting { state in
            state.recoverFromCorruption(.corrupt(SQLiteError(code: 11, message: "test")))
        }
        #expect(message.contains("moved to"))
        try await writer.exportCommitted(batch(5, from: 100))
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "5")
        #expect(
            try reader.calls(StoreCallFilter(range: range), limit: 200).calls.count == 5,
            "the reader still reads the file moved aside")
        await writer.shutdown()
    }

    @Test func consumersNamedByClientsDoNotGrowTheWritersMemoryWithoutBound() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, retentionDays: 3_650), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let now = CaptureClock.wallNanoseconds()
        // A client that names a new consumer on every call (a header it sets, a key it makes up).
        // 12,000: past the cache's 10,000.
        for round in 0..<12 {
            let records = (0..<1_000).map { n in
                var record = ExchangeRecord(
                    id: EventID(high: UInt64(round + 1), low: UInt64(n + 1)), direction: .incoming, startTimeNanoseconds: now,
                    durationNanoseconds: 1_000, request: RequestHead(method: "GET", target: "/x", route: "/x"),
                    response: ResponseHead(status: 200))
                record.consumer = Consumer(id: "made-up-\(round)-\(n)")
                return record
            }
            try await writer.exportCommitted(ExportBatch(identity: identity, records: records, sentAtNanoseconds: now))
        }
        let cached = await writer.runForTesting { state in state.consumerIDs.count }
        #expect(cached <= 10_000, "\(cached) consumer ids cached")
        // Each call still names its consumer in the log.
        #expect(try sqlite3(path, "SELECT count(DISTINCT consumer_id) FROM calls") == "12000")
        await writer.shutdown()
    }

    @Test func aConsumersChartBeforeTheMinuteRowsWereRetiredShowsItsCalls() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        let writer = try StoreWriter(
            options: StoreOptions(path: path, retentionDays: 3_650, minuteResolutionHours: 24), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        // Ten windows, three calls of acme's each, 30 hours ago: past the 24 hours minute rows are kept.
        let hour = StoreSchema.Tier.hour.start(ofSecond: now / 1_000_000_000 - 30 * 3_600)
        for minute in 0..<10 {
            let start = (hour + Int64(minute) * 60) * 1_000_000_000
            var latency = LatencySketch()
            latency.add(nanoseconds: 1_000_000, count: 3)
            let window = MetricsWindow(
                startNanoseconds: start, endNanoseconds: start + 60_000_000_000,
                series: [SeriesMetrics(key: SeriesKey(method: "GET", route: "/r", status: 200), requests: 3, latency: latency)],
                consumers: [ConsumerMetrics(id: "acme", requests: 3)])
            try await writer.exportCommitted(
                ExportBatch(identity: identity, records: [], sentAtNanoseconds: start, metrics: window))
        }
        _ = await writer.runForTesting { state in (try? state.enforceRetention(nowNanoseconds: now)) ?? -1 }
        let reader = try StoreReader(path: path)
        let range = StoreTimeRange(from: hour * 1_000_000_000, to: (hour + 3_600) * 1_000_000_000)
        #expect(try reader.consumers(range).consumers.first?.requests == 30)
        #expect(try reader.points(range, resolutionSeconds: range.resolutionSeconds).reduce(0) { $0 + $1.figures.requests } == 30)
        let points = try reader.consumerPoints(range, id: "acme", resolutionSeconds: range.resolutionSeconds)
        #expect(points.reduce(0) { $0 + $1.figures.requests } == 30, "the consumer's chart reads minute rows only")
        await writer.shutdown()
    }

    @Test func consumersNamedByClientsDoNotKeepTheFilePastItsLimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, maxBytes: 1 << 20), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let now = CaptureClock.wallNanoseconds()
        // A new 200-byte consumer id on every call: the ids alone take twice the limit.
        for round in 0..<10 {
            let records = (0..<1_000).map { n in
                var record = ExchangeRecord(
                    id: EventID(high: UInt64(round + 1), low: UInt64(n + 1)), direction: .incoming, startTimeNanoseconds: now,
                    durationNanoseconds: 1_000, request: RequestHead(method: "GET", target: "/x", route: "/x"),
                    response: ResponseHead(status: 200))
                record.consumer = Consumer(id: String(repeating: "k", count: 180) + "-\(round)-\(n)")
                return record
            }
            try await writer.exportCommitted(ExportBatch(identity: identity, records: records, sentAtNanoseconds: now))
        }
        _ = await writer.runForTesting { state in (try? state.enforceRetention(nowNanoseconds: now)) ?? -1 }
        await writer.shutdown()
        #expect(
            StoreFile.bytesOnDisk(path) <= 1 << 20,
            "\(StoreFile.bytesOnDisk(path)) bytes, \((try? sqlite3(path, "SELECT count(*) FROM consumers")) ?? "?") consumers, \((try? sqlite3(path, "SELECT count(*) FROM calls")) ?? "?") calls"
        )
    }

    @Test func aConsumerThatReturnsAfterRetentionDeletedItIsNamedOnItsNewCalls() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, retentionDays: 30), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let now = CaptureClock.wallNanoseconds()
        func call(_ n: UInt64, at time: Int64) -> ExchangeRecord {
            var record = ExchangeRecord(
                id: EventID(high: n, low: 1), direction: .incoming, startTimeNanoseconds: time, durationNanoseconds: 1_000,
                request: RequestHead(method: "GET", target: "/x", route: "/x"), response: ResponseHead(status: 200))
            record.consumer = Consumer(id: "returning")
            return record
        }
        // Last seen 40 days ago: retention deletes its call, then the consumer.
        try await writer.exportCommitted(
            ExportBatch(identity: identity, records: [call(1, at: now - 40 * 86_400_000_000_000)], sentAtNanoseconds: now))
        _ = await writer.runForTesting { state in (try? state.enforceRetention(nowNanoseconds: now)) ?? -1 }
        #expect(try sqlite3(path, "SELECT count(*) FROM consumers WHERE consumer = 'returning'") == "0")
        // Back today.
        try await writer.exportCommitted(ExportBatch(identity: identity, records: [call(2, at: now)], sentAtNanoseconds: now))
        let reader = try StoreReader(path: path)
        var filter = StoreCallFilter(range: StoreTimeRange(from: now - 1_000, to: now + 1_000))
        filter.consumer = "returning"
        #expect(try reader.calls(filter).calls.count == 1, "the new call names a consumer row retention deleted")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls c JOIN consumers co ON co.id = c.consumer_id") == "1")
        await writer.shutdown()
    }

    @Test func pagingThroughCallsThatShareATimestampShowsEachOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path, retentionDays: 3_650), metricsInterval: .seconds(60))
        let identity = ServiceIdentity(service: "s", environment: "e")
        let now = CaptureClock.wallNanoseconds()
        // 250 calls at one instant, 50 each at the instants either side, in batches that interleave them.
        var ids = Set<EventID>()
        for batch in 0..<5 {
            let records = (0..<70).map { n in
                let id = EventID(high: UInt64(batch + 1), low: UInt64(n + 1))
                ids.insert(id)
                let time = n < 50 ? now : (n < 60 ? now - 1 : now + 1)
                return ExchangeRecord(
                    id: id, direction: .incoming, startTimeNanoseconds: time, durationNanoseconds: 1_000,
                    request: RequestHead(method: "GET", target: "/same", route: "/same"), response: ResponseHead(status: 200))
            }
            try await writer.exportCommitted(ExportBatch(identity: identity, records: records, sentAtNanoseconds: now))
        }
        let reader = try StoreReader(path: path)
        let filter = StoreCallFilter(range: StoreTimeRange(from: now - 10, to: now + 10))
        for limit in [1, 7, 50, 249, 250, 251] {
            var seen: [EventID] = []
            var cursor: StoreCallCursor?
            var pages = 0
            repeat {
                let page = try reader.calls(filter, after: cursor, limit: limit)
                seen += page.calls.map(\.id)
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 1_000
            #expect(seen.count == ids.count, "limit \(limit)")
            #expect(Set(seen) == ids, "limit \(limit)")
        }
        await writer.shutdown()
    }
}
