@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing

/// The writer groups commits: batches are handed over, and what waits is
/// written in one transaction on a timer, at a size, or when asked.
@Suite("Store: grouped commits")
struct StoreCommitTests {
    let identity = ServiceIdentity(service: "s", environment: "e", instanceID: "i")

    func batch(_ calls: Int, first: Int, reports: (@Sendable (ExportReport) -> Void)? = nil) -> ExportBatch {
        let now = CaptureClock.wallNanoseconds()
        let records = (0..<calls).map { n in
            ExchangeRecord(
                id: EventID(high: UInt64(first + n + 1), low: 9), direction: .incoming, startTimeNanoseconds: now,
                durationNanoseconds: 1_000_000, request: RequestHead(method: "GET", target: "/x/\(n)", route: "/x/{n}"),
                response: ResponseHead(status: 200))
        }
        return ExportBatch(
            identity: identity, records: records, entities: [], dropped: 0, sentAtNanoseconds: now,
            encodings: BatchEncodings(identity: identity, records: records, entities: []), reportSink: reports)
    }

    func writer(_ path: String, interval: Int? = 3_600_000) throws -> StoreWriter {
        var options = StoreOptions(path: path)
        options.commitIntervalForTesting = interval
        return try StoreWriter(options: options, metricsInterval: .seconds(60))
    }

    @Test func batchesHandedOverWaitAndAreWrittenInOneTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try writer(directory.file("apimetrics.sqlite"))
        for round in 0..<3 { try await writer.export(batch(10, first: round * 10)) }
        // The timer is an hour away: nothing is written until asked.
        #expect(writer.currentStatus.writtenCalls == 0)
        #expect(writer.currentStatus.waitingCalls == 30)
        await writer.flush()
        let status = writer.currentStatus
        #expect(status.writtenCalls == 30)
        #expect(status.waitingCalls == 0)
        #expect(status.commits == 1)
        await writer.shutdown()
        #expect(try sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM calls") == "30")
    }

    @Test func aLookupThatFailsAmongAStatementsCallsLeavesNothingBoundForTheNextOnes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try writer(path)
        try await writer.export(batch(1, first: 0))
        await writer.flush()
        // The consumer `boom` cannot be written: its lookup fails once the
        // calls before it in the statement are bound.
        _ = try sqlite3(
            path,
            "CREATE TRIGGER boom BEFORE INSERT ON consumers WHEN NEW.consumer = 'boom' BEGIN SELECT RAISE(FAIL, 'boom'); END;",
            writing: true)
        let now = CaptureClock.wallNanoseconds()
        let linked = (0..<16).map { n in
            ExchangeRecord(
                id: EventID(high: UInt64(100 + n), low: 9), direction: .incoming, startTimeNanoseconds: now,
                durationNanoseconds: 1_000_000, request: RequestHead(method: "GET", target: "/x/\(n)", route: "/x/{n}"),
                response: ResponseHead(status: 500), consumer: n == 10 ? Consumer(id: "boom") : nil,
                errors: [RecordedError(type: "Failure", message: "call \(n) failed")],
                parentID: EventID(high: 7, low: 7))
        }
        try await writer.export(
            ExportBatch(
                identity: identity, records: linked, entities: [], dropped: 0, sentAtNanoseconds: now,
                encodings: BatchEncodings(identity: identity, records: linked, entities: []), reportSink: nil))
        await writer.flush()
        #expect(writer.currentStatus.droppedCalls == 16)
        // Sixteen plain calls: no parent, no error, in the same statement.
        try await writer.export(batch(16, first: 200))
        await writer.flush()
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "17")
        #expect(try sqlite3(path, "SELECT count(*) FROM calls WHERE parent_hi IS NOT NULL OR error_type IS NOT NULL") == "0")
    }

    @Test func theTimerCommitsWhatWaitsWithoutBeingAsked() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try writer(directory.file("apimetrics.sqlite"), interval: nil)
        try await writer.export(batch(7, first: 0))
        #expect(await eventually(timeout: .seconds(10)) { writer.currentStatus.writtenCalls == 7 })
        await writer.shutdown()
    }

    @Test func enoughCallsStartACommitAtOnceAndTooManyMakeTheSenderWait() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try writer(directory.file("apimetrics.sqlite"))
        // A commit's worth: written with the timer an hour away.
        try await writer.export(batch(StoreWriter.commitCalls, first: 0))
        #expect(await eventually(timeout: .seconds(20)) { writer.currentStatus.writtenCalls == StoreWriter.commitCalls })
        // Past the most that may wait: the export returns once it is written.
        try await writer.export(batch(StoreWriter.maxWaitingCalls, first: StoreWriter.commitCalls))
        #expect(writer.currentStatus.writtenCalls == StoreWriter.commitCalls + StoreWriter.maxWaitingCalls)
        #expect(writer.currentStatus.waitingCalls == 0)
        await writer.shutdown()
    }

    @Test func callsLostAfterTheHandOverAreReportedThroughTheBatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try writer(path)
        try await writer.export(batch(5, first: 0))
        await writer.flush()
        // The "disk" is full from here on.
        let pages = await writer.runForTesting { state in (try? state.connection?.integer("PRAGMA page_count")) ?? 0 }
        _ = await writer.runForTesting { state in try? state.connection?.integer("PRAGMA max_page_count = \(pages)") }
        let lost = Mutex<[Int]>([])
        let reports: @Sendable (ExportReport) -> Void = { report in
            if case let .lost(count, _) = report { lost.withLock { $0.append(count) } }
        }
        for round in 0..<2 {
            let big = batch(40, first: 100 + round * 40, reports: reports)
            var records = big.records
            for index in records.indices {
                records[index].responseBody = CapturedBody(bytes: Array(repeating: 0x62, count: 4_000), size: 4_000)
            }
            var copy = big
            copy.records = records
            try await writer.export(copy)
        }
        // Handed over, so far nothing lost; the commit loses both batches.
        #expect(lost.withLock { $0 }.isEmpty)
        await writer.flush()
        #expect(lost.withLock { $0.reduce(0, +) } == 80)
        #expect(writer.currentStatus.droppedCalls == 80)
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "5")
    }

    @Test func shutdownWritesWhatWaits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try writer(path)
        try await writer.export(batch(12, first: 0))
        await writer.shutdown()
        #expect(try sqlite3(path, "SELECT count(*) FROM calls") == "12")
        #expect(try sqlite3(path, "SELECT value FROM meta WHERE key = 'open'") == "0")
    }
}
