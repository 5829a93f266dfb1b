@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Testing

@Suite("Metrics windows delivered")
struct MetricsDeliveryTests {
    @Test func theHeartbeatReachesAnIdleCollectorOnScheduleAndShutdownDeliversTheLastWindow() async throws {
        let clock = TestClock()
        let collector = try TestCollector()
        defer { collector.stop() }
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.metrics.interval = .seconds(1)
        config.metrics.routes = ["GET /orders/{id}"]
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let runner = Task { try await metrics.run() }
        // No traffic: a heartbeat (with an empty window) a second, and none between.
        func beats() -> [[String: Any]] { collector.requests.compactMap { $0.batch["heartbeat"] as? [String: Any] } }
        await clock.run(for: .milliseconds(999))
        #expect(beats().isEmpty)
        await clock.run(for: .milliseconds(1_001))
        // Delivered while the sender waits for the next round.
        #expect(await eventually { beats().count == 2 })
        // On schedule: a second apart, as the heartbeats' own times say.
        let uptimes = beats().compactMap { $0["uptime_s"] as? Double }
        #expect(uptimes == [1, 2], "\(uptimes)")
        let first = try #require(collector.requests.first?.batch)
        let startup = try #require(first["startup"] as? [String: Any])
        #expect(startup["routes"] as? [String] == ["GET /orders/{id}"])
        #expect(startup["library_version"] as? String == APIMetricsService.libraryVersion)
        let heartbeat = try #require(first["heartbeat"] as? [String: Any])
        #expect(heartbeat["uptime_s"] as? Double == 1)
        #expect((heartbeat["pipeline"] as? [String: Any])?["recorded"] as? Int == 0)
        #expect(((first["metrics"] as? [String: Any])?["series"] as? [Any])?.isEmpty == true)
        // Calls after the last tick arrive in the final window at shutdown.
        let before = collector.requests.count
        for n in 0..<7 {
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/orders/\(n)", route: "/orders/{id}"))
            exchange.recordResponseHead(ResponseHead(status: n < 5 ? 200 : 500))
            exchange.finish()
        }
        await clock.shutdown(metrics, timeout: .seconds(30))
        try await runner.value
        let windows = collector.requests.dropFirst(before).compactMap { $0.batch["metrics"] as? [String: Any] }
        #expect(windows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 7)
        #expect(windows.last?["final"] as? Bool == true)
        let series = windows.flatMap { $0["series"] as? [[String: Any]] ?? [] }
        #expect(series.filter { $0["status"] as? Int == 500 }.reduce(0) { $0 + ($1["server_errors"] as? Int ?? 0) } == 2)
    }

    @Test func theFileGetsOneLineOfEachKindAndTheWindowsAddUpToTheCalls() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        var config = testConfiguration([.file(path: path)])
        config.metrics.interval = .seconds(1)
        config.queue = .init(maxEvents: 10, maxBytes: 1 << 20)
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        // Before the sender runs: 10 events queued, 40 dropped; all 50 counted.
        for n in 0..<50 {
            recordExchange(metrics.recorder, target: "/items/\(n)", responseBody: Array(repeating: 0x61, count: n))
        }
        let runner = Task { try await metrics.run() }
        // The first window closes a second after the sender starts.
        func file() -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        await clock.run(for: .milliseconds(999))
        #expect(!file().contains(#""kind":"metrics""#))
        await clock.run(for: .milliseconds(1))
        // Written while the sender waits for the next round.
        #expect(await eventually { file().contains(#""kind":"metrics""#) })
        for n in 0..<5 { recordExchange(metrics.recorder, target: "/items/\(n)") }
        await clock.shutdown(metrics, timeout: .seconds(30))
        try await runner.value
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap {
            jsonObject(Array($0.utf8))
        }
        let kinds = lines.map { $0["kind"] as? String ?? "event" }
        #expect(kinds.filter { $0 == "startup" }.count == 1)
        #expect(kinds.filter { $0 == "metrics" }.count >= 2)
        #expect(kinds.filter { $0 == "metrics" }.count == kinds.filter { $0 == "heartbeat" }.count)
        let windows = lines.filter { $0["kind"] as? String == "metrics" }
        #expect(windows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 55)
        let first = try #require(windows.first?["series"] as? [[String: Any]])
        #expect(first.first?["route"] as? String == "/items/{id}")
        let latency = try #require(first.first?["latency"] as? [String: Any])
        #expect(latency["count"] as? Int == 50)
        #expect((latency["buckets"] as? [[Int]])?.reduce(0) { $0 + $1[1] } == 50)
        let sizes = try #require(first.first?["response_size"] as? [String: Any])
        #expect(sizes["sum"] as? Int == (0..<50).reduce(0, +))
        // Windows follow one another with no gap.
        let bounds = windows.map { ($0["start"] as? String ?? "", $0["end"] as? String ?? "") }
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0.1 == $1.0 })
    }

    /// The last line of the file is the last heartbeat, taken after every
    /// event was written: its totals are the final ones. The events wait in
    /// the queue until shutdown (a long flush interval, a large batch), so
    /// all of them go out in the sender's last rounds, behind which a
    /// heartbeat taken before them would count none.
    @Test(arguments: [(calls: 37, batch: 1_000), (calls: 95, batch: 10)])
    func theLastHeartbeatIsTheLastLineAndCountsEveryEventWritten(calls: Int, batch: Int) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        var config = testConfiguration([.file(path: path)])
        config.batching.flushInterval = .seconds(3_600)
        config.batching.maxEvents = batch
        config.metrics.interval = .seconds(3_600)
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        for n in 0..<calls { recordExchange(metrics.recorder, target: "/items/\(n)") }
        let report = await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap {
            jsonObject(Array($0.utf8))
        }
        #expect(lines.filter { $0["kind"] == nil }.count == calls)
        let last = try #require(lines.last)
        #expect(last["kind"] as? String == "heartbeat")
        let pipeline = try #require(last["pipeline"] as? [String: Any])
        #expect(pipeline["recorded"] as? Int == calls)
        #expect(pipeline["exported"] as? Int == calls)
        #expect(pipeline["queued"] as? Int == 0)
        #expect(report.statistics.exported == calls)
        // The final window comes just before it, with every call.
        let windows = lines.filter { $0["kind"] as? String == "metrics" }
        #expect(windows.last?["final"] as? Bool == true)
        #expect(windows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == calls)
        #expect(lines.dropLast().last?["kind"] as? String == "metrics")
    }

    /// The same through a collecting exporter: the last batch it receives
    /// carries the final window and the last heartbeat and no event, and
    /// both the heartbeat and the batch's own pipeline totals count every
    /// event delivered before it.
    @Test func theLastBatchCarriesTheFinalTotals() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.batching.flushInterval = .seconds(3_600)
        config.batching.maxEvents = 7
        config.metrics.interval = .seconds(3_600)
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        let calls = 50
        for n in 0..<calls { recordExchange(metrics.recorder, target: "/items/\(n)") }
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        #expect(exporter.events.count == calls)
        let last = try #require(exporter.received.last)
        #expect(last.records.isEmpty)
        #expect(last.metrics?.isFinal == true)
        let heartbeat = try #require(last.heartbeat)
        #expect(heartbeat.statistics.recorded == calls)
        #expect(heartbeat.statistics.exported == calls)
        #expect(last.statistics?.exported == calls)
        #expect(exporter.received.dropLast().allSatisfy { $0.heartbeat == nil })
    }
}
