import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Synchronization
import Testing
@testable import APIMetrics

/// The disk spool: its record format against torn and corrupted bytes, its
/// segments on a real directory, and the sender sending it first.
@Suite("Disk spool")
struct SpoolTests {
    private static let identity = ServiceIdentity(service: "spool-test", environment: "test")

    private static func batch(_ exporter: String, events: Int, first: Int = 0) -> UndeliveredBatch {
        UndeliveredBatch(
            exporterName: exporter, reason: .retriesExhausted, message: "test", identity: identity,
            records: (0..<events).map { index in
                ExchangeRecord(
                    id: EventID(high: 7, low: UInt64(first + index + 1)), direction: .incoming,
                    startTimeNanoseconds: 1_700_000_000_000_000_000, durationNanoseconds: 1000,
                    request: RequestHead(method: "GET", target: "/orders/\(first + index)"), response: ResponseHead(status: 200))
            },
            abandonedAtNanoseconds: 1)
    }

    private static func segment(_ payloads: [[UInt8]]) -> [UInt8] {
        SpoolRecord.fileHeader + payloads.flatMap(SpoolRecord.encode)
    }

    // MARK: - Records

    @Test func everyIntactRecordIsReadBack() {
        var random = SeededGenerator(seed: 0x5900)
        for _ in 0..<200 {
            let payloads = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let scan = SpoolRecord.scan(Self.segment(payloads))
            #expect(scan.skipped == 0 && scan.records.map { Array($0.payload) } == payloads)
        }
    }

    /// A write torn at any byte: the records before it are read, the torn
    /// one is skipped, nothing crashes.
    @Test func aRecordTornAtAnyByteCostsThatRecordOnly() {
        let payloads = [[UInt8](repeating: 1, count: 40), Array("second".utf8), [UInt8](repeating: 3, count: 25)]
        let whole = Self.segment(payloads)
        var ends: [Int] = []
        var end = SpoolRecord.fileHeader.count
        for payload in payloads {
            end += SpoolRecord.headerSize + payload.count
            ends.append(end)
        }
        for cut in SpoolRecord.fileHeader.count..<whole.count {
            let scan = SpoolRecord.scan(Array(whole[..<cut]))
            let expected = ends.filter { $0 <= cut }.count
            #expect(scan.records.count == expected, "cut at \(cut)")
            #expect(scan.records.enumerated().allSatisfy { Array($0.element.payload) == payloads[$0.offset] })
        }
    }

    /// A byte changed anywhere: the record holding it is skipped (its
    /// checksum or marker no longer matches), the others are read.
    @Test func aCorruptedByteCostsOnlyItsRecord() {
        let payloads = (0..<4).map { [UInt8](repeating: UInt8($0 + 10), count: 30) }
        let whole = Self.segment(payloads)
        for position in SpoolRecord.fileHeader.count..<whole.count {
            var bytes = whole
            bytes[position] ^= 0x5A
            let scan = SpoolRecord.scan(bytes)
            let recordIndex = (position - SpoolRecord.fileHeader.count) / (SpoolRecord.headerSize + 30)
            let survivors = payloads.enumerated().filter { $0.offset != recordIndex }.map(\.element)
            #expect(scan.records.map { Array($0.payload) } == survivors, "byte \(position)")
            #expect(scan.skipped == 1, "byte \(position)")
        }
    }

    @Test func garbageNeverCrashesTheReader() {
        var random = SeededGenerator(seed: 0x6A7B)
        for _ in 0..<3000 {
            var bytes = SpoolRecord.fileHeader
            for _ in 0..<Int.random(in: 0...200, using: &random) {
                // Markers now and then, so that the reader tries records.
                if Int.random(in: 0..<16, using: &random) == 0 { bytes += SpoolRecord.marker }
                bytes.append(UInt8.random(in: 0...255, using: &random))
            }
            let scan = SpoolRecord.scan(bytes)
            #expect(scan.records.allSatisfy { $0.payload.count <= bytes.count })
        }
        #expect(SpoolRecord.scan(Array("not a spool".utf8)).records.isEmpty)
        #expect(SpoolRecord.scan([]).skipped == 0)
    }

    // MARK: - Segments on disk

