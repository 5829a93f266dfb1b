@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("Metrics report")
struct MetricsReportTests {
    @Test func windowsFromAFileAddUpToOneTableWithExactPercentiles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let exporter = try FileExporter(path: path)
        // Three windows of the same two endpoints, written as the sender does.
        var all = LatencySketch()
        var random = SeededGenerator(seed: 5)
        let aggregator = Aggregator(now: 0)
        for window in 0..<3 {
            for n in 0..<400 {
                let duration = Int64.random(in: 1_000_000...90_000_000, using: &random)
                all.add(nanoseconds: duration)
                aggregator.observe(
                    CallSummary(
                        method: "GET", route: "/orders/{id}", status: n % 40 == 0 ? 503 : 200, durationNanoseconds: duration,
                        responseBodyBytes: 500), outcome: .queued)
            }
            aggregator.observe(
                CallSummary(method: "POST", route: "/orders", status: 422, durationNanoseconds: 2_000_000), outcome: .shed)
            let cut = aggregator.cutWindow(at: Int64(window + 1) * 60_000_000_000)
            try await exporter.export(
                ExportBatch(
                    identity: ServiceIdentity(service: "s", environment: "e"), records: [], sentAtNanoseconds: 0, metrics: cut))
        }
        await exporter.shutdown()
        var report = MetricsReport()
        report.add(ndjson: try String(contentsOfFile: path, encoding: .utf8) + "\nnot json\n")
        #expect(report.windowCount == 3 && report.malformedLines == 1)
        #expect(report.requests == 1_203)
        let orders = try #require(report.sortedEndpoints.first)
        #expect(orders.route == "/orders/{id}" && orders.requests == 1_200 && orders.serverErrors == 30)
        // The merged sketch is the sketch of every call.
        #expect(orders.latency == all)
        #expect(orders.responseSizes.meanBytes == 500)
        #expect(report.sortedEndpoints.last?.clientErrors == 3)
        #expect(report.unattributedRequests == 1_203)
        var combined = CombinedReport(range: StoreTimeRange(from: 0, to: 1 << 62), filtersNDJSON: false)
        combined.add(report)
        let table = ReportOutput.table(endpoints: combined)
        #expect(table.contains("1203 calls from the start to ") && table.contains(" in 1 NDJSON file (3 metrics windows)\n"))
        #expect(table.contains("(1 NDJSON lines could not be read and were left out)"))
        #expect(
            table.split(separator: "\n").contains {
                $0.hasPrefix("GET     /orders/{id}") && $0.contains(" 1200 ") && $0.contains(" 30 ")
            })
    }
}
