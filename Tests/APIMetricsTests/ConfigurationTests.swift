import Testing
import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Configuration")
struct ConfigurationTests {
    private func field(of body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as ConfigurationError {
            return error.field
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func theDefaultIsValidAndWritesTheLocalStore() throws {
        let config = APIMetricsConfiguration.default
        try config.validate()
        #expect(config.exporters.map(\.summary) == ["store apimetrics.sqlite"])
        #expect(config.capture.maxBodyBytes == 64 * 1024)
        #expect(config.batching.maxEvents == 500)
        #expect(config.batching.flushInterval == .seconds(1))
    }

    @Test func everyInvalidFieldIsNamed() {
        func check(_ expected: String, _ change: (inout APIMetricsConfiguration) -> Void) {
            var config = APIMetricsConfiguration.default
            change(&config)
            #expect(field { try config.validate() } == expected)
        }
        check("service") { $0.service = "" }
        check("environment") { $0.environment = "a\nb" }
        check("version") { $0.version = "" }
        check("tags[1]") { $0.tags = ["ok", ""] }
        check("exporters") { $0.exporters = [] }
        check("exporters[0].path") { $0.exporters = [.file(path: "")] }
        check("exporters[1].endpoint") { $0.exporters = [.console(), .http(endpoint: "ftp://x")] }
        check("exporters[0].endpoint") { $0.exporters = [.http(endpoint: "http://")] }
        check("exporters[0].timeout") { $0.exporters = [.http(endpoint: "http://a", timeout: .zero)] }
        check("exporters[0].headers") { $0.exporters = [.http(endpoint: "http://a", headers: ["Bad Name": "x"])] }
        check("exporters[0].rotation.maxBytes") { $0.exporters = [.file(path: "a", rotation: .init(maxBytes: 10))] }
        check("capture.maxBodyBytes") { $0.capture.maxBodyBytes = -1 }
        check("queue.maxEvents") { $0.queue.maxEvents = 0 }
        check("queue.maxBytes") { $0.queue.maxBytes = 10 }
        check("batching.maxEvents") { $0.batching.maxEvents = 0 }
        check("batching.flushInterval") { $0.batching.flushInterval = .zero }
        check("retry.maxAttempts") { $0.retry.maxAttempts = 0 }
        check("retry.maxDelay") { $0.retry.maxDelay = .milliseconds(1) }
        check("retry.jitter") { $0.retry.jitter = 2 }
        check("redaction.headers[0]") { $0.redaction.headers = [""] }
        check("eventFilter.sampleRate") { $0.eventFilter.sampleRate = 1.5 }
        check("eventFilter.excludedPaths[0]") { $0.eventFilter.excludedPaths = ["health"] }
        check("userClosureTimeout") { $0.userClosureTimeout = .zero }
        check("shutdownTimeout") { $0.shutdownTimeout = .seconds(-1) }
    }

    @Test func theErrorReadsWell() {
        let error = ConfigurationError(field: "APIMETRICS_BATCH_SIZE", reason: "expected a whole number, got \"ten\"")
        #expect(error.description == #"invalid configuration: APIMETRICS_BATCH_SIZE: expected a whole number, got "ten""#)
    }

    @Test func readsEveryVariable() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_SERVICE": "orders-api",
            "APIMETRICS_ENV": "prod",
            "APIMETRICS_VERSION": "1.4.2",
            "APIMETRICS_TAGS": "region:eu, tier:gold ,,",
            "APIMETRICS_FILE": "/tmp/x.ndjson",
            "APIMETRICS_FILE_MAX_BYTES": "4096",
            "APIMETRICS_FILE_MAX_FILES": "3",
            "APIMETRICS_ENDPOINT": "http://127.0.0.1:4318/v1/events",
            "APIMETRICS_API_KEY": "k",
            "APIMETRICS_GZIP": "yes",
            "APIMETRICS_TIMEOUT_MS": "2500",
            "APIMETRICS_CONSOLE": "1",
            "APIMETRICS_LOG_BODY": "true",
            "APIMETRICS_MAX_BODY_BYTES": "1024",
            "APIMETRICS_BATCH_SIZE": "100",
            "APIMETRICS_FLUSH_INTERVAL_MS": "250",
            "APIMETRICS_QUEUE_SIZE": "2000",
            "APIMETRICS_QUEUE_BYTES": "1_000_000",
            "APIMETRICS_RETRY_MAX_ATTEMPTS": "4",
            "APIMETRICS_SHUTDOWN_TIMEOUT_MS": "3000",
            "APIMETRICS_SENDER_PRIORITY": "Idle",
            "APIMETRICS_DEBUG": "false",
        ])
        #expect(config.service == "orders-api")
        #expect(config.environment == "prod")
        #expect(config.version == "1.4.2")
        #expect(config.tags == ["region:eu", "tier:gold"])
        #expect(
            config.exporters.map(\.summary) == [
                "store apimetrics.sqlite", "file /tmp/x.ndjson", "http http://127.0.0.1:4318/v1/events", "console",
            ])
        guard case let .file(_, rotation) = config.exporters[1].kind else {
            Issue.record("first exporter is not the file")
            return
        }
        #expect(rotation == FileExporter.Rotation(maxBytes: 4096, maxFiles: 3))
        guard case let .http(options) = config.exporters[2].kind else {
            Issue.record("third exporter is not HTTP")
            return
        }
        #expect(options.apiKey == "k")
        #expect(options.compression == .gzip)
        #expect(options.timeout == .milliseconds(2500))
        #expect(config.capture == .init(isBodyCaptureEnabled: true, maxBodyBytes: 1024))
        #expect(config.batching == .init(maxEvents: 100, flushInterval: .milliseconds(250)))
        #expect(config.queue == .init(maxEvents: 2000, maxBytes: 1_000_000))
        #expect(config.retry.maxAttempts == 4)
        #expect(config.shutdownTimeout == .seconds(3))
        #expect(config.senderPriority == .idle)
        #expect(APIMetricsConfiguration.default.senderPriority == .low)
    }

    @Test func exporterChoiceFromTheEnvironment() throws {
        #expect(try APIMetricsConfiguration.fromEnvironment([:]).exporters.map(\.summary) == ["store apimetrics.sqlite"])
        #expect(
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ENDPOINT": "https://c.example/e"])
                .exporters.map(\.summary) == ["store apimetrics.sqlite", "http https://c.example/e"])
        #expect(
            try APIMetricsConfiguration.fromEnvironment([
                "APIMETRICS_FILE": "off", "APIMETRICS_CONSOLE": "true", "APIMETRICS_STORE": "off",
            ])
            .exporters.map(\.summary) == ["console"])
        // The store: another file, its limits, or none.
        let store = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_STORE": "/var/lib/x/metrics.sqlite", "APIMETRICS_STORE_MAX_BYTES": "2097152",
            "APIMETRICS_STORE_RETENTION_DAYS": "7",
            "APIMETRICS_FILE": "events.ndjson",
        ])
        #expect(store.exporters.map(\.summary) == ["store /var/lib/x/metrics.sqlite", "file events.ndjson"])
        #expect(
            store.exporters.first?.storeOptions
                == StoreOptions(path: "/var/lib/x/metrics.sqlite", maxBytes: 2_097_152, retentionDays: 7))
        #expect(
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_STORE": "OFF", "APIMETRICS_FILE": "e.ndjson"]).exporters.map(
                \.summary) == ["file e.ndjson"])
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_STORE_MAX_BYTES": "1000"])
        }
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_STORE_RETENTION_DAYS": "0"])
        }
        #expect(try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_TAGS": #"["a,b", " c "]"#]).tags == ["a,b", "c"])
        #expect(try !APIMetricsConfiguration.fromEnvironment(["APIMETRICS_DISABLED": "1"]).isEnabled)
    }

    @Test func theBaseKeepsItsClosuresAndUnsetFields() throws {
        var base = APIMetricsConfiguration(service: "from-code")
        base.identifyConsumer = .custom { _ in Consumer(id: "x") }
        base.batching.maxEvents = 42
        let config = try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_ENV": "staging"], base: base)
        #expect(config.service == "from-code")
        #expect(config.environment == "staging")
        #expect(config.batching.maxEvents == 42)
        #expect(config.identifyConsumer != nil)
    }

    @Test(arguments: [
        ("APIMETRICS_LOG_BODY", "maybe"),
        ("APIMETRICS_MAX_BODY_BYTES", "-5"),
        ("APIMETRICS_MAX_BODY_BYTES", "lots"),
        ("APIMETRICS_BATCH_SIZE", "0"),
        ("APIMETRICS_BATCH_SIZE", "1e3"),
        ("APIMETRICS_FLUSH_INTERVAL_MS", "0"),
        ("APIMETRICS_QUEUE_SIZE", "99999999999"),
        ("APIMETRICS_QUEUE_BYTES", "12"),
        ("APIMETRICS_ENDPOINT", "not a url"),
        ("APIMETRICS_ENDPOINT", "ftp://example.com"),
        ("APIMETRICS_DEBUG", "2"),
        ("APIMETRICS_DISABLED", "nope"),
        ("APIMETRICS_TAGS", "[1, 2]"),
        ("APIMETRICS_TAGS", "[unclosed"),
        ("APIMETRICS_SERVICE", "two\nlines"),
        ("APIMETRICS_SENDER_PRIORITY", "realtime"),
    ])
    func aBadValueNamesItsVariable(name: String, value: String) {
        #expect(field { _ = try APIMetricsConfiguration.fromEnvironment([name: value]) } == name)
    }

    @Test func anAPIKeyWithoutAnEndpointIsIgnoredButABadOneIsNamed() {
        #expect(
            field {
                _ = try APIMetricsConfiguration.fromEnvironment([
                    "APIMETRICS_ENDPOINT": "http://a", "APIMETRICS_API_KEY": "line\nbreak",
                ])
            } == "APIMETRICS_API_KEY")
    }

    @Test func readsThePrivacyVariables() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_REDACT_HEADERS": "x-internal, x-*-sig",
            "APIMETRICS_REDACT_QUERY": "sid",
            "APIMETRICS_REDACT_REQUEST_BODY": #"["$.payment.card", "iban", "$['a b']"]"#,
            "APIMETRICS_REDACT_RESPONSE_BODY": "$..email",
            "APIMETRICS_ALLOWLIST": "id,name",
            "APIMETRICS_EXCLUDE_PATHS": "/internal/*",
            "APIMETRICS_SAMPLE_RATE": "0.5",
            "APIMETRICS_CONSUMER_HEADER": "x-customer-id",
            "APIMETRICS_JWT_CLAIM": "uid",
            "APIMETRICS_DEVELOPMENT": "true",
            "APIMETRICS_INSTANCE_ID": "pod-7",
        ])
        #expect(config.redaction.headers.suffix(2).map(\.description) == ["x-internal", "x-*-sig"])
        #expect(config.redaction.headers.count == RedactionOptions.defaultHeaders.count + 2)
        #expect(config.redaction.queryParameters.last?.description == "sid")
        #expect(config.redaction.requestBody.paths.map(\.description) == ["$.payment.card", "$['a b']"])
        #expect(config.redaction.requestBody.fields.last?.description == "iban")
        #expect(config.redaction.responseBody.paths.map(\.description) == ["$..email"])
        #expect(config.redaction.allowlist == ["id", "name"])
        #expect(config.eventFilter.excludedPaths.last == "/internal/*")
        #expect(config.eventFilter.sampleRate == 0.5)
        #expect(config.isDevelopment)
        #expect(config.instanceID == "pod-7")
        let identify = try #require(config.identifyConsumer)
        #expect(try identify(RequestHead(method: "GET", target: "/", headers: ["X-Customer-ID": "c9"]))?.id == "c9")
        let none = try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_REDACT_DEFAULTS": "false"])
        #expect(none.redaction.headers.isEmpty && none.redaction.requestBody.fields.isEmpty)
    }

    @Test(arguments: [
        ("APIMETRICS_REDACT_REQUEST_BODY", "$.a[", "$.a["),
        ("APIMETRICS_REDACT_RESPONSE_BODY", "ok,$..", "$.."),
        ("APIMETRICS_SAMPLE_RATE", "1.5", "1.5"),
        ("APIMETRICS_SAMPLE_RATE", "half", "half"),
        ("APIMETRICS_EXCLUDE_PATHS", "health", "health"),
    ])
    func aBadPrivacyValueNamesItsVariableAndTheValue(name: String, value: String, quoted: String) {
        do {
            _ = try APIMetricsConfiguration.fromEnvironment([name: value])
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            #expect(error.field == name)
            #expect(error.reason.contains(quoted))
        }
    }

    @Test func retryDelaysGrowAndStayWithinTheirBounds() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(2), jitter: 0.2)
        var generator = SeededGenerator.replayable()
        for attempt in 1...60 {
            let nominal = min(0.1 * pow2(attempt - 1), 2.0)
            for _ in 0..<20 {
                let delay = policy.delay(afterAttempt: attempt, using: &generator).seconds
                #expect(delay >= nominal * 0.8 - 1e-9 && delay <= nominal * 1.2 + 1e-9, "attempt \(attempt): \(delay)")
            }
        }
        let exact = RetryPolicy(baseDelay: .milliseconds(500), jitter: 0)
        #expect(exact.delay(afterAttempt: 1, using: &generator) == .milliseconds(500))
        #expect(exact.delay(afterAttempt: 3, using: &generator) == .seconds(2))
    }

    private func pow2(_ exponent: Int) -> Double {
        Double(UInt64(1) << UInt64(min(exponent, 40)))
    }
}