    @Test func batchesComeBackOldestFirstPerExporterAndSurviveAReopen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = SpoolOptions(directory: directory.file("spool"), maxBytes: 1 << 20, syncInterval: .zero)
        do {
            let spool = try DiskSpool(options: options)
            for index in 0..<6 { _ = spool.append(Self.batch(index % 2 == 0 ? "a" : "b", events: 3, first: index * 3)) }
            let first = try #require(spool.oldest(for: "a"))
            #expect(spool.read(first)?.records.first?.request.target == "/orders/0")
            spool.acknowledge(first)
            #expect(spool.read(try #require(spool.oldest(for: "a")))?.records.first?.request.target == "/orders/6")
            #expect(spool.counts.pendingEvents == 15 && spool.counts.pendingBatches == 5)
            spool.close()
        }
        // A new process on the same directory: what was taken stays taken.
        let reopened = try DiskSpool(options: options)
        #expect(reopened.counts.pendingEvents == 15)
        var targets: [String] = []
        while let entry = reopened.oldest(for: "a") {
            targets.append(try #require(reopened.read(entry)).records[0].request.target)
            reopened.acknowledge(entry)
        }
        #expect(targets == ["/orders/6", "/orders/12"])
        while let entry = reopened.oldest(for: "b") { reopened.acknowledge(entry) }
        #expect(reopened.counts.pendingEvents == 0)
        reopened.close()
        // Every segment fully taken is deleted.
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.file("spool")).filter { $0.hasSuffix(".spool") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aSecondSpoolOnTheSameDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = SpoolOptions(directory: directory.file("spool"))
        let first = try DiskSpool(options: options)
        #expect(throws: ConfigurationError.self) { _ = try DiskSpool(options: options) }
        do {
            _ = try DiskSpool(options: options)
        } catch {
            #expect(error.field == "spool.directory" && error.reason.contains("in use by another process"), "\(error)")
        }
        first.close()
        _ = first  // the lock is held until the spool goes away
    }

