@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// Settings the configuration accepts and files a user may be handed must
/// not stop the process: these run in a child process of their own.
@Suite("Store review: no trap")
struct StoreNoTrapTests {
    /// One call written, so that the writer's retention runs after it.
    static func writeOneCall(_ writer: StoreWriter, at time: Int64) async throws {
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 1), direction: .incoming, startTimeNanoseconds: time, durationNanoseconds: 1_000,
            request: RequestHead(method: "GET", target: "/x", route: "/x"), response: ResponseHead(status: 200))
        try await writer.exportCommitted(
            ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: [record], sentAtNanoseconds: time))
    }

    @Test func theLargestMaxBytesTheEnvironmentAcceptsDoesNotTrapRetention() async {
        await #expect(processExitsWith: .success) {
            // APIMETRICS_STORE_MAX_BYTES is read in StoreOptions.minimumBytes...Int.max.
            let config = try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_STORE_MAX_BYTES": String(Int.max)])
            let options = try #require(config.exporters.lazy.compactMap(\.storeOptions).first)
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var local = options
            local.path = directory.file("apimetrics.sqlite")
            let writer = try StoreWriter(options: local, metricsInterval: .seconds(60))
            try await StoreNoTrapTests.writeOneCall(writer, at: CaptureClock.wallNanoseconds())
            let deleted = await writer.runForTesting { state in
                (try? state.enforceRetention(nowNanoseconds: CaptureClock.wallNanoseconds())) ?? -1
            }
            await writer.shutdown()
            #expect(deleted == 0)
        }
    }

    @Test func aRunWithAHugeHeartbeatIntervalInTheFileDoesNotTrapTheUptime() async {
        await #expect(processExitsWith: .success) {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("apimetrics.sqlite")
            let now = CaptureClock.wallNanoseconds()
            let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
            try await StoreNoTrapTests.writeOneCall(writer, at: now)
            await writer.shutdown()
            // A file from elsewhere: a run whose interval no heartbeat cadence has.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [
                path,
                "INSERT INTO runs(instance, started_at, last_seen, interval_ms) VALUES ('i', \(now - 1_000_000_000), \(now), 9223372036854775807)",
            ]
            try process.run()
            process.waitUntilExit()
            let reader = try StoreReader(path: path)
            let uptime = try reader.uptime(StoreTimeRange(from: now - 3_600_000_000_000, to: now), now: now)
            #expect(uptime.runs.count == 1)
        }
    }
}

/// Stored sketches a hostile or damaged file holds: each is taken whole or
/// skipped, never half-added, and never spoils the rows beside it.
@Suite("Store review: stored sketches")
struct StoredSketchTests {
    private func accumulate(_ blobs: [[UInt8]]) -> LatencySketch {
        var accumulator = SketchAccumulator()
        for blob in blobs { blob.withUnsafeBytes { accumulator.add(storedBytes: $0) } }
        return accumulator.sketch
    }

    private var good: [UInt8] {
        var sketch = LatencySketch()
        sketch.add(nanoseconds: 1_000_000, count: 10)
        return sketch.storedBytes
    }

    /// A sketch of `count` calls at 5 s, cut after its first bucket.
    private var truncated: [UInt8] {
        var sketch = LatencySketch()
        sketch.add(nanoseconds: 5_000_000_000, count: 1_000_000)
        sketch.add(nanoseconds: 6_000_000_000, count: 1)
        let bytes = sketch.storedBytes
        // Version, bucket count, then the first (gap, count) pair: cut in the second pair.
        var reader = BinaryReader(bytes)
        _ = try? reader.byte()
        _ = try? reader.count()
        _ = try? reader.unsigned()
        _ = try? reader.unsigned()
        return Array(bytes[..<(reader.offset + 1)])
    }

