import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing
@testable import APIMetrics

/// The OTLP/HTTP exporter against a real collector on loopback: which
/// answers are retried, how long it waits, what a partial success does.
/// What the bodies hold is checked by opentelemetry-proto's own decoder in
/// Tests/EndToEnd/otlp-check.sh.
/// Keeps the names of the exporters whose batches it is handed.
final class UndeliveredCollector: UndeliveredBatchHandler {
    private let handed = Mutex<[String]>([])
    func handle(_ batch: UndeliveredBatch) async { handed.withLock { $0.append(batch.exporterName) } }
    var names: [String] { handed.withLock { $0 } }
}

@Suite("OTLP exporter")
struct OTLPExporterTests {
    /// Records `count` calls through a service exporting `signals` to
    /// `collector`, shuts it down and returns its statistics.
    private func run(
        _ collector: TestCollector, signals: Set<OTLPExporter.Signal> = [.traces], encoding: OTLPExporter.Encoding = .protobuf,
        retry: RetryPolicy? = nil, count: Int = 1, configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) async throws -> Statistics {
        var config = testConfiguration([.otlp(.init(endpoint: collector.baseURL, signals: signals, encoding: encoding))])
        if let retry { config.retry = retry }
        configure(&config)
        let metrics = try APIMetricsService(configuration: config)
        for index in 0..<count { recordExchange(metrics.recorder, target: "/orders/\(index)") }
        await metrics.shutdown(timeout: .seconds(30))
        return metrics.statistics
    }

    @Test(arguments: [429, 502, 503, 504])
    func theRetryableStatusesAreSentAgain(status: Int) async throws {
        let collector = try TestCollector { $0 == 0 ? .status(status) : .status(200) }
        defer { collector.stop() }
        let statistics = try await run(collector)
        #expect(collector.requests.count == 2)
        #expect(collector.requests.allSatisfy { $0.target == "/v1/traces" })
        #expect(statistics.exported == 1 && statistics.failed == 0)
    }

    @Test(arguments: [400, 401, 403, 404, 408, 413, 500, 501])
    func everyOtherStatusIsARefusalNotRetried(status: Int) async throws {
        let collector = try TestCollector { _ in .status(status) }
        defer { collector.stop() }
        let statistics = try await run(collector)
        #expect(collector.requests.count == 1)
        #expect(statistics.failed == 1 && statistics.exported == 0)
    }

    /// Refused everywhere: the call is lost to the span and the log
    /// exporters, and the metrics exporter, which never carried it, loses
    /// only its window (and hands nothing to the undelivered-batch handler).
    @Test func aRefusedMetricsWindowIsNoFailedEvent() async throws {
        let collector = try TestCollector { _ in .status(400) }
        defer { collector.stop() }
        let handed = UndeliveredCollector()
        let statistics = try await run(collector, signals: [.traces, .logs, .metrics]) { config in
            config.metrics.interval = .seconds(3600)
            config.undeliveredBatchHandler = handed
        }
        #expect(Set(collector.requests.map(\.target)) == ["/v1/traces", "/v1/logs", "/v1/metrics"])
        #expect(statistics.failed == 2 && statistics.exported == 0)
        #expect(Set(handed.names) == ["otlp-traces(\(collector.baseURL)/v1/traces)", "otlp-logs(\(collector.baseURL)/v1/logs)"])
    }

    @Test func aConnectionClosedWithoutAnAnswerIsRetried() async throws {
        let collector = try TestCollector { $0 == 0 ? .disconnect : .status(200) }
        defer { collector.stop() }
        let statistics = try await run(collector)
        #expect(collector.requests.count == 2)
        #expect(statistics.exported == 1 && statistics.failed == 0)
    }

