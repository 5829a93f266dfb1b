import APIMetricsTestSupport
import APIMetricsTesting
import Testing
@testable import APIMetrics

/// The parts of the OTLP trace encoding that read strings; the encoding
/// itself is checked by opentelemetry-proto in Tests/EndToEnd/otlp-check.sh.
@Suite("OTLP traces")
struct OTLPTraceTests {
    @Test(
        arguments: [
            ("api.example.com:8443", "api.example.com", 8443), ("api.example.com", "api.example.com", nil),
            ("[::1]:8080", "::1", 8080), ("[2001:db8::1]", "2001:db8::1", nil), ("::1", "::1", nil),
            ("host:notaport", "host", nil), ("", "", nil), ("host:99999", "host", nil), ("host:", "host", nil),
        ] as [(String, String, Int?)])
    func hostsSplitIntoAddressAndPort(host: String, address: String, port: Int?) {
        let (parsedAddress, parsedPort) = OTLPTraceEncoder.split(host: host)
        #expect(parsedAddress == address && parsedPort == port)
    }

    @Test func absoluteTargetsGiveTheirSchemeAndHost() {
        #expect(OTLPTraceEncoder.schemeAndHost(of: "HTTPS://user:pw@inventory:9000/x?y#z")! == ("https", "inventory:9000"))
        #expect(OTLPTraceEncoder.schemeAndHost(of: "http://h")! == ("http", "h"))
        #expect(OTLPTraceEncoder.schemeAndHost(of: "/orders?next=http://elsewhere") == nil)
        #expect(OTLPTraceEncoder.schemeAndHost(of: "://nothing") == nil)
    }

    @Test func traceIDsThatAreNotHexOrAllZeroFallBackToTheEventID() {
        let id = EventID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        let own = (id.high, id.low)
        #expect(
            OTLPIDs.traceID("4bf92f3577b34da6a3ce929d0e0e4736", fallback: id) == (0x4BF9_2F35_77B3_4DA6, 0xA3CE_929D_0E0E_4736))
        #expect(
            OTLPIDs.traceID("4BF92F3577B34DA6A3CE929D0E0E4736", fallback: id) == (0x4BF9_2F35_77B3_4DA6, 0xA3CE_929D_0E0E_4736))
        #expect(OTLPIDs.traceID(nil, fallback: id) == own)
        #expect(OTLPIDs.traceID("4bf92f3577b34da6a3ce929d0e0e473x", fallback: id) == own)
        #expect(OTLPIDs.traceID(String(repeating: "0", count: 32), fallback: id) == own)
        #expect(OTLPIDs.traceID("4bf9", fallback: id) == own)
        #expect(OTLPIDs.traceID("ü" + String(repeating: "a", count: 30), fallback: id) == own)
        #expect(OTLPTraceEncoder.spanID(EventID(high: 5, low: 0)) != 0)
    }

    @Test func anIncomingTraceparentNamesTheParentSpan() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        for (path, traceparent) in [
            ("/valid", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("/zero-parent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            ("/none", ""),
        ] {
            let headers: HeaderFields = traceparent.isEmpty ? [:] : ["traceparent": traceparent]
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: path, headers: headers))
            exchange.recordResponseHead(ResponseHead(status: 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(30))
        let records = exporter.received.flatMap(\.records)
        #expect(records.count == 3)
        let valid = try #require(records.first { $0.request.target == "/valid" })
        #expect(valid.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && valid.remoteParentSpanID == 0x00F0_67AA_0BA9_02B7)
        #expect(records.first { $0.request.target == "/zero-parent" }?.remoteParentSpanID == nil)
        #expect(records.first { $0.request.target == "/none" }?.remoteParentSpanID == nil)
    }

    @Test func serverAndClientSpansFailOnDifferentStatuses() {
        func record(_ direction: ExchangeDirection, _ status: Int?) -> ExchangeRecord {
            ExchangeRecord(
                id: EventID(high: 1, low: 2), direction: direction, startTimeNanoseconds: 0, durationNanoseconds: 0,
                request: RequestHead(method: "GET", target: "/"), response: status.map { ResponseHead(status: $0) })
        }
        #expect(!OTLPTraceEncoder.isError(record(.incoming, 404)) && OTLPTraceEncoder.isError(record(.incoming, 500)))
        #expect(OTLPTraceEncoder.isError(record(.outgoing, 404)) && !OTLPTraceEncoder.isError(record(.outgoing, 302)))
        #expect(
            OTLPTraceEncoder.isError(record(.incoming, nil)) && OTLPTraceEncoder.errorType(record(.incoming, nil)) == "_OTHER")
    }
}
