import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing
@testable import APIMetrics

/// The pipeline against a collector on loopback that misbehaves in each way
/// collectors do: each test fails if its guarantee breaks.
@Suite("Fault suite")
struct FaultSuiteTests {
    /// The events a collector accepted, by path, in arrival order.
    private func acceptedPaths(_ collector: TestCollector) -> [String] {
        collector.acceptedEvents.compactMap { ($0["request"] as? [String: Any])?["path"] as? String }
    }

    private func config(_ collector: TestCollector, attempts: Int = 6) -> APIMetricsConfiguration {
        var config = testConfiguration([.http(endpoint: collector.url)])
        config.retry = RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), jitter: 0.1)
        config.batching.maxEvents = 8
        return config
    }

    private func record(_ count: Int, into metrics: APIMetricsService) {
        for index in 0..<count { recordExchange(metrics.recorder, target: "/orders/\(index)") }
    }

    /// A collector that fails for a while in one of the ways worth a retry,
    /// then comes back: every event arrives exactly once.
    @Test(arguments: [
        "500", "502", "503", "504", "429", "503 Retry-After: 1", "429 Retry-After: 0", "reset", "slow",
    ])
    func aPassingFaultLosesNothingAndDuplicatesNothing(fault: String) async throws {
        let collector = try TestCollector { attempt in
            guard attempt < 2 else { return .status(200) }
            switch fault {
            case "reset": return .disconnect
            case "slow": return .slow(.milliseconds(600), status: 200)
            default:
                let parts = fault.split(separator: " ", maxSplits: 1)
                let headers = parts.count > 1 ? [(name: "Retry-After", value: String(parts[1].split(separator: " ")[1]))] : []
                return .status(Int(parts[0]) ?? 500, headers: headers)
            }
        }
        defer { collector.stop() }
        var config = config(collector)
        if fault == "slow" {
            // The answer outlasts the request's timeout: a failure, retried.
            config.exporters = [.http(endpoint: collector.url, timeout: .milliseconds(200))]
        }
        let metrics = try APIMetricsService(configuration: config)
        record(20, into: metrics)
        let report = await metrics.shutdown(timeout: .seconds(30))
        let paths = acceptedPaths(collector)
        #expect(Set(paths) == Set((0..<20).map { "/orders/\($0)" }), "\(fault): \(paths)")
        if fault == "slow" {
            // The collector took the batches whose answers came too late:
            // delivery is at least once, and the events' ids tell copies apart.
            #expect(paths.count > 20)
        } else {
            #expect(paths.count == 20, "\(fault): a duplicate in \(paths)")
        }
        #expect(report.statistics.failed == 0 && report.statistics.retried >= 1, "\(fault): \(report)")
    }

    @Test(arguments: [400, 401, 422])
    func aRefusalIsNotRetried(status: Int) async throws {
        let collector = try TestCollector { _ in .status(status) }
        defer { collector.stop() }
        let metrics = try APIMetricsService(configuration: config(collector))
        record(5, into: metrics)
        let report = await metrics.shutdown(timeout: .seconds(30))
        // The events, then the final window and heartbeat on their own: each refused once.
        #expect(collector.requests.count == 2 && report.statistics.failed == 5 && report.statistics.retried == 0)
        #expect((collector.requests.first?.batch["events"] as? [Any])?.count == 5)
        #expect(report.statistics.lastExportError?.contains("answered \(status)") == true)
        // Every batch carries the pipeline's health as it left.
        let pipeline = try #require(collector.requests.first?.batch["pipeline"] as? [String: Any])
        #expect(pipeline["recorded"] as? Int == 5 && pipeline["spool_pending"] as? Int == 0)
    }

    /// 413: the batch is sent again in halves until the collector takes
    /// them; single events it still refuses are given up, not retried.
    @Test func tooLargeSplitsTheBatchInHalves() async throws {
        let collector = try TestCollector { _, body in
            let events = (jsonObject(body)?["events"] as? [Any])?.count ?? 0
            return events > 2 ? .status(413) : .status(200)
        }
        defer { collector.stop() }
        var config = config(collector)
        config.batching.maxEvents = 8
        config.batching.flushInterval = .seconds(5)
        let metrics = try APIMetricsService(configuration: config)
        record(8, into: metrics)
        let report = await metrics.shutdown(timeout: .seconds(30))
        let paths = acceptedPaths(collector)
        #expect(paths == (0..<8).map { "/orders/\($0)" }, "in order, once each: \(paths)")
        #expect(report.statistics.failed == 0)

        let refusing = try TestCollector { _ in .status(413) }
        defer { refusing.stop() }
        var refused = self.config(refusing)
        refused.batching.flushInterval = .seconds(5)
        let second = try APIMetricsService(configuration: refused)
        record(8, into: second)
        let secondReport = await second.shutdown(timeout: .seconds(30))
        // 8, two 4s, four 2s, eight 1s: 15 requests, then every event given
        // up; then the final window and heartbeat, refused once.
        #expect(refusing.requests.count == 16 && secondReport.statistics.failed == 8)
    }

    /// No spool and a collector that holds every request: the queue fills
    /// and drops; once the collector answers, what was sent and what was
    /// dropped add up to what was captured, exactly.
    @Test func sentAndDroppedAddUpToCapturedWhenTheQueueOverflows() async throws {
        let collector = try TestCollector { attempt in attempt == 0 ? .hang : .status(200) }
        defer { collector.stop() }
        var config = config(collector)
        config.queue = .init(maxEvents: 20, maxBytes: 1 << 20)
        let metrics = try APIMetricsService(configuration: config)
        let background = Task { try await metrics.run() }
        recordExchange(metrics.recorder, target: "/first")
        #expect(await eventually { !collector.requests.isEmpty })
        record(300, into: metrics)
        collector.releaseHungRequests()
        background.cancel()
        let report = await metrics.shutdown(timeout: .seconds(30))
        let sent = Set(acceptedPaths(collector)).count
        let statistics = report.statistics
        #expect(statistics.recorded == 301 && statistics.dropped > 0)
        #expect(
            sent + statistics.dropped == statistics.recorded,
            "sent \(sent) + dropped \(statistics.dropped) ≠ \(statistics.recorded)")
        #expect(statistics.failed == 0 && report.unsent == 0)
    }

    /// A collector that accepts the connection and never answers: shutdown
    /// still returns by its deadline (plus a small margin), and says what
    /// it could not send.
    @Test func shutdownKeepsItsDeadlineWhenTheCollectorNeverAnswers() async throws {
        let collector = try TestCollector { _ in .hang }
        defer { collector.stop() }
        let metrics = try APIMetricsService(configuration: config(collector))
        let background = Task { try await metrics.run() }
        defer { background.cancel() }
        record(10, into: metrics)
        #expect(await eventually { !collector.requests.isEmpty })
        let started = ContinuousClock.now
        let report = await metrics.shutdown(timeout: .milliseconds(500))
        let took = ContinuousClock.now - started
        // Well under the exporter's 10 s request timeout it would otherwise
        // wait out; the margin is for a machine busy with the parallel suite.
        #expect(took < .seconds(5), "shutdown took \(took)")
        #expect(report.unsent == 10 && !report.isComplete)
    }

    /// A refused connection (nothing listens), then the collector comes up
    /// on that port, with a spool: nothing lost, nothing twice.
    @Test func aCollectorThatComesUpLaterGetsEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let probe = try TestCollector()
        let url = probe.url
        probe.stop()
        var config = testConfiguration([.http(endpoint: url)])
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), jitter: 0)
        config.spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        let metrics = try APIMetricsService(configuration: config)
        let background = Task { try await metrics.run() }
        record(30, into: metrics)
        #expect(await eventually { metrics.statistics.spoolPending == 30 }, "\(metrics.statistics)")
        // The same port, now answering.
        let port = Int(url.split(separator: ":")[2].split(separator: "/")[0]) ?? 0
        let collector = try TestCollector(port: UInt16(port))
        defer { collector.stop() }
        #expect(
            await eventually { metrics.statistics.spoolPending == 0 && metrics.statistics.exported == 30 },
            "\(metrics.statistics)")
        background.cancel()
        await metrics.shutdown(timeout: .seconds(10))
        #expect(acceptedPaths(collector) == (0..<30).map { "/orders/\($0)" })
    }
}
