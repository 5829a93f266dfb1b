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
    /// Traces, logs and metrics, each to its own path, with the key in the
    /// header and in the resource of each body (issue 26: only traces were
    /// sent, and the key only in the header).
    @Test func theThreeSignalsGoWithTheKeyInTheHeaderAndTheResource() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        var config = testConfiguration([.monoscope(MonoscopeOptions(apiKey: "mono-key-1", endpoint: collector.baseURL))])
        config.metrics.interval = .seconds(3600)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let requests = collector.requests
        #expect(Set(requests.map(\.target)) == ["/v1/traces", "/v1/logs", "/v1/metrics"])
        for request in requests {
            #expect(request.header("x-api-key") == "mono-key-1")
            #expect(request.header("content-type") == "application/x-protobuf" && request.header("content-encoding") == "gzip")
            #expect(Self.contains(request.body, Self.keyValue("at-project-key", "mono-key-1")), "\(request.target)")
        }
        #expect(metrics.statistics.exported >= 2)
    }

    /// The key as a `KeyValue` with a string value, in protobuf bytes.
    static func keyValue(_ key: String, _ value: String) -> [UInt8] {
        let anyValue = [0x0A, UInt8(value.utf8.count)] + Array(value.utf8)
        return [0x0A, UInt8(key.utf8.count)] + Array(key.utf8) + [0x12, UInt8(anyValue.count)] + anyValue
    }

    static func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
        guard bytes.count >= part.count else { return false }
        return (0...(bytes.count - part.count)).contains { bytes[$0..<($0 + part.count)].elementsEqual(part) }
    }

    @Test func theKeyIsAResourceAttributeNotASpanOne() throws {
        let options = MonoscopeOptions(apiKey: "k-2").otlpOptions
        #expect(options.resourceAttributes.map(\.key) == ["at-project-key"] && options.resourceAttributes.map(\.value) == ["k-2"])
        #expect(options.signals == [.traces, .logs, .metrics])
    }

    /// The README's example, as it is there; the default is the collector
    /// Monoscope's docs name now (issue 26: it was the old apitoolkit.io one).
    @Test func theReadmesExampleAddsMonoscope() throws {
        var config = APIMetricsConfiguration(service: "orders-api", exporters: [])
        let monoscopeAPIKey = "k"
        config.exporters.append(.monoscope(apiKey: monoscopeAPIKey))
        #expect(config.exporters.map(\.summary) == ["monoscope http://otelcol.monoscope.tech:4318"])
        #expect(throws: Never.self) { try config.validate() }
        let exporters = try config.exporters[0].makeExporters(field: "exporters[0]")
        #expect(
            exporters.map(\.name) == [
                "otlp-traces(http://otelcol.monoscope.tech:4318/v1/traces)",
                "otlp-logs(http://otelcol.monoscope.tech:4318/v1/logs)",
                "otlp-metrics(http://otelcol.monoscope.tech:4318/v1/metrics)",
            ])
    }

    @Test func theSpanCarriesMonoscopesAttributes() throws {
        var headers: HeaderFields = ["Host": "api.example.com", "Accept": "a", "X-Trace": "t"]
        headers.append(name: "accept", value: "b")
        var record = ExchangeRecord(
            id: EventID(high: 0x1111, low: 0x2222), direction: .incoming, startTimeNanoseconds: 1_795_255_200_000_000_000,
            durationNanoseconds: 12_000_000,
            request: RequestHead(
                method: "POST", target: "/orders/42/items?tag=a&tag=b&q=x%20y", headers: headers,
                route: "/orders/{id}/items"),
            requestBody: CapturedBody(bytes: Array(#"{"sku":"A"}"#.utf8), size: 11),
            response: ResponseHead(status: 500), responseBody: CapturedBody(bytes: [0xFF, 0x00], size: 2))
        record.errors = [
            RecordedError(
                type: "DBError", message: "down", location: "Orders.swift:9",
                causes: [RecordedError(type: "SocketError", message: "refused")])
        ]
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: "1.2.3", tags: ["prod", "eu"]))
        let document = try #require(
            jsonObject(
                encoder.encodeJSON([record], resource: OTLPResource(identity: ServiceIdentity(service: "s", environment: "test")))
            ))
        let span = try #require(
            ((((document["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?
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
        #expect(
            attributes["http.route"] as? String == "/orders/{id}/items"
                && attributes["net.host.name"] as? String == "api.example.com")
        let errors = try #require(
            (attributes["apitoolkit.errors"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
                as? [[String: String]])
        #expect(errors.first?["error_type"] == "DBError" && errors.first?["root_error_type"] == "SocketError")
        #expect(
            errors.first?["root_error_message"] == "refused"
                && errors.first?["when"]?.hasPrefix("2026-11-21T10:00:00.012") == true)
    }

    @Test func anOutgoingCallNamesItsParent() throws {
        var record = ExchangeRecord(
            id: EventID(high: 1, low: 2), direction: .outgoing, startTimeNanoseconds: 0, durationNanoseconds: 0,
            request: RequestHead(method: "GET", target: "http://upstream/x"), response: ResponseHead(status: 200))
        record.parentID = EventID(high: 3, low: 4)
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: nil, tags: []))
        let text = String(
            decoding: encoder.encodeJSON(
                [record], resource: OTLPResource(identity: ServiceIdentity(service: "s", environment: "test"))), as: UTF8.self)
        #expect(text.contains(EventID(high: 3, low: 4).uuidString))
        #expect(text.contains(#""kind":3"#))
    }

    @Test func theEnvironmentTurnsItOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_MONOSCOPE_API_KEY": "k1", "APIMETRICS_MONOSCOPE_ENDPOINT": "http://127.0.0.1:9", "APIMETRICS_TAGS": "a,b",
        ])
        #expect(config.exporters.map(\.summary).contains("monoscope http://127.0.0.1:9"))
        let error = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment([
                "APIMETRICS_MONOSCOPE_API_KEY": "k1", "APIMETRICS_MONOSCOPE_ENDPOINT": "ftp://x",
            ])
        }
        #expect(error?.field == "APIMETRICS_MONOSCOPE_ENDPOINT")
    }

    /// Each signal can be turned off, by option or variable; not all three.
    @Test func eachSignalCanBeTurnedOff() throws {
        func signals(_ environment: [String: String]) throws -> [String] {
            let config = try APIMetricsConfiguration.fromEnvironment(
                ["APIMETRICS_MONOSCOPE_API_KEY": "k1"].merging(environment) { $1 })
            guard let entry = config.exporters.first(where: { $0.summary.hasPrefix("monoscope") }) else { return [] }
            return try entry.makeExporters(field: "monoscope").compactMap { ($0 as? OTLPExporter)?.signal.description }
        }
        #expect(try signals([:]) == ["traces", "logs", "metrics"])
        #expect(try signals(["APIMETRICS_MONOSCOPE_LOGS": "false"]) == ["traces", "metrics"])
        #expect(try signals(["APIMETRICS_MONOSCOPE_METRICS": "0", "APIMETRICS_MONOSCOPE_TRACES": "off"]) == ["logs"])
        let allOff = #expect(throws: ConfigurationError.self) {
            try signals([
                "APIMETRICS_MONOSCOPE_LOGS": "false", "APIMETRICS_MONOSCOPE_METRICS": "false",
                "APIMETRICS_MONOSCOPE_TRACES": "false",
            ])
        }
        #expect(allOff?.field == "APIMETRICS_MONOSCOPE_TRACES")
        let badValue = #expect(throws: ConfigurationError.self) { try signals(["APIMETRICS_MONOSCOPE_LOGS": "maybe"]) }
        #expect(badValue?.field == "APIMETRICS_MONOSCOPE_LOGS")
        let withoutKey = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_MONOSCOPE_METRICS": "false"])
        }
        #expect(withoutKey?.field == "APIMETRICS_MONOSCOPE_METRICS")
        let options = MonoscopeOptions(apiKey: "k", signals: [.traces])
        #expect(try ExporterConfiguration.monoscope(options).makeExporters(field: "m").count == 1)
    }

    static func resource() -> OTLPResource { OTLPResource(identity: ServiceIdentity(service: "s", environment: "test")) }

    /// `attributes` of the first span's first event, by key.
    static func eventAttributes(_ record: ExchangeRecord) throws -> [String: String] {
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: nil, tags: []))
        let document = try #require(jsonObject(encoder.encodeJSON([record], resource: resource())))
        let span = try #require(
            ((((document["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?
                .first?["spans"]) as? [[String: Any]])?.first)
        let event = try #require((span["events"] as? [[String: Any]])?.first)
        #expect(event["name"] as? String == "exception")
        var attributes: [String: String] = [:]
        for attribute in event["attributes"] as? [[String: Any]] ?? [] {
            attributes[attribute["key"] as? String ?? ""] = (attribute["value"] as? [String: Any])?["stringValue"] as? String
        }
        return attributes
    }

    static func failedRecord(_ error: RecordedError) -> ExchangeRecord {
        var record = ExchangeRecord(
            id: EventID(high: 5, low: 6), direction: .incoming, startTimeNanoseconds: 1_795_255_200_000_000_000,
            durationNanoseconds: 1,
            request: RequestHead(method: "GET", target: "/orders/42"), response: ResponseHead(status: 500))
        record.errors = [error]
        return record
    }

    /// `exception.stacktrace` on the event (issue 26: it was missing): the
    /// error, its causes, the place last, which Monoscope groups issues by;
    /// with no place there is no trace, so that Monoscope groups by type
    /// and masked message rather than by a line holding a message.
    @Test func exceptionEventsCarryTheStacktrace() throws {
        let error = RecordedError(
            type: "DBError", message: "down for 10.0.0.1", location: "Orders/Handlers.swift:42",
            causes: [
                RecordedError(type: "SocketError", message: "refused"),
                RecordedError(type: "POSIXError", message: "ECONNREFUSED"),
            ])
        let attributes = try Self.eventAttributes(Self.failedRecord(error))
        #expect(attributes["exception.type"] == "DBError" && attributes["exception.message"] == "down for 10.0.0.1")
        #expect(
            attributes["exception.stacktrace"] == """
                DBError: down for 10.0.0.1
                caused by SocketError: refused
                caused by POSIXError: ECONNREFUSED
                at Orders/Handlers.swift:42
                """)
        let placeless = try Self.eventAttributes(
            Self.failedRecord(RecordedError(type: "E", message: "m 42", causes: [RecordedError(type: "C", message: "c")])))
        #expect(placeless["exception.type"] == "E" && placeless["exception.stacktrace"] == nil)
        let errors = try #require(Self.jsonArray(MonoscopeSpanProfile.errorsJSON(Self.failedRecord(error))))
        let stack = errors.first?["stack_trace"] as? String
        #expect(stack != nil && stack == OTLPException.stacktrace(error))
    }

    static func jsonArray(_ text: String) -> [[String: Any]]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]
    }

    /// The request log's records carry the trace too, and a truncated body
    /// keeps its value at Monoscope, which nests keys at their dots (a
    /// `….body.truncated` key would replace `….body` there).
    @Test func logRecordsKeepTheirBodyAndCarryTheStacktrace() throws {
        var record = Self.failedRecord(RecordedError(type: "DBError", message: "down", location: "A.swift:1"))
        record.requestBody = CapturedBody(bytes: Array("{\"a\":1".utf8), size: 100_000, isTruncated: true)
        func keys(_ encoder: OTLPLogEncoder) throws -> [String: Any] {
            let document = try #require(jsonObject(encoder.encodeJSON([record], resource: Self.resource())))
            let log = try #require(
                ((((document["resourceLogs"] as? [[String: Any]])?.first?["scopeLogs"] as? [[String: Any]])?
                    .first?["logRecords"]) as? [[String: Any]])?.first)
            var attributes: [String: Any] = [:]
            for attribute in log["attributes"] as? [[String: Any]] ?? [] {
                attributes[attribute["key"] as? String ?? ""] = attribute["value"]
            }
            return attributes
        }
        let monoscope = try keys(OTLPLogEncoder(monoscope: true))
        #expect(monoscope["apimetrics.request.body_truncated"] != nil && monoscope["apimetrics.request.body.truncated"] == nil)
        #expect(monoscope["apimetrics.request.body"] != nil && monoscope["exception.stacktrace"] != nil)
        for key in monoscope.keys {
            #expect(!monoscope.keys.contains { $0.hasPrefix(key + ".") }, "\(key) is also the start of another key")
        }
        #expect(try keys(OTLPLogEncoder())["apimetrics.request.body.truncated"] != nil)
    }

    /// The consumer as Monoscope's JS SDK `setUser` writes it.
    @Test func theConsumerIsTheUser() throws {
        var record = Self.failedRecord(RecordedError(type: "E", message: "m"))
        record.consumer = Consumer(id: "cust-7", name: "Ada", email: "ada@example.com")
        let encoder = OTLPTraceEncoder(monoscope: MonoscopeSpanProfile(serviceVersion: nil, tags: []))
        let text = String(decoding: encoder.encodeJSON([record], resource: Self.resource()), as: UTF8.self)
        for (key, value) in [("user.id", "cust-7"), ("user.email", "ada@example.com"), ("user.full_name", "Ada")] {
            #expect(text.contains(#"{"key":"\#(key)","value":{"stringValue":"\#(value)"}}"#), "\(key)")
        }
    }
}