    /// The policy's own delay is 20 s; the batch arrives long before
    /// because the collector asked for 1 s, and not before that second.
    @Test(arguments: ["seconds", "date"])
    func retryAfterIsHonouredInBothForms(form: String) async throws {
        let collector = try TestCollector { attempt in
            guard attempt == 0 else { return .status(200) }
            if form == "seconds" { return .status(503, headers: [("Retry-After", "1")]) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            // Whole seconds: two ahead is at least one second's wait.
            return .status(429, headers: [("Retry-After", formatter.string(from: Date().addingTimeInterval(2)))])
        }
        defer { collector.stop() }
        let started = ContinuousClock.now
        let statistics = try await run(
            collector, retry: RetryPolicy(maxAttempts: 2, baseDelay: .seconds(60), maxDelay: .seconds(60), jitter: 0))
        let requests = collector.requests
        #expect(requests.count == 2 && statistics.exported == 1)
        if requests.count == 2 {
            let waited = requests[1].receivedAt - requests[0].receivedAt
            #expect(waited >= .milliseconds(900), "waited \(waited)")
            #expect(ContinuousClock.now - started < .seconds(40), "the policy's 60 s delay was used")
        }
    }

    @Test func aPartialSuccessInProtobufIsCountedAndNotRetried() async throws {
        // ExportTraceServiceResponse { partial_success { rejected_spans: 2, error_message: "bad span" } }
        var inner = ProtobufWriter()
        inner.int64(1, 2)
        inner.string(2, "bad span")
        var writer = ProtobufWriter()
        writer.message(1) { $0.appendBytes(inner.bytes) }
        let body = writer.bytes
        let collector = try TestCollector { _ in .body(200, headers: [("Content-Type", "application/x-protobuf")], body: body) }
        defer { collector.stop() }
        let statistics = try await run(collector, count: 3)
        #expect(collector.requests.count == 1)
        #expect(statistics.rejected == 2 && statistics.exported == 3 && statistics.failed == 0)
    }

    @Test func aPartialSuccessInJSONIsCountedAndNotRetried() async throws {
        let body = Array(#"{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"too large"}}"#.utf8)
        let collector = try TestCollector { _ in .body(200, headers: [("Content-Type", "application/json")], body: body) }
        defer { collector.stop() }
        let statistics = try await run(collector, signals: [.logs], encoding: .json, count: 2)
        #expect(collector.requests.count == 1 && collector.requests.first?.target == "/v1/logs")
        #expect(statistics.rejected == 1 && statistics.failed == 0)
    }

    @Test func partialSuccessBodiesAreReadDefensively() {
        #expect(OTLPPartialSuccess.parse([], isJSON: false) == nil)
        #expect(OTLPPartialSuccess.parse(Array("{}".utf8), isJSON: true) == nil)
        #expect(OTLPPartialSuccess.parse(Array(#"{"partialSuccess":{}}"#.utf8), isJSON: true)! == (0, ""))
        #expect(OTLPPartialSuccess.parse(Array(#"{"partialSuccess":{"rejectedSpans":7}}"#.utf8), isJSON: true)! == (7, ""))
        #expect(OTLPPartialSuccess.parse(Array("not json".utf8), isJSON: true) == nil)
        // Truncated, or a length past the end: nothing read, nothing thrown.
        #expect(OTLPPartialSuccess.parse([0x0A, 0x05, 0x08], isJSON: false) == nil)
        #expect(OTLPPartialSuccess.parse([0x0A, 0x02, 0x08], isJSON: false) == nil)
        var random = SeededGenerator(seed: 0x0715)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<24, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = OTLPPartialSuccess.parse(bytes, isJSON: false)
            _ = OTLPPartialSuccess.parse(bytes, isJSON: true)
        }
    }

    @Test func eachSignalGoesToItsPathWithTheProtocolsHeaders() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        var options = OTLPExporter.Options(endpoint: collector.baseURL + "/", encoding: .json, headers: ["X-Api-Key": "k1"])
        options.compression = .gzip
        var config = testConfiguration([.otlp(options)])
        config.metrics.interval = .seconds(3600)
        let metrics = try APIMetricsService(configuration: config)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let requests = collector.requests
        #expect(Set(requests.map(\.target)) == ["/v1/traces", "/v1/logs", "/v1/metrics"])
        // The call went out twice, as a span and as a log record; the metrics exporter carries no events.
        #expect(metrics.statistics.exported == 2 && metrics.statistics.failed == 0)
        for request in requests {
            #expect(request.header("content-type") == "application/json")
            #expect(request.header("content-encoding") == "gzip")
            #expect(request.header("x-api-key") == "k1")
            #expect(request.header("user-agent")?.hasPrefix("apimetrics-swift/\(APIMetricsService.libraryVersion)") == true)
            #expect(jsonObject(request.body) != nil, "\(request.target) is not JSON")
        }
        let traces = try #require(requests.first { $0.target == "/v1/traces" }.flatMap { jsonObject($0.body) })
        let span =
            ((((traces["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?.first?["spans"])
            as? [[String: Any]])?.first
        #expect((span?["traceId"] as? String)?.count == 32 && (span?["spanId"] as? String)?.count == 16)
        #expect(span?["kind"] as? Int == 2 && span?["startTimeUnixNano"] is String)
    }

    /// The README's example, as it is there.
    @Test func theReadmesExampleConfiguresEverySignal() throws {
        var config = APIMetricsConfiguration(service: "orders-api", exporters: [])
        let apiKey = "k"
        // swift-format-ignore
        config.exporters.append(.otlp(.init(
            endpoint: "http://otel-collector:4318",     // /v1/traces, /v1/logs, /v1/metrics are appended
            encoding: .protobuf,                        // or .json
            headers: ["x-api-key": apiKey],             // whatever the receiver asks for
            temporality: .delta,                        // or .cumulative
            durationHistogram: .explicitBuckets)))      // or .exponential
        let metrics = try APIMetricsService(configuration: config)
        #expect(
            metrics.configuration.exporters.last?.summary
                == "otlp http/protobuf (traces http://otel-collector:4318/v1/traces, logs http://otel-collector:4318/v1/logs, metrics http://otel-collector:4318/v1/metrics)"
        )
    }

    @Test func optionsAreCheckedAtStartup() {
        func error(_ options: OTLPExporter.Options) -> ConfigurationError? {
            do {
                _ = try APIMetricsService(configuration: testConfiguration([.otlp(options)]))
                return nil
            } catch {
                return error
            }
        }
        #expect(error(.init())?.field == "exporters[0].endpoint")
        #expect(error(.init(endpoint: "ftp://x"))?.field == "exporters[0].endpoint")
        #expect(error(.init(endpoint: "http://x", signals: []))?.field == "exporters[0].signals")
        #expect(error(.init(endpoint: "http://x", timeout: .zero))?.field == "exporters[0].timeout")
        #expect(error(.init(endpoint: "http://x", headers: ["Bad Name": "v"]))?.field == "exporters[0].headers")
        #expect(error(.init(signalEndpoints: [.logs: "http://x/logs"], signals: [.logs])) == nil)
        #expect(error(.init(signalEndpoints: [.logs: "nope"], signals: [.logs]))?.field == "exporters[0].signalEndpoints[logs]")
    }

    @Test func theStandardVariablesConfigureTheExporter() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090/api/v1/otlp/v1/metrics",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b%3Dc, x-team = core",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": "base2_exponential_bucket_histogram",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "orders",
            "OTEL_RESOURCE_ATTRIBUTES": "service.version=1.4.2,deployment.environment.name=staging,k8s.pod.name=orders-7f%2C1",
        ])
        #expect(config.service == "orders" && config.version == "1.4.2" && config.environment == "staging")
        // The default file stays: OTLP is added alongside it.
        #expect(config.exporters.count == 2)
        guard case let .otlp(options)? = config.exporters.last?.kind else {
            Issue.record("no OTLP exporter")
            return
        }
        #expect(options.url(for: .traces) == "http://collector:4318/v1/traces")
        #expect(options.url(for: .metrics) == "http://metrics:9090/api/v1/otlp/v1/metrics")
        #expect(options.signals == [.traces, .metrics])
        #expect(options.encoding == .json && options.compression == .none && options.timeout == .milliseconds(2500))
        #expect(options.headers["api-key"] == "a b=c" && options.headers["x-team"] == "core")
        #expect(options.temporality == .cumulative && options.durationHistogram == .exponential)
        #expect(
            options.resourceAttributes.map(\.key) == ["k8s.pod.name"] && options.resourceAttributes.first?.value == "orders-7f,1")
    }

    @Test func theShortcutWinsAndTheFileCanBeTurnedOff() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:4318",
            "APIMETRICS_FILE": "off",
            "APIMETRICS_STORE": "off",
            "APIMETRICS_SERVICE": "mine",
            "APIMETRICS_OTLP_SPAN_HEADERS": "true",
            "OTEL_SERVICE_NAME": "theirs",
        ])
        #expect(config.service == "mine")
        #expect(config.exporters.count == 1)
        guard case let .otlp(options)? = config.exporters.first?.kind else {
            Issue.record("no OTLP exporter")
            return
        }
        #expect(options.url(for: .logs) == "http://127.0.0.1:4318/v1/logs" && options.encoding == .protobuf)
        #expect(options.compression == .gzip && options.spansIncludeHeaders && !options.spansIncludeBodySizes)
    }

    @Test(arguments: [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"), ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"), ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "udp://x"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "lowmemory"), ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_RESOURCE_ATTRIBUTES", "a=%zz"),
    ])
    func aBadVariableIsAnErrorNamingIt(variable: String, value: String) {
        var environment = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        environment[variable] = value
        #expect(throws: ConfigurationError.self) {
            _ = try APIMetricsConfiguration.fromEnvironment(environment)
        }
        do {
            _ = try APIMetricsConfiguration.fromEnvironment(environment)
        } catch {
            #expect(error.field == variable, "\(error)")
        }
    }

    // MARK: - Metrics

    @Test func everyDurationLandsInTheExponentialBucketOfItsValue() {
        var random = SeededGenerator(seed: 0xE4B)
        for _ in 0..<3000 {
            let nanoseconds = Int64.random(in: 1...3_600_000_000_000, using: &random) >> Int64.random(in: 0...40, using: &random)
            var sketch = LatencySketch()
            sketch.add(nanoseconds: max(1, nanoseconds))
            let buckets = OTLPMetricsEncoder.exponentialBuckets(of: sketch)
            #expect(buckets.scale == 6 && buckets.counts == [1] && buckets.zeroCount == 0)
            // base^offset < value <= base^(offset+1), within the sketch's own 1/128.
            let value = Double(max(1, nanoseconds)) / 1e9
            let lower = pow(2, Double(buckets.offset) / 64), upper = pow(2, Double(buckets.offset + 1) / 64)
            #expect(lower / 1.008 < value && value <= upper * 1.008, "\(nanoseconds) ns in bucket \(buckets.offset)")
        }
    }

    @Test func aWideExponentialHistogramLowersItsScale() {
        var sketch = LatencySketch()
        for exponent in 0..<40 { sketch.add(nanoseconds: Int64(1) << Int64(exponent)) }
        sketch.add(nanoseconds: 0)
        let buckets = OTLPMetricsEncoder.exponentialBuckets(of: sketch)
        #expect(buckets.counts.count <= OTLPMetricsEncoder.maxExponentialBuckets && buckets.scale < 6)
        #expect(buckets.zeroCount == 1 && buckets.counts.reduce(0, +) == 40)
        // Every value still falls in its bucket at the lowered scale.
        let scale = Double(sign: .plus, exponent: -Int(buckets.scale), significand: 1)
        var seen = 0
        for (offset, count) in buckets.counts.enumerated() where count > 0 {
            let index = Double(Int(buckets.offset) + offset)
            let lower = pow(2, index * scale), upper = pow(2, (index + 1) * scale)
            for exponent in 0..<40
            where lower / 1.008 < Double(Int64(1) << Int64(exponent)) / 1e9
                && Double(Int64(1) << Int64(exponent)) / 1e9 <= upper * 1.008
            {
                seen += 1
            }
        }
        #expect(seen >= 40)
    }

    @Test func aCumulativeWindowIsFoldedInOnceHoweverOftenItIsSent() {
        let state = OTLPExporter.MetricsState()
        let key = SeriesKey(method: "GET", route: "/orders", status: 200)
        func window(_ start: Int64, requests: Int) -> MetricsWindow {
            MetricsWindow(
                startNanoseconds: start, endNanoseconds: start + 10, series: [SeriesMetrics(key: key, requests: requests)])
        }
        func heartbeat(_ time: Int64, recorded: Int) -> Heartbeat {
            Heartbeat(
                startedAtNanoseconds: 1, timeNanoseconds: time, uptimeSeconds: 0, cpuShare: nil, residentBytes: nil,
                statistics: Statistics(recorded: recorded, skipped: 0, dropped: 0, queued: 0, exported: 0, failed: 0))
        }
        let first = state.data(window: window(10, requests: 3), heartbeat: heartbeat(20, recorded: 3), temporality: .cumulative)
        let retried = state.data(window: window(10, requests: 3), heartbeat: heartbeat(20, recorded: 3), temporality: .cumulative)
        let second = state.data(window: window(20, requests: 4), heartbeat: heartbeat(30, recorded: 7), temporality: .cumulative)
        #expect(first.series.first?.requests == 3 && retried.series.first?.requests == 3 && second.series.first?.requests == 7)
        #expect(second.seriesStartNanoseconds == 1 && second.counters.first?.value == 7)

        let delta = OTLPExporter.MetricsState()
        _ = delta.data(window: window(10, requests: 3), heartbeat: heartbeat(20, recorded: 3), temporality: .delta)
        let next = delta.data(window: window(20, requests: 4), heartbeat: heartbeat(30, recorded: 7), temporality: .delta)
        #expect(next.series.first?.requests == 4 && next.counters.first?.value == 4 && next.countersStartNanoseconds == 20)
    }
}
