import APIMetrics
import APIMetricsTesting
import Testing

@Suite("Collecting exporter")
struct CollectingExporterTests {
    private func batch(_ targets: [String]) -> ExportBatch {
        let identity = ServiceIdentity(service: "testing", environment: "test")
        let records = targets.enumerated().map { index, target in
            ExchangeRecord(
                id: EventID(high: 1, low: UInt64(index + 1)), direction: .incoming,
                startTimeNanoseconds: 1_700_000_000_000_000_000, durationNanoseconds: 1_000,
                request: RequestHead(method: "GET", target: target), response: ResponseHead(status: 200))
        }
        return ExportBatch(identity: identity, records: records, sentAtNanoseconds: 1_700_000_000_000_000_000)
    }

    @Test func aWaiterWakesWhenTheRecordsArriveAndTheyComeInOrder() async throws {
        let exporter = CollectingExporter()
        let waiter = Task { await exporter.waitForRecords(atLeast: 3, timeout: .seconds(600)) }
        try await exporter.export(batch(["/a", "/b"]))
        try await exporter.export(batch(["/c"]))
        let records = await waiter.value
        #expect(records.map(\.request.target) == ["/a", "/b", "/c"])
        #expect(exporter.received.count == 2 && exporter.attemptCount == 2)
        // Already there: no wait at all.
        #expect(await exporter.waitForRecords(atLeast: 1, timeout: .seconds(600)).count == 3)
    }

    @Test func aWaiterGivesUpAtItsTimeoutWithWhatArrived() async throws {
        let exporter = CollectingExporter()
        try await exporter.export(batch(["/a"]))
        let records = await exporter.waitForRecords(atLeast: 2, timeout: .milliseconds(1))
        #expect(records.map(\.request.target) == ["/a"])
    }

    @Test func aCancelledWaitEndsAtOnce() async throws {
        let exporter = CollectingExporter()
        let waiter = Task { await exporter.waitForRecords(atLeast: 1, timeout: .seconds(600)) }
        waiter.cancel()
        #expect(await waiter.value.isEmpty)
    }

    @Test func theScriptOfFailuresIsFollowedAttemptByAttempt() async throws {
        let exporter = CollectingExporter { attempt in
            attempt == 0 ? .retryable("down") : attempt == 1 ? .rejected("no") : nil
        }
        await #expect(throws: ExportError.self) { try await exporter.export(batch(["/a"])) }
        await #expect(throws: ExportError.self) { try await exporter.export(batch(["/a"])) }
        try await exporter.export(batch(["/a"]))
        #expect(exporter.attemptCount == 3 && exporter.records.count == 1)
    }

    @Test func aBatchOverItsByteLimitIsTooLargeButOneRecordAlwaysGoes() async throws {
        // Each record's schema-v1 line is longer than 10 bytes.
        let exporter = CollectingExporter(limits: ExportBatchLimits(maxEvents: 100, maxBytes: 10))
        await #expect(throws: ExportError.self) { try await exporter.export(batch(["/a", "/b"])) }
        try await exporter.export(batch(["/a"]))
        #expect(exporter.records.count == 1)
    }
}
