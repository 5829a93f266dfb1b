import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// Monoscope through the OTLP trace exporter: the request Monoscope's
/// collector receives (path, key, encoding), and the span's name and
/// attributes, read from the same encoder's http/json form. The protobuf
/// body itself is decoded by opentelemetry-proto in Tests/EndToEnd/vendor-check.sh.
@Suite("Monoscope exporter")
struct MonoscopeExporterTests {
    @Test func spansGoToV1TracesWithTheAPIKey() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        var config = testConfiguration([.monoscope(MonoscopeOptions(apiKey: "mono-key-1", endpoint: collector.baseURL))])
        config.metrics.interval = .seconds(3600)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let request = try #require(collector.requests.first)
        #expect(collector.requests.count == 1 && request.target == "/v1/traces")
        #expect(request.header("x-api-key") == "mono-key-1")
        #expect(request.header("content-type") == "application/x-protobuf" && request.header("content-encoding") == "gzip")
        #expect(metrics.statistics.exported == 1)
    }

    /// The README's example, as it is there.
    @Test func theReadmesExampleAddsMonoscope() throws {
        var config = APIMetricsConfiguration(service: "orders-api", exporters: [])
        let monoscopeAPIKey = "k"
        config.exporters.append(.monoscope(apiKey: monoscopeAPIKey))
        #expect(config.exporters.map(\.summary) == ["monoscope http://otelcol.apitoolkit.io:4318"])
        #expect(throws: Never.self) { try config.validate() }
    }

    @Test func theSpanCarriesMonoscopesAttributes() throws {
        var headers: HeaderFields = ["Host": "api.example.com", "Accept": "a", "X-Trace": "t"]
        headers.append(name: "accept", value: "b")
        var record = ExchangeRecord(
            id: EventID(high: 0x1111, low: 0x2222), direction: .incoming, startTimeNanoseconds: 1_795_255_200_000_000_000,
            durationNanoseconds: 12_000_000,
            request: RequestHead(method: "POST", target: "/orders/42/items?tag=a&tag=b&q=x%20y", headers: headers,
                                 route: "/orders/{id}/items"),
            requestBody: CapturedBody(bytes: Array(#"{"sku":"A"}"#.utf8), size: 11),
            response: ResponseHead(status: 500), responseBody: CapturedBody(bytes: [0xFF, 0x00], size: 2))
        record.errors = [RecordedError(type: "DBError", message: "down", location: "Orders.swift:9",
                                       causes: [RecordedError(type: "SocketError", message: "refused")])]
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: "1.2.3", tags: ["prod", "eu"]))
        let document = try #require(jsonObject(encoder.encodeJSON([record], resource: OTLPResource(identity: ServiceIdentity(service: "s", environment: "test")))))
        let span = try #require(((((document["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?
            .first?["spans"]) as? [[String: Any]])?.first)
        #expect(span["name"] as? String == "monoscope.http" && span["kind"] as? Int == 2)
        var attributes: [String: Any] = [:]
        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
            let value = attribute["value"] as? [String: Any] ?? [:]
            let array = (value["arrayValue"] as? [String: Any])?["values"] as? [[String: Any]]
            let key = attribute["key"] as? String ?? ""
            if let text = value["stringValue"] {
                attributes[key] = text
            } else if let number = value["intValue"] {
                attributes[key] = number
            } else if let array {
                attributes[key] = array.map { $0["stringValue"] as? String ?? "" }
            }
        }
        #expect(attributes["apitoolkit.msg_id"] as? String == record.id.uuidString)
        #expect(attributes["apitoolkit.sdk_type"] as? String == "SwiftAPIMetrics")
        #expect(attributes["apitoolkit.service_version"] as? String == "1.2.3")
        #expect(attributes["apitoolkit.tags"] as? [String] == ["prod", "eu"])
        #expect(attributes["http.request.query_params"] as? String == #"{"q":["x y"],"tag":["a","b"]}"#)
        #expect(attributes["http.request.path_params"] as? String == #"{"id":"42"}"#)
        #expect(attributes["http.request.body"] as? String == Data(#"{"sku":"A"}"#.utf8).base64EncodedString())
        #expect(attributes["http.response.body"] as? String == "/wA=")
        #expect(attributes["http.request.header.accept"] as? [String] == ["a", "b"])
        #expect(attributes["http.route"] as? String == "/orders/{id}/items" && attributes["net.host.name"] as? String == "api.example.com")
        let errors = try #require((attributes["apitoolkit.errors"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [[String: String]])
        #expect(errors.first?["error_type"] == "DBError" && errors.first?["root_error_type"] == "SocketError")
        #expect(errors.first?["root_error_message"] == "refused" && errors.first?["when"]?.hasPrefix("2026-11-21T10:00:00.012") == true)
    }

    @Test func anOutgoingCallNamesItsParent() throws {
        var record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .outgoing, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "GET", target: "http://upstream/x"), response: ResponseHead(status: 200))
        record.parentID = EventID(high: 3, low: 4)
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: nil, tags: []))
        let text = String(decoding: encoder.encodeJSON([record], resource: OTLPResource(identity: ServiceIdentity(service: "s", environment: "test"))), as: UTF8.self)
        #expect(text.contains(EventID(high: 3, low: 4).uuidString))
        #expect(text.contains(#""kind":3"#))
    }

    @Test func theEnvironmentTurnsItOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_MONOSCOPE_API_KEY": "k1", "APIMETRICS_MONOSCOPE_ENDPOINT": "http://127.0.0.1:9", "APIMETRICS_TAGS": "a,b",
        ])
        #expect(config.exporters.map(\.summary).contains("monoscope http://127.0.0.1:9"))
        let error = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_MONOSCOPE_API_KEY": "k1", "APIMETRICS_MONOSCOPE_ENDPOINT": "ftp://x"])
        }
        #expect(error?.field == "APIMETRICS_MONOSCOPE_ENDPOINT")
    }
}
