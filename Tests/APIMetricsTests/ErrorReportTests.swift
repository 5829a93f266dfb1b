import Testing
import APIMetricsTestSupport
import APIMetricsTesting
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

    @Test func reportErrorAndFailRecordTheLineOfTheirCaller() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let reporting = metrics.recorder.begin(RequestHead(method: "GET", target: "/reported"))
        reporting.reportError(Inner()); let reportLine = #line
        reporting.finish()
        let failing = metrics.recorder.begin(RequestHead(method: "GET", target: "/failed"))
        failing.fail(Inner(), status: 503); let failLine = #line
        await metrics.shutdown(timeout: .seconds(60))
        let records = Dictionary(exporter.events.map { ($0.record.request.target, $0) }) { first, _ in first }
        #expect(records["/reported"]?.record.errors.first?.location == "APIMetricsTests/ErrorReportTests.swift:\(reportLine)")
        #expect(records["/failed"]?.record.errors.first?.location == "APIMetricsTests/ErrorReportTests.swift:\(failLine)")
        #expect(records["/failed"]?.record.response?.status == 503)
    }

    /// What an adapter calls for an error the handler threw: it knows only
    /// its own line, so the error goes with no location at all.
    @Test func anAdapterReportsAndFailsWithNoLocation() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let reporting = metrics.recorder.begin(RequestHead(method: "GET", target: "/reported"))
        reporting.reportError(Inner(), location: nil)
        reporting.finish()
        let failing = metrics.recorder.begin(RequestHead(method: "GET", target: "/failed"))
        failing.fail(Outer(), status: 502, location: nil)
        let defaulted = metrics.recorder.begin(RequestHead(method: "GET", target: "/defaulted"))
        defaulted.fail(Inner(), location: nil)
        await metrics.shutdown(timeout: .seconds(60))
        let events = Dictionary(exporter.events.map { ($0.record.request.target, $0) }) { first, _ in first }
        for target in ["/reported", "/failed", "/defaulted"] {
            let event = try #require(events[target], "\(target)")
            #expect(event.record.errors.count == 1)
            #expect(event.record.errors.first?.location == nil)
            let json = try #require(jsonObject(event.json))
            let error = try #require(json["error"] as? [String: Any])
            #expect(error["location"] == nil, "\(target)")
            #expect(!String(decoding: event.json, as: UTF8.self).contains("location"))
        }
        #expect(events["/failed"]?.record.response?.status == 502)
        #expect(events["/failed"]?.record.errors.first?.causes.map(\.type) == ["Middle", "Inner"])
        #expect(events["/defaulted"]?.record.response?.status == 500)
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