    @Test func aFullSpoolDeletesItsOldestSegmentsAndCountsThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = SpoolOptions(directory: directory.file("spool"), maxBytes: SpoolOptions.minimumBytes, syncInterval: .zero)
        let spool = try DiskSpool(options: options)
        var evicted = 0
        var spooled = 0
        for index in 0..<200 {
            let outcome = spool.append(Self.batch("a", events: 4, first: index * 4))
            evicted += outcome.evictedEvents
            if outcome.isSpooled { spooled += 4 }
        }
        let counts = spool.counts
        #expect(counts.bytes <= SpoolOptions.minimumBytes)
        #expect(
            evicted > 0 && spooled - evicted == counts.pendingEvents,
            "spooled \(spooled), evicted \(evicted), left \(counts.pendingEvents)")
        // What is left is the newest, oldest first.
        let entry = try #require(spool.oldest(for: "a"))
        let first = try #require(spool.read(entry)).records[0].request.target
        #expect(first == "/orders/\(evicted)")
    }

    @Test func aTornTailFromACrashIsSkippedAndCounted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        do {
            let spool = try DiskSpool(options: options)
            for index in 0..<3 { _ = spool.append(Self.batch("a", events: 2, first: index * 2)) }
            spool.close()
        }
        let segment = DiskSpool.segmentPath(directory.file("spool"), 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: segment))
        let reopened = try DiskSpool(options: options)
        #expect(reopened.counts.pendingEvents == 4 && reopened.counts.corruptRecords == 1)
    }

    // MARK: - Through the sender

    /// The collector refuses for longer than the retry budget, then comes
    /// back: every event arrives exactly once, in the order recorded.
    @Test func aCollectorDownPastTheRetryBudgetLosesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let collector = try TestCollector { $0 < 12 ? .status(503) : .status(200) }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), jitter: 0)
        config.batching.maxEvents = 5
        config.spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let background = Task { try await metrics.run() }
        for index in 0..<60 {
            recordExchange(metrics.recorder, target: "/orders/\(index)")
            if index % 5 == 4 { await clock.run(for: .milliseconds(15)) }
        }
        #expect(await clock.run { metrics.statistics.exported == 60 }, "\(metrics.statistics)")
        background.cancel()
        let report = await clock.shutdown(metrics, timeout: .seconds(10))
        let targets = collector.acceptedEvents.compactMap { ($0["request"] as? [String: Any])?["path"] as? String }
        #expect(targets == (0..<60).map { "/orders/\($0)" }, "\(targets)")
        #expect(report.statistics.spooled > 0 && report.statistics.failed == 0 && report.statistics.spoolPending == 0)
    }

    /// A batch spooled whole, read back for an exporter that takes fewer
    /// events a request (its limit came with a newer version, say): sent in
    /// pieces within the limit, nothing lost or refused.
    @Test func aSpooledBatchOverTheExportersLimitGoesInPieces() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        try await Self.spoolThirtyCallsWhole(spool)

        let limited = CollectingExporter(limits: ExportBatchLimits(maxEvents: 4))
        var second = testConfiguration([.custom(limited)])
        second.spool = spool
        let clock = TestClock()
        let up = try APIMetricsService(configuration: second, clock: clock)
        let upRunner = Task { try await up.run() }
        recordExchange(up.recorder, target: "/orders/30")
        #expect(await clock.run { limited.events.count == 31 }, "\(up.statistics)")
        let report = await clock.shutdown(up, timeout: .seconds(10))
        try await upRunner.value
        #expect(limited.received.allSatisfy { $0.records.count <= 4 })
        #expect(Set(limited.events.map(\.record.request.path)) == Set((0..<31).map { "/orders/\($0)" }))
        #expect(report.statistics.failed == 0 && report.statistics.spoolPending == 0)
    }

    /// Pieces of a spooled batch get one attempt each: when one fails, it
    /// and those behind it go back to the spool (the pieces delivered are
    /// not sent again), and all arrive once the destination is back.
    @Test func aPieceThatFailsGoesBackToTheSpoolWithThoseBehindIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        try await Self.spoolThirtyCallsWhole(spool)

        // The third request fails once; everything else is taken.
        let flaky = CollectingExporter(limits: ExportBatchLimits(maxEvents: 4)) { $0 == 2 ? .retryable("blip") : nil }
        var second = testConfiguration([.custom(flaky)])
        second.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(5), jitter: 0)
        second.batching = .init(maxEvents: 30, flushInterval: .milliseconds(20))
        second.spool = spool
        let clock = TestClock()
        let up = try APIMetricsService(configuration: second, clock: clock)
        let upRunner = Task { try await up.run() }
        for index in 30..<33 {
            recordExchange(up.recorder, target: "/orders/\(index)")
            await clock.run(for: .milliseconds(30))
        }
        #expect(await clock.run { flaky.events.count >= 33 }, "\(up.statistics)")
        let report = await clock.shutdown(up, timeout: .seconds(10))
        try await upRunner.value
        let paths = flaky.events.map(\.record.request.path)
        #expect(paths.count == 33 && Set(paths) == Set((0..<33).map { "/orders/\($0)" }), "\(paths)")
        #expect(flaky.received.allSatisfy { $0.records.count <= 4 })
        #expect(report.statistics.failed == 0 && report.statistics.spoolPending == 0)
        #expect(report.statistics.spooled <= 33, "the pieces put back are not counted as spooled again")
    }

    /// The spool's retries wait as the destination asks: after a spooled
    /// batch's attempt gets `Retry-After: 45`, the spool is not tried again
    /// until 45 s later on the sender's clock (the policy's own backoff is
    /// 5 ms), however many rounds pass before.
    @Test func theSpoolWaitsForRetryAfterBeforeItsNextTry() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock()
        let second: Int64 = 1_000_000_000
        // The batch's own attempt fails (it goes to the spool), then the
        // spool's first try is told to wait 45 s, then all is well.
        let exporter = CollectingExporter { attempt in
            attempt == 0 ? .retryable("down") : attempt == 1 ? .retryable("busy", after: .seconds(45)) : nil
        }
        var config = testConfiguration([.custom(exporter)])
        config.retry = RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(5), maxDelay: .milliseconds(5), jitter: 0)
        config.batching = .init(maxEvents: 10, flushInterval: .seconds(1))
        config.spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        let told = Mutex<[String]>([])
        config.diagnostics = .custom(minimumLevel: .warning) { message in told.withLock { $0.append(message.text) } }
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        _ = await clock.sleeper(after: start)
        recordExchange(metrics.recorder, target: "/orders/1")
        // Round 1: the batch fails and is spooled. Round 2: the spool's try gets Retry-After.
        clock.advance(by: .seconds(1))
        #expect(await eventually { metrics.statistics.spooled == 1 })
        clock.advance(by: .seconds(1))
        // Once the sender has set the spool's next try (the clock stays put till then).
        #expect(await eventually { told.withLock { $0.contains { $0.contains("its spool is tried again in 45") } } })
        #expect(exporter.attemptCount == 2)
        let toldAt = clock.now()
        // Rounds up to a nanosecond before the 45 s: no try.
        var rounds = 0
        while clock.now() < toldAt + 45 * second - 1 {
            let next = try #require(await clock.sleeper(after: clock.now()))
            clock.advance(to: min(next, toldAt + 45 * second - 1))
            rounds += 1
        }
        // The round the last move woke has run once the sender sleeps again.
        _ = try #require(await clock.sleeper(after: clock.now()))
        #expect(rounds >= 44)
        #expect(exporter.attemptCount == 2)
        clock.advance(to: toldAt + 45 * second)
        #expect(await eventually { exporter.events.count == 1 })
        #expect(exporter.attemptCount == 3)
        let report = await metrics.shutdown(timeout: .seconds(10))
        try await runner.value
        #expect(report.statistics.exported == 1 && report.statistics.spoolPending == 0)
    }

    /// Thirty calls spooled as one batch by a service whose only exporter
    /// (named `collecting`, as the next one is) is down; the service stopped.
    private static func spoolThirtyCallsWhole(_ spool: SpoolOptions) async throws {
        var config = testConfiguration([.custom(CollectingExporter { _ in .retryable("down") })])
        config.retry = RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(5), maxDelay: .milliseconds(5), jitter: 0)
        config.batching = .init(maxEvents: 30, flushInterval: .seconds(60))
        config.spool = spool
        let clock = TestClock()
        let down = try APIMetricsService(configuration: config, clock: clock)
        let downRunner = Task { try await down.run() }
        for index in 0..<30 { recordExchange(down.recorder, target: "/orders/\(index)") }
        #expect(await clock.run { down.statistics.spooled == 30 }, "\(down.statistics)")
        await clock.shutdown(down, timeout: .seconds(10))
        try await downRunner.value
    }
}