    @Test func aCutSketchAddsNothing() {
        let merged = accumulate([good, truncated])
        #expect(merged.count == 10)
        #expect(
            merged.percentile(0.5).map { abs($0 - 1_000_000) < 10_000 } == true, "\(String(describing: merged.percentile(0.5)))")
    }

    @Test func countsThatOverflowDoNotEmptyTheOthers() {
        var writer = BinaryWriter()
        writer.byte(1)
        writer.count(1)
        writer.unsigned(UInt64(LatencySketch.index(ofNanoseconds: 2_000_000) + 1))
        writer.unsigned(UInt64.max)
        writer.signed(2_000_000)
        writer.signed(2_000_000)
        writer.signed(2_000_000)
        let merged = accumulate([good, writer.bytes])
        #expect(merged.count >= 10)
        #expect(merged.percentile(0.5) != nil)
    }
}

/// The store's files on disk against what another program (or a second
/// corruption) may have left beside them.
@Suite("Store review: files")
struct StoreFileReviewTests {
    @Test func aSecondCorruptionInTheSameSecondKeepsTheFirstFileMovedAside() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        try Data("first".utf8).write(to: URL(fileURLWithPath: path))
        let first = try #require(StoreFile.moveAside(path, nowNanoseconds: now))
        try Data("second".utf8).write(to: URL(fileURLWithPath: path))
        let second = try #require(StoreFile.moveAside(path, nowNanoseconds: now + 1))
        #expect(first != second)
        #expect((try? String(contentsOfFile: first, encoding: .utf8)) == "first")
        #expect((try? String(contentsOfFile: second, encoding: .utf8)) == "second")
    }

    @Test func writeAheadLogAndSharedMemoryFilesThatAreLinksAreNeverWrittenThrough() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let victims = [directory.file("victim-wal"), directory.file("victim-shm")]
        for victim in victims { try Data("do not touch".utf8).write(to: URL(fileURLWithPath: victim)) }
        try FileManager.default.createSymbolicLink(atPath: path + "-wal", withDestinationPath: victims[0])
        try FileManager.default.createSymbolicLink(atPath: path + "-shm", withDestinationPath: victims[1])
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        let now = CaptureClock.wallNanoseconds()
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 1), direction: .incoming, startTimeNanoseconds: now, durationNanoseconds: 1_000,
            request: RequestHead(method: "GET", target: "/x", route: "/x"), response: ResponseHead(status: 200))
        try await writer.exportCommitted(
            ExportBatch(identity: ServiceIdentity(service: "s", environment: "e"), records: [record], sentAtNanoseconds: now))
        await writer.shutdown()
        for victim in victims {
            #expect((try? String(contentsOfFile: victim, encoding: .utf8)) == "do not touch", "\(victim)")
        }
        // Nothing written is claimed: the call is either in the store or counted as dropped.
        let status = writer.currentStatus
        #expect(status.writtenCalls + status.droppedCalls == 1)
    }
}

/// The JSON API over a store from elsewhere: what the file holds is data,
/// never a part of the answer's syntax.
@Suite("Store review: API over a hostile file")
struct StoreAPIHostileFileTests {
    @Test func aPipelineRowThatIsNoJSONObjectLeavesTheAnswerValidJSON() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        try await StoreNoTrapTests.writeOneCall(writer, at: now)
        await writer.shutdown()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [
            path,
            """
            INSERT INTO runs(id, instance, started_at, last_seen, interval_ms) VALUES (7, 'i', \(now), \(now), 60000);
            INSERT INTO pipeline(time, run_id, statistics) VALUES (\(now), 7, '{"queued":1}],"injected":{"x":1');
            """,
        ]
        try process.run()
        process.waitUntilExit()
        let context = StoreAPI.Context(
            reader: try StoreReader(path: path), unavailable: "", status: nil, options: nil,
            statistics: Statistics(recorded: 0, skipped: 0, dropped: 0, queued: 0, exported: 0, failed: 0),
            identity: ServiceIdentity(service: "s", environment: "e"), now: now)
        let answer = StoreAPI.answer(path: StoreAPI.prefix + "pipeline", query: [], context: context)
        #expect(answer.status == 200)
        let parsed = try? JSONSerialization.jsonObject(with: Data(answer.body))
        #expect(parsed is [String: Any], "\(String(decoding: answer.body, as: UTF8.self).suffix(200))")
    }
}
