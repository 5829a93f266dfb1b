import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics

@Suite("Trace context")
struct TraceContextTests {
    @Test func readsAValidTraceparent() throws {
        let context = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.parentSpanID == "00f067aa0ba902b7")
        #expect(context.flags == 1)
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future") != nil)
    }

    @Test(arguments: [
        "", "00", "garbage",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // version 00 has no more fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ])
    func ignoresAnInvalidTraceparent(value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test func incomingExchangesKeepAValidTraceAndIgnoreAnInvalidOne() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let valid = metrics.recorder.begin(
            RequestHead(
                method: "GET", target: "/a", headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]))
        let invalid = metrics.recorder.begin(RequestHead(method: "GET", target: "/b", headers: ["traceparent": "00-zzz"]))
        #expect(valid.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(invalid.traceID == invalid.id.description)
        valid.finish()
        invalid.finish()
        await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.map(\.record.traceID) == ["4bf92f3577b34da6a3ce929d0e0e4736", invalid.id.description])
    }
}
