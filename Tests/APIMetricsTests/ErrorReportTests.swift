import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Error reports")
struct ErrorReportTests {
    struct Inner: Error, CustomStringConvertible { var description: String { "disk full" } }
    struct Middle: Error, UnderlyingErrorProviding, CustomStringConvertible {
        var underlyingError: (any Error)? { Inner() }
        var description: String { "could not write" }
    }
    struct Outer: Error, UnderlyingErrorProviding, CustomStringConvertible {
        var underlyingError: (any Error)? { Middle() }
        var description: String { "could not save the order" }
    }
    struct Loop: Error, UnderlyingErrorProviding {
        var underlyingError: (any Error)? { Loop() }
    }

    @Test func theChainTheLocationAndSeveralErrorsAreKept() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let handler = metrics.recorder.instrument { _ in
            reportError(Outer())
            let decoding = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad", underlyingError: Inner()))
            reportError(decoding)
            reportError(Loop())
            return ServerResponse(status: 200)
        }
        _ = try await handler(ServerRequest(method: "GET", target: "/x"))
        #expect(!reportError(Inner()))  // no exchange outside a handler
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.errors.count == 3)
        let outer = record.errors[0]
        #expect(outer.type == "Outer")
        #expect(outer.causes.map(\.type) == ["Middle", "Inner"])
        #expect(outer.causes.map(\.message) == ["could not write", "disk full"])
        #expect(outer.location?.hasPrefix("APIMetricsTests/ErrorReportTests.swift:") == true)
        #expect(record.errors[1].causes.map(\.type) == ["Inner"])
        #expect(record.errors[2].causes.count == RecordedError.maxCauses)
        let first = try #require(exporter.events.first)
        let json = try #require(jsonObject(first.json))
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect((errors[0]["causes"] as? [[String: Any]])?.count == 2)
        #expect(errors[0]["location"] is String)
    }

    @Test func anExplicitExchangeCanBeNamed() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/y"))
        #expect(reportError(Inner(), to: exchange))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.first?.record.errors.first?.message == "disk full")
    }

    @Test func errorStatusMappingsChainAndTheFirstThatKnowsDecides() {
        struct OutOfStock: Error {}
        struct Teapot: ResponseStatusProviding { var responseStatus: Int { 418 } }
        struct Unknown: Error {}
        let statuses = ErrorStatusMapping { $0 is OutOfStock ? 409 : nil }
            .then(ErrorStatusMapping { $0 is Teapot ? 503 : nil })
            .then(.responseStatusProviding)
        #expect(statuses.status(of: OutOfStock()) == 409)
        #expect(statuses.status(of: Teapot()) == 503)
        #expect(ErrorStatusMapping.responseStatusProviding.status(of: Teapot()) == 418)
        #expect(statuses.status(of: Unknown()) == nil)
    }
}
