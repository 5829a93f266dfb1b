import Foundation
import Synchronization
import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics

/// Exporters receive the processed records; schema-v1 is one encoding among
/// others, made once per batch for those that read it.
@Suite("Processed records reach every exporter")
struct ProcessedRecordsTests {
    /// An exporter with a format of its own, written against the records
    /// alone: one `METHOD route status consumer authorization` line per call.
    final class OwnFormatExporter: EventExporter {
        let lines = Mutex<[String]>([])
        let batches = Mutex<[ExportBatch]>([])

        func export(_ batch: ExportBatch) async throws {
            batches.withLock { $0.append(batch) }
            let made = batch.records.map { record in
                "\(record.request.method) \(record.request.route ?? "-") \(record.response?.status ?? 0) "
                    + "\(record.consumer?.id ?? "-") \(record.request.headers["authorization"] ?? "-")"
            }
            lines.withLock { $0.append(contentsOf: made) }
        }
    }

    @Test func anExporterOfItsOwnFormatGetsIdentifiedAndRedactedRecords() async throws {
        let own = OwnFormatExporter()
        let lines = CollectingExporter()
        var config = testConfiguration([.custom(own), .custom(lines)])
        config.identifyConsumer = .header("x-customer")
        let metrics = try APIMetricsService(configuration: config)
        for index in 0..<3 {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "GET", target: "/orders/\(index)",
                    headers: ["Authorization": "Bearer secret-\(index)", "X-Customer": "acme"]))
            exchange.setRoute("/orders/{id}")
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(60))
        let received = own.lines.withLock { $0 }
        #expect(received == Array(repeating: "GET /orders/{id} 200 acme [REDACTED]", count: 3))
        // The schema-v1 lines, made once while processing, say the same.
        #expect(lines.events.count == 3)
        for event in lines.events {
            let json = try #require(jsonObject(event.json))
            #expect((json["consumer"] as? [String: Any])?["id"] as? String == "acme")
            let headers = try #require((json["request"] as? [String: Any])?["headers"] as? [String: Any])
            #expect(headers["authorization"] as? String == "[REDACTED]")
        }
    }

    @Test func theSchemaV1LinesAreMadeOncePerBatchForEveryExporterThatReadsThem() async throws {
        let first = CollectingExporter(), second = CollectingExporter()
        let lazy = OwnFormatExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(first), .custom(lazy), .custom(second)]))
        for index in 0..<5 { recordExchange(metrics.recorder, target: "/e/\(index)") }
        await metrics.shutdown(timeout: .seconds(60))
        #expect(first.events.map(\.json) == second.events.map(\.json))
        #expect(first.events.count == 5)
        // An exporter that declared no encoding reads the same lines on
        // first use: the batch's encodings are shared, not remade.
        let lazyLines = lazy.batches.withLock { $0 }.flatMap(\.schemaV1Lines.events)
        #expect(lazyLines == first.events.map(\.json))
    }

    @Test func aBatchBuiltByHandEncodesItsOwnLinesOnFirstUse() throws {
        let identity = ServiceIdentity(service: "svc", environment: "test")
        let record = ExchangeRecord(
            id: EventID(high: 7, low: 9), direction: .incoming, startTimeNanoseconds: 0, durationNanoseconds: 5,
            request: RequestHead(method: "GET", target: "/a"), response: ResponseHead(status: 204))
        let batch = ExportBatch(identity: identity, records: [record], sentAtNanoseconds: 0)
        #expect(batch.schemaV1Lines.events == [EventEncoder(identity: identity).encode(record)])
        #expect(batch.schemaV1Lines.entities.isEmpty)
    }
}
