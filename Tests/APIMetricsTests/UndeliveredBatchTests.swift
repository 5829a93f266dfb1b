import Foundation
import Synchronization
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

/// A real handler of the give-up seam: keeps each batch as bytes, the way a
/// spool would store it, and reads it back.
final class StoringHandler: UndeliveredBatchHandler {
    private let stored = Mutex<[[UInt8]]>([])

    func handle(_ batch: UndeliveredBatch) async {
        let bytes = batch.serialized()
        stored.withLock { $0.append(bytes) }
    }

    var batches: [UndeliveredBatch] {
        stored.withLock { $0 }.compactMap { try? UndeliveredBatch(serialized: $0) }
    }
}

@Suite("Give-up seam")
struct UndeliveredBatchTests {
    private func configuration(_ collector: TestCollector, attempts: Int = 2) -> (APIMetricsConfiguration, StoringHandler) {
        var config = testConfiguration([.http(endpoint: collector.url, timeout: .seconds(600))])
        config.retry = RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), jitter: 0)
        let handler = StoringHandler()
        config.undeliveredBatchHandler = handler
        config.identifyConsumer = .header("x-customer")
        return (config, handler)
    }

    @Test func aBatchPastItsRetryBudgetIsHandedOverProcessed() async throws {
        let collector = try TestCollector { _ in .status(503) }
        defer { collector.stop() }
        let (config, handler) = configuration(collector)
        let metrics = try APIMetricsService(configuration: config)
        var ids: [EventID] = []
        for index in 0..<3 {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "GET", target: "/orders/\(index)", headers: ["Authorization": "Bearer s3cret", "X-Customer": "acme"]))
            ids.append(exchange.id)
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
        }
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(report.statistics.failed == 3)
        let batches = handler.batches
        #expect(batches.map(\.reason) == [.retriesExhausted])
        let batch = try #require(batches.first)
        #expect(batch.exporterName == "http(\(collector.url))")
        #expect(batch.records.map(\.id) == ids)
        #expect(batch.identity.service == "test-service")
        // What a spool keeps is what the exporter would have received.
        #expect(batch.records.allSatisfy { $0.consumer?.id == "acme" })
        #expect(batch.records.allSatisfy { $0.request.headers["authorization"] == "[REDACTED]" })
        #expect(batch.message.contains("503"))
    }

    @Test func aRefusedBatchIsHandedOverAsRejected() async throws {
        let collector = try TestCollector { _ in .status(400) }
        defer { collector.stop() }
        let (config, handler) = configuration(collector, attempts: 5)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(60))
        // The event's batch, then the final window's, refused too: only the
        // one with an event is handed over.
        #expect(collector.requests.count == 2)
        #expect(handler.batches.map(\.reason) == [.rejected])
        #expect(handler.batches.first?.reason.isWorthRetrying == false)
    }

    @Test func theShutdownDeadlineHandsOverTheBatchInFlightAndWhatWasQueued() async throws {
        let collector = try TestCollector { _ in .hang }
        defer { collector.stop() }
        var (config, handler) = configuration(collector)
        config.batching = .init(maxEvents: 2, flushInterval: .milliseconds(20))
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder, target: "/first")
        #expect(await eventually { collector.requests.count == 1 })
        for index in 0..<5 { recordExchange(metrics.recorder, target: "/later/\(index)") }
        let report = await metrics.shutdown(timeout: .milliseconds(300))
        try await runner.value
        let batches = handler.batches
        #expect(batches.allSatisfy { $0.reason == .shutdownDeadline })
        let targets = batches.flatMap(\.records).map(\.request.target)
        // The one in flight, and every call that never left: nothing lost
        // without being handed over.
        #expect(targets.first == "/first")
        #expect(Set(targets) == Set(["/first"] + (0..<5).map { "/later/\($0)" }))
        #expect(targets.count == 6)
        #expect(report.unsent == 6)
    }

    @Test func withoutAHandlerNothingChanges() async throws {
        let collector = try TestCollector { _ in .status(503) }
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), jitter: 0)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder)
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(report.statistics.failed == 1)
    }
}
