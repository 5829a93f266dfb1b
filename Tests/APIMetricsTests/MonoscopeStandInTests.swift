import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// Monoscope against its strict stand-in (Tests/EndToEnd/vendors/monoscope.py):
/// the three signals, decoded by opentelemetry-proto and checked against what
/// Monoscope's ingest reads, with the key in the header and the resource.
@Suite("Monoscope against its stand-in", .serialized)
struct MonoscopeStandInTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Mixed calls: JSON, binary, non-UTF-8 and cut bodies, OPTIONS, a 404
    /// scan, a reported error with causes, a failed handler with no
    /// response, an outgoing call, a consumer; every request taken.
    @Test func mixedTrafficIsTakenWhole() async throws {
        let standIn = try await VendorStandIn.start("monoscope")
        var config = testConfiguration([
            .monoscope(MonoscopeOptions(apiKey: "mono-e2e-key", endpoint: standIn.url, tags: ["e2e"]))
        ])
        config.metrics.interval = .seconds(3600)
        let metrics = try APIMetricsService(configuration: config)
        let recorder = metrics.recorder
        func call(
            _ method: String, _ target: String, status: Int?, request: [UInt8] = [], response: [UInt8] = [],
            headers: HeaderFields = ["Host": "api.test", "Content-Type": "application/json"], route: String? = nil,
            _ body: (ActiveExchange) -> Void = { _ in }
        ) {
            let exchange = recorder.begin(RequestHead(method: method, target: target, headers: headers))
            if let route { exchange.setRoute(route) }
            exchange.recordRequestBody(request)
            body(exchange)
            if let status {
                exchange.recordResponseHead(ResponseHead(status: status, headers: ["Content-Type": "application/json"]))
                exchange.recordResponseBody(response)
            }
            exchange.finish()
        }
        call(
            "POST", "/orders?tag=a&tag=b", status: 201, request: Array(#"{"sku":"A"}"#.utf8), response: Array(#"{"id":42}"#.utf8),
            route: "/orders")
        call("GET", "/orders/42", status: 200, response: [0x00, 0xFF, 0x10], route: "/orders/{id}") {
            $0.setConsumer(Consumer(id: "c-1", name: "Ada", email: "a@x.test"))
        }
        call("PUT", "/notes/7", status: 200, request: [0xC3, 0x28, 0x41], route: "/notes/{id}")
        call("OPTIONS", "/orders", status: 204)
        call("GET", "/wp-login.php", status: 404)
        call("GET", "/orders/9", status: 500, route: "/orders/{id}") { exchange in
            exchange.reportError(URLError(.cannotConnectToHost))
        }
        call("GET", "/drop", status: nil, route: "/drop") { exchange in exchange.fail(URLError(.networkConnectionLost)) }
        call("GET", "/big", status: 200, response: Array(repeating: UInt8(ascii: "x"), count: 200_000), route: "/big")
        await metrics.shutdown(timeout: .seconds(30))
        let received = try await standIn.received()
        #expect(try await standIn.refusals() == [])
        #expect(Set(received.map(\.path)) == ["/v1/traces", "/v1/logs", "/v1/metrics"])
        #expect(received.allSatisfy { $0.status == 200 })
        #expect(metrics.statistics.failed == 0 && metrics.statistics.rejected == 0)
    }

    /// What the exporter sent before issue 26 (the key in the header only)
    /// is refused, as collectors before March 2026 would lose it; a wrong key
    /// is refused too: the stand-in is not an accept-all.
    @Test func aKeyOnlyInTheHeaderOrAWrongKeyIsRefused() async throws {
        let standIn = try await VendorStandIn.start("monoscope")
        var headerOnly = MonoscopeOptions(apiKey: "mono-e2e-key", endpoint: standIn.url).otlpOptions
        headerOnly.resourceAttributes = []
        let wrong = MonoscopeOptions(apiKey: "not-the-key", endpoint: standIn.url).otlpOptions
        var record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 1_795_255_200_000_000_000,
            durationNanoseconds: 5,
            request: RequestHead(method: "GET", target: "/x"), response: ResponseHead(status: 200))
        record.requestBody = CapturedBody()
        for options in [headerOnly, wrong] {
            let exporter = try OTLPExporter(signal: .traces, options: options)
            let body = try exporter.fitted([record]) {
                OTLPTraceEncoder(monoscope: options.monoscope).encode(
                    $0,
                    resource: OTLPResource(
                        identity: ServiceIdentity(service: "s", environment: "test"), attributes: options.resourceAttributes))
            }
            let response = try await URLSessionTransport().send(
                TransportRequest(
                    url: exporter.url, method: "POST",
                    headers: ["Content-Type": "application/x-protobuf", "x-api-key": options.headers["x-api-key"] ?? ""],
                    body: body, timeout: .seconds(10)))
            #expect(throws: ExportError.self) { try OTLPExporter.check(response, url: exporter.url) }
        }
        let refusals = try await standIn.refusals()
        #expect(refusals.count == 2)
        #expect(refusals.first?.contains("no at-project-key or x-api-key attribute") == true)
        #expect(refusals.last?.contains("not the project's key") == true)
        #expect(try await standIn.received().map(\.status) == [401, 403])
    }

    /// The limits: 512 records or 16 MiB a request; a single record over the
    /// bytes goes with its bodies replaced by a marker, more are refused as
    /// too large without sending (the sender halves them).
    @Test func aRequestKeepsWithinMonoscopesLimits() throws {
        var options = MonoscopeOptions(apiKey: "k", endpoint: "http://127.0.0.1:9").otlpOptions
        #expect(
            try OTLPExporter(signal: .logs, options: options).batchLimits == ExportBatchLimits(maxEvents: 512, maxBytes: 16 << 20)
        )
        options.batchLimits = ExportBatchLimits(maxEvents: 512, maxBytes: 4_000)
        let exporter = try OTLPExporter(signal: .traces, options: options)
        var record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 1_795_255_200_000_000_000,
            durationNanoseconds: 5,
            request: RequestHead(method: "POST", target: "/x"), response: ResponseHead(status: 200))
        record.requestBody = CapturedBody(bytes: Array(repeating: UInt8(ascii: "a"), count: 3_000), size: 3_000)
        let encoder = OTLPTraceEncoder(monoscope: options.monoscope)
        let resource = OTLPResource(identity: ServiceIdentity(service: "s", environment: "test"))
        #expect(throws: ExportError.self) { try exporter.fitted([record, record]) { encoder.encode($0, resource: resource) } }
        let single = try exporter.fitted([record]) { encoder.encodeJSON($0, resource: resource) }
        let text = String(decoding: single, as: UTF8.self)
        #expect(single.count <= 4_000)
        #expect(text.contains(Data(#""[body left out: the request passed 4000 bytes]""#.utf8).base64EncodedString()))
    }
}
