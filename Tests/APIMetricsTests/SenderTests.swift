import Foundation
import Synchronization
import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics

@Suite("Batch sender against a real collector")
struct SenderTests {
    let second: Int64 = 1_000_000_000

    @Test func batchesBySize() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.batching = .init(maxEvents: 50, flushInterval: .seconds(60))
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        for n in 0..<120 { recordExchange(metrics.recorder, target: "/n/\(n)") }
        // Two full batches go without waiting for the minute-long interval.
        #expect(await eventually { exporter.events.count >= 100 })
        #expect(exporter.received.prefix(2).map(\.records.count) == [50, 50])
        await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
        #expect(exporter.events.count == 120)
        #expect(exporter.received.allSatisfy { $0.records.count <= 50 })
        #expect(exporter.events.map(\.record.request.target) == (0..<120).map { "/n/\($0)" })
    }

    /// An exporter's own limits: the sender hands it at most `maxEvents` at
    /// a time, and halves a piece whose bytes the exporter finds too many,
    /// every event arriving once and in order.
    @Test func anExportersLimitsCutTheBatchInPieces() async throws {
        let exporter = CollectingExporter(limits: ExportBatchLimits(maxEvents: 7, maxBytes: 3_000))
        let unlimited = CollectingExporter()
        var config = testConfiguration([.custom(exporter), .custom(unlimited)])
        config.batching = .init(maxEvents: 40, flushInterval: .milliseconds(20))
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let runner = Task { try await metrics.run() }
        // Every fifth call has a long target, so that some pieces of seven pass 3,000 bytes.
        for n in 0..<40 {
            recordExchange(metrics.recorder, target: "/n/\(n)" + (n % 5 == 0 ? "?" + String(repeating: "q", count: 900) : ""))
        }
        #expect(await clock.run { exporter.events.count == 40 && unlimited.events.count == 40 })
        await clock.shutdown(metrics)
        try await runner.value
        #expect(exporter.received.allSatisfy { $0.records.count <= 7 })
        #expect(exporter.received.allSatisfy { $0.schemaV1Lines.events.reduce(0) { $0 + $1.count } <= 3_000 })
        // Some pieces were refused as too large and arrived in halves.
        #expect(exporter.attemptCount > exporter.received.count)
        #expect(exporter.events.map(\.record.request.path) == (0..<40).map { "/n/\($0)" })
        #expect(unlimited.received.contains { $0.records.count > 7 })
    }

    /// When a piece is given up because the destination is down, the
    /// pieces behind it are not tried (each would spend the same retries):
    /// they are given up with it, counted.
    @Test func piecesBehindAPieceGivenUpAreNotTried() async throws {
        let exporter = CollectingExporter(limits: ExportBatchLimits(maxEvents: 4)) { _ in .retryable("down") }
        var config = testConfiguration([.custom(exporter)])
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(5), jitter: 0)
        config.batching = .init(maxEvents: 20, flushInterval: .seconds(60))
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        // Queued before the sender starts: one batch of 20, five pieces.
        for n in 0..<20 { recordExchange(metrics.recorder, target: "/n/\(n)") }
        let runner = Task { try await metrics.run() }
        // The clock moves until the retry is made, and no further: a later
        // round would be another attempt.
        #expect(await clock.run { exporter.attemptCount >= 2 })
        #expect(await eventually { metrics.statistics.failed == 20 }, "\(metrics.statistics)")
        // Counted before shutdown, whose metrics flush is another attempt.
        #expect(exporter.attemptCount == 2, "only the first piece was tried, twice")
        let report = await clock.shutdown(metrics)
        try await runner.value
        #expect(report.statistics.failed == 20 && report.statistics.exported == 0)
    }

    @Test func batchesByTime() async throws {
        let clock = TestClock()
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.batching = .init(maxEvents: 500, flushInterval: .seconds(5))
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        // The sender waits for a full batch or the flush interval.
        #expect(await clock.sleeper(after: start) == start + 5 * second)
        for _ in 0..<3 { recordExchange(metrics.recorder) }
        clock.advance(by: .seconds(5))
        #expect(await eventually { exporter.events.count == 3 })
        #expect(exporter.received.count == 1)
        // The next interval counts from that flush.
        #expect(await clock.sleeper(after: start + 5 * second) == start + 10 * second)
        await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
    }

    @Test func everyEventArrivesExactlyOnceWhenTheFirstThreeBatchesGet503() async throws {
        let collector = try TestCollector { index in index < 3 ? .status(503) : .status(200) }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.batching = .init(maxEvents: 10, flushInterval: .milliseconds(20))
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let runner = Task { try await metrics.run() }
        for n in 0..<25 { recordExchange(metrics.recorder, target: "/orders/\(n)") }
        #expect(await clock.run { collector.acceptedEvents.count >= 25 })
        let report = await clock.shutdown(metrics)
        try await runner.value
        let urls = collector.acceptedEvents.compactMap { ($0["request"] as? [String: Any])?["url"] as? String }
        #expect(urls.count == 25)
        #expect(Set(urls) == Set((0..<25).map { "/orders/\($0)" }))
        #expect(collector.requests.prefix(3).allSatisfy { !$0.isAccepted })
        #expect(report.isComplete)
        #expect(report.statistics.exported == 25)
    }

    /// The wait before a retry is what `Retry-After` asked (7 s), not the
    /// policy's 10 ms backoff, and never more than `maxRetryAfter`.
    @Test(arguments: [("7", 7), ("3600", 120)])
    func retryAfterIsHonoured(asked: String, waited: Int64) async throws {
        let clock = TestClock()
        let collector = try TestCollector { index in
            index == 0 ? .status(429, headers: [("Retry-After", asked)]) : .status(200)
        }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.retry.maxRetryAfter = .seconds(120)
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder)
        let flush = try #require(await clock.sleeper(after: start))
        clock.advance(to: flush)
        // Past the next round's wait: the retry's.
        let retryAt = try #require(await clock.sleeper(after: flush + second))
        #expect(retryAt == flush + waited * second)
        #expect(collector.requests.count == 1)
        clock.advance(to: retryAt)
        #expect(await eventually { collector.acceptedEvents.count == 1 })
        await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
    }

    @Test func aClientErrorIsNotRetriedAndIsReportedAsDropped() async throws {
        let clock = TestClock()
        let collector = try TestCollector { index in index == 0 ? .status(400) : .status(200) }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.batching = .init(maxEvents: 5, flushInterval: .seconds(1))
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        _ = await clock.sleeper(after: start)
        for _ in 0..<5 { recordExchange(metrics.recorder) }
        #expect(await eventually { metrics.statistics.failed == 5 })
        // Given up at once: a retry would wait on the clock, which has not moved.
        #expect(metrics.statistics.retried == 0)
        #expect(collector.requests.count == 1)
        recordExchange(metrics.recorder)
        clock.advance(by: .seconds(1))
        #expect(await eventually { collector.acceptedEvents.count == 1 })
        let accepted = try #require(collector.requests.last)
        #expect(accepted.batch["dropped"] as? Int == 5)
        let report = await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
        #expect(report.statistics.failed == 5)
    }

    @Test func aCollectorThatNeverAnswersCostsBoundedMemoryAndTheDropsAreReported() async throws {
        // The first request hangs until the test lets it go (with a 503);
        // the collector then answers normally.
        let collector = try TestCollector { index in index == 0 ? .hang : .status(200) }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url, timeout: .seconds(60))])
        config.queue = .init(maxEvents: 100, maxBytes: 1 << 20)
        config.batching = .init(maxEvents: 10, flushInterval: .milliseconds(10))
        config.retry = RetryPolicy(maxAttempts: 20, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20), jitter: 0)
        let senderClock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: senderClock)
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder, target: "/first")
        #expect(await senderClock.run { collector.requests.count == 1 })
        // While the sender waits on the hung request, the request path keeps
        // going: recording never blocks, and the queue stays bounded.
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for n in 0..<1000 { recordExchange(metrics.recorder, target: "/n/\(n)") }
        }
        #expect(elapsed < .seconds(5))
        #expect(metrics.statistics.queued <= 100)
        // The queue's 100 are kept, and at most one batch more: the one the
        // sender drains and processes while the export before it waits.
        let dropped = metrics.statistics.dropped
        #expect((890...900).contains(dropped))
        collector.releaseHungRequests()
        #expect(await senderClock.run { collector.acceptedEvents.count == 1 + 1000 - dropped })
        let firstAccepted = try #require(collector.requests.first { $0.isAccepted })
        #expect(firstAccepted.batch["dropped"] as? Int == dropped)
        let report = await senderClock.shutdown(metrics)
        try await runner.value
        #expect(report.statistics.dropped == dropped)
        #expect(report.statistics.exported == 1 + 1000 - dropped)
        #expect(report.unsent == 0)
    }

    @Test func shutdownFlushesEverythingQueued() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.batching = .init(maxEvents: 100, flushInterval: .seconds(60))
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        for _ in 0..<250 { recordExchange(metrics.recorder) }
        // A deadline far past what the flush takes, even with the parallel
        // suite's CPU-bound tests holding the cooperative threads.
        let report = await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
        #expect(collector.acceptedEvents.count == 250)
        #expect(report.isComplete)
        // Intake is closed: later calls are counted as dropped, never sent.
        recordExchange(metrics.recorder)
        #expect(metrics.statistics.dropped == 1)
    }

    @Test func shutdownWithoutRunStillFlushes() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        for _ in 0..<7 { recordExchange(metrics.recorder) }
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.count == 7)
        #expect(report.isComplete)
        // A second shutdown returns the same totals at once.
        let again = await metrics.shutdown(timeout: .seconds(60))
        #expect(again.statistics.exported == 7)
    }

    @Test func shutdownKeepsItsDeadlineWhenTheCollectorHangs() async throws {
        let clock = TestClock()
        let collector = try TestCollector { _ in .hang }
        defer { collector.stop() }
        let metrics = try APIMetricsService(
            configuration: testConfiguration([.http(endpoint: collector.url, timeout: .seconds(600))]), clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        for _ in 0..<5 { recordExchange(metrics.recorder) }
        let shutdown = Task { await metrics.shutdown(timeout: .seconds(30)) }
        // The hung request waits for the deadline on the clock, and only for it.
        #expect(await eventually { collector.requests.count == 1 })
        #expect(await clock.sleeper(after: start) == start + 30 * second)
        clock.advance(by: .seconds(30))
        let report = await shutdown.value
        #expect(report.unsent == 5)
        #expect(!report.isComplete)
        try await runner.value
    }

    @Test func shutdownInterruptsABatchAlreadyInFlight() async throws {
        let clock = TestClock()
        let collector = try TestCollector { _ in .hang }
        defer { collector.stop() }
        let metrics = try APIMetricsService(
            configuration: testConfiguration([.http(endpoint: collector.url, timeout: .seconds(600))]), clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder)
        clock.advance(to: try #require(await clock.sleeper(after: start)))
        #expect(await eventually { collector.requests.count == 1 })
        let inFlight = clock.now()
        let shutdown = Task { await metrics.shutdown(timeout: .seconds(3)) }
        // The export already running learns the deadline when shutdown sets it.
        #expect(await clock.sleeper(after: inFlight + second) == inFlight + 3 * second)
        clock.advance(by: .seconds(3))
        let report = await shutdown.value
        #expect(report.unsent == 1)
        try await runner.value
    }

    @Test func cancellingRunFlushes() async throws {
        let clock = TestClock()
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.batching = .init(maxEvents: 500, flushInterval: .seconds(60))
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        for _ in 0..<9 { recordExchange(metrics.recorder) }
        _ = await clock.sleeper(after: start)
        runner.cancel()
        try await runner.value
        #expect(exporter.events.count == 9)
    }

    @Test func runTwiceIsAnError() async throws {
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(CollectingExporter())]), clock: clock)
        let start = clock.now()
        let runner = Task { try await metrics.run() }
        _ = await clock.sleeper(after: start)
        await #expect(throws: LifecycleError.alreadyRunning) { try await metrics.run() }
        await metrics.shutdown(timeout: .seconds(60))
        try await runner.value
    }

    @Test func aFailingExporterDoesNotStopTheOthers() async throws {
        let good = CollectingExporter()
        let bad = CollectingExporter { _ in .rejected("no") }
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(bad), .custom(good)]))
        for _ in 0..<4 { recordExchange(metrics.recorder) }
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(good.events.count == 4)
        #expect(bad.events.isEmpty)
        #expect(report.statistics.failed == 4)
        #expect(report.statistics.exported == 4)
    }

    @Test func theIdentifyClosureNamesConsumersAndItsFailuresCostOnlyTheConsumer() async throws {
        struct Boom: Error {}
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.identifyConsumer = .custom { request in
            if request.headers["x-boom"] != nil { throw Boom() }
            return request.headers["x-customer"].map { Consumer(id: $0) }
        }
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder, target: "/a", headers: ["X-Customer": "acme"])
        recordExchange(metrics.recorder, target: "/b", headers: ["X-Boom": "1", "X-Customer": "acme"])
        recordExchange(metrics.recorder, target: "/c")
        recordExchange(metrics.recorder, target: "/d", headers: ["X-Customer": String(repeating: "x", count: 500)])
        await metrics.shutdown(timeout: .seconds(60))
        let consumers = Dictionary(
            uniqueKeysWithValues: exporter.events.map { ($0.record.request.target, $0.record.consumer?.id) })
        #expect(consumers["/a"] == "acme")
        #expect(consumers["/b"] == .some(nil))
        #expect(consumers["/c"] == .some(nil))
        #expect(consumers["/d"]??.count == Consumer.maxIDLength)
    }
}
