public import Foundation

extension APIMetricsConfiguration {
    /// Every environment variable ``fromEnvironment(_:base:)`` reads, with
    /// what it sets; the README's configuration table lists the same.
    public static let environmentVariables: [(name: String, meaning: String)] = [
        ("APIMETRICS_DISABLED", "true takes the recorder out of the path entirely"),
        ("APIMETRICS_SERVICE", "service"),
        ("APIMETRICS_ENV", "environment"),
        ("APIMETRICS_VERSION", "version"),
        ("APIMETRICS_TAGS", "tags, comma-separated"),
        ("APIMETRICS_STORE", "the local store's SQLite file (apimetrics.sqlite by default); off for none"),
        ("APIMETRICS_STORE_MAX_BYTES", "store.maxBytes: past it the oldest calls are deleted"),
        ("APIMETRICS_STORE_RETENTION_DAYS", "store.retentionDays: calls and metrics older are deleted"),
        ("APIMETRICS_FILE", "NDJSON file path; off for none"),
        ("APIMETRICS_FILE_MAX_BYTES", "file rotation size"),
        ("APIMETRICS_FILE_MAX_FILES", "rotated files kept"),
        ("APIMETRICS_CONSOLE", "true adds the console exporter on standard output, stderr on standard error"),
        ("APIMETRICS_ENDPOINT", "HTTP collector URL"),
        ("APIMETRICS_API_KEY", "sent to the collector as Authorization: Bearer"),
        ("APIMETRICS_GZIP", "true compresses HTTP batches"),
        ("APIMETRICS_TIMEOUT_MS", "HTTP request timeout"),
        ("APIMETRICS_LOG_BODY", "capture.isBodyCaptureEnabled"),
        ("APIMETRICS_MAX_BODY_BYTES", "capture.maxBodyBytes"),
        ("APIMETRICS_LOG_BODY_TYPES", "capture.bodyContentTypes: all, or media types (text/*, *+json)"),
        ("APIMETRICS_BATCH_SIZE", "batching.maxEvents"),
        ("APIMETRICS_FLUSH_INTERVAL_MS", "batching.flushInterval"),
        ("APIMETRICS_QUEUE_SIZE", "queue.maxEvents"),
        ("APIMETRICS_QUEUE_BYTES", "queue.maxBytes"),
        ("APIMETRICS_RETRY_MAX_ATTEMPTS", "retry.maxAttempts"),
        ("APIMETRICS_SHUTDOWN_TIMEOUT_MS", "shutdownTimeout"),
        ("APIMETRICS_SPOOL_DIR", "spool.directory: the disk spool's directory (turns the spool on)"),
        ("APIMETRICS_SPOOL_MAX_BYTES", "spool.maxBytes"),
        ("APIMETRICS_SPOOL_SYNC_MS", "spool.syncInterval"),
        ("APIMETRICS_SENDER_PRIORITY", "senderPriority: idle, low or normal"),
        ("APIMETRICS_DEBUG", "true writes diagnostics, debug level up, to standard error"),
        (
            "APIMETRICS_LOG_LEVEL",
            "off, error, warning, info (the default: the start line, warnings, errors) or debug: what goes to standard error"
        ),
        ("APIMETRICS_DEVELOPMENT", "isDevelopment"),
        ("APIMETRICS_INSTANCE_ID", "instanceID"),
        ("APIMETRICS_REDACT_HEADERS", "more header names to redact (* patterns allowed)"),
        ("APIMETRICS_REDACT_QUERY", "more query parameters to redact"),
        ("APIMETRICS_REDACT_REQUEST_BODY", "more request body fields ($-paths are JSONPaths)"),
        ("APIMETRICS_REDACT_RESPONSE_BODY", "more response body fields ($-paths are JSONPaths)"),
        ("APIMETRICS_REDACT_DEFAULTS", "false drops the built-in redaction lists"),
        ("APIMETRICS_ALLOWLIST", "only these names keep their values"),
        ("APIMETRICS_EXCLUDE_PATHS", "more paths never logged"),
        ("APIMETRICS_SAMPLE_RATE", "share of calls logged, 0 to 1"),
        ("APIMETRICS_CONSUMER_HEADER", "header whose value is the consumer id"),
        ("APIMETRICS_JWT_CLAIM", "JWT claim of Authorization: Bearer that is the consumer id"),
        ("APIMETRICS_TRUSTED_PROXIES", "forwarding.trustedProxies: CIDR blocks or addresses, private (the default), or none"),
        (
            "APIMETRICS_FORWARDED_HEADERS",
            "forwarding.headers: forwarded, x-forwarded-for, x-real-ip, cf-connecting-ip, true-client-ip, or none"
        ),
        ("APIMETRICS_METRICS_INTERVAL_S", "metrics.interval, in seconds"),
        ("APIMETRICS_METRICS_MAX_CONSUMERS", "metrics.maxConsumers: consumers tracked, the rest in (other consumers)"),
        ("APIMETRICS_DISCOVERY", "discovery.isEnabled: false stops learning the OpenAPI document from traffic"),
        ("APIMETRICS_ALERTS", "alerts.rules: default (errors, p99, silence, new errors), off, or a JSON rules file"),
        ("APIMETRICS_ALERT_WEBHOOK_URL", "a webhook told of every alert transition (JSON; see AlertWebhookExporter)"),
        ("APIMETRICS_ALERT_WEBHOOK_SECRET", "the webhook's signing secret (HMAC-SHA256, at least 16 bytes)"),
        ("APIMETRICS_ALERT_SLACK_URL", "a Slack incoming webhook told of every alert transition"),
        (
            "APIMETRICS_OPENAPI_SPEC",
            "discovery.specPath: your OpenAPI 3.0/3.1 document (JSON or YAML), each call checked against it"
        ),
        ("APIMETRICS_DASHBOARD", "1 serves the dashboard and its JSON (view.isDashboardEnabled)"),
        ("APIMETRICS_PROMETHEUS", "1 serves the Prometheus exposition at /metrics (view.isPrometheusEnabled)"),
        ("APIMETRICS_METRICS_ADDR", "host:port of the view's own listener (view.address)"),
        ("APIMETRICS_DASHBOARD_TOKEN", "bearer token every path of the view asks for (view.bearerToken)"),
        ("APIMETRICS_METRICS_MAX_CONNECTIONS", "connections the view's own listener keeps open at once (view.maxConnections)"),
    ]

    /// Reads `APIMETRICS_*` variables over `base`, so that a deployment can
    /// configure recording without code. Variables not set leave `base` as
    /// it is; closures such as ``identifyConsumer`` come from `base`.
    ///
    /// Exporters: the local store stays as `base` has it (by default
    /// `apimetrics.sqlite`) unless `APIMETRICS_STORE` names another file or
    /// `off`. When `APIMETRICS_FILE` or `APIMETRICS_ENDPOINT` is set, the
    /// other exporters are exactly those they name (`APIMETRICS_FILE=off`
    /// names no file); otherwise `base`'s stand. `APIMETRICS_CONSOLE=true` adds the console.
    /// `APIMETRICS_OTLP_ENDPOINT` or the `OTEL_EXPORTER_OTLP_*` endpoints add
    /// the OTLP exporters alongside (``otlpEnvironmentVariables``), so that
    /// `APIMETRICS_FILE=off` with an OTLP endpoint sends to OTLP only; the
    /// vendors' variables (``vendorEnvironmentVariables``) add theirs the
    /// same way.
    ///
    /// - Parameters:
    ///   - environment: the variables; the process's own by default.
    ///   - base: the configuration the variables change.
    /// - Throws: ``ConfigurationError`` whose field is the variable at fault.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        base: APIMetricsConfiguration = .default
    ) throws(ConfigurationError) -> APIMetricsConfiguration {
        try fromEnvironment(environment, base: base, asked: nil)
    }

    /// ``fromEnvironment(_:base:)``, noting every name it reads in `asked`.
    static func fromEnvironment(
        _ environment: [String: String], base: APIMetricsConfiguration, asked: AskedNames?
    ) throws(ConfigurationError) -> APIMetricsConfiguration {
        let reader = EnvironmentReader(environment: environment, asked: asked)
        var config = base
        if let disabled = try reader.bool("APIMETRICS_DISABLED") { config.isEnabled = !disabled }
        if let service = try reader.line("APIMETRICS_SERVICE") { config.service = service }
        if let env = try reader.line("APIMETRICS_ENV") { config.environment = env }
        if let version = try reader.line("APIMETRICS_VERSION") { config.version = version }
        if let tags = try reader.list("APIMETRICS_TAGS") { config.tags = tags }
        if let logBody = try reader.bool("APIMETRICS_LOG_BODY") { config.capture.isBodyCaptureEnabled = logBody }
        if let maxBody = try reader.int("APIMETRICS_MAX_BODY_BYTES", in: 0...Capture.maxBodyBytesLimit) {
            config.capture.maxBodyBytes = maxBody
        }
        if let types = try reader.list("APIMETRICS_LOG_BODY_TYPES") {
            config.capture.bodyContentTypes = types.map { $0.lowercased() } == ["all"] ? .all : .matching(types)
        }
        if let interval = try reader.int("APIMETRICS_METRICS_INTERVAL_S", in: 1...86_400) {
            config.metrics.interval = .seconds(interval)
        }
        if let maxConsumers = try reader.int("APIMETRICS_METRICS_MAX_CONSUMERS", in: 1...1_000_000) {
            config.metrics.maxConsumers = maxConsumers
        }
        if let discovery = try reader.bool("APIMETRICS_DISCOVERY") { config.discovery.isEnabled = discovery }
        if let alerts = try reader.line("APIMETRICS_ALERTS") {
            switch alerts {
            case "default", "defaults": config.alerts.rules = AlertRule.defaults
            case "off", "": config.alerts.rules = []
            default:
                let bytes: [UInt8]
                do {
                    bytes = try OpenAPISpec.readFile(alerts)
                } catch {
                    throw ConfigurationError(field: "APIMETRICS_ALERTS", reason: "\(alerts): \(error.reason)")
                }
                config.alerts.rules = try AlertRule.rules(fromJSON: bytes)
            }
        }
        if let spec = try reader.line("APIMETRICS_OPENAPI_SPEC") { config.discovery.specPath = spec.isEmpty ? nil : spec }
        if let dashboard = try reader.bool("APIMETRICS_DASHBOARD") { config.view.isDashboardEnabled = dashboard }
        if let prometheus = try reader.bool("APIMETRICS_PROMETHEUS") { config.view.isPrometheusEnabled = prometheus }
        if let address = try reader.line("APIMETRICS_METRICS_ADDR") {
            guard HostAndPort(address) != nil else {
                throw ConfigurationError(field: "APIMETRICS_METRICS_ADDR", reason: "must be host:port, got \"\(address)\"")
            }
            config.view.address = address
        }
        if let connections = try reader.int("APIMETRICS_METRICS_MAX_CONNECTIONS", in: 1...65_536) {
            config.view.maxConnections = connections
        }
        if let raw = reader.raw("APIMETRICS_DASHBOARD_TOKEN") {
            // Set but blank is a mistake, not "no token": it would leave the
            // view open where the deployment meant to close it.
            guard let token = try reader.line("APIMETRICS_DASHBOARD_TOKEN") else {
                throw ConfigurationError(
                    field: "APIMETRICS_DASHBOARD_TOKEN",
                    reason:
                        "is set but blank (\(raw.utf8.count) bytes of blank space); set a token, or unset it to serve the view on loopback only"
                )
            }
            config.view.bearerToken = token
        }
        if let batchSize = try reader.int("APIMETRICS_BATCH_SIZE", in: 1...Batching.maxEventsLimit) {
            config.batching.maxEvents = batchSize
        }
        if let flush = try reader.int("APIMETRICS_FLUSH_INTERVAL_MS", in: 1...3_600_000) {
            config.batching.flushInterval = .milliseconds(flush)
        }
        if let queueSize = try reader.int("APIMETRICS_QUEUE_SIZE", in: 1...10_000_000) { config.queue.maxEvents = queueSize }
        if let queueBytes = try reader.int("APIMETRICS_QUEUE_BYTES", in: 4096...Int.max) { config.queue.maxBytes = queueBytes }
        if let attempts = try reader.int("APIMETRICS_RETRY_MAX_ATTEMPTS", in: 1...100) { config.retry.maxAttempts = attempts }
        if let shutdown = try reader.int("APIMETRICS_SHUTDOWN_TIMEOUT_MS", in: 0...3_600_000) {
            config.shutdownTimeout = .milliseconds(shutdown)
        }
        if let directory = try reader.line("APIMETRICS_SPOOL_DIR") { config.spool.directory = directory }
        if let maxBytes = try reader.int("APIMETRICS_SPOOL_MAX_BYTES", in: SpoolOptions.minimumBytes...Int.max) {
            config.spool.maxBytes = maxBytes
        }
        if let sync = try reader.int("APIMETRICS_SPOOL_SYNC_MS", in: 0...3_600_000) {
            config.spool.syncInterval = .milliseconds(sync)
        }
        if let priority = reader.string("APIMETRICS_SENDER_PRIORITY") {
            guard let parsed = SenderPriority(priority) else {
                throw ConfigurationError(
                    field: "APIMETRICS_SENDER_PRIORITY", reason: "expected idle, low or normal, got \"\(priority)\"")
            }
            config.senderPriority = parsed
        }
        if let level = reader.string("APIMETRICS_LOG_LEVEL") {
            switch level.lowercased() {
            case "off": config.diagnostics = .silent
            case "error": config.diagnostics = .standardError(minimumLevel: .error)
            case "warning": config.diagnostics = .standardError(minimumLevel: .warning)
            case "info": config.diagnostics = .standardError(minimumLevel: .info)
            case "debug": config.diagnostics = .standardError(minimumLevel: .debug)
            default:
                throw ConfigurationError(
                    field: "APIMETRICS_LOG_LEVEL",
                    reason: "expected off, error, warning, info or debug, got \"\(level.prefix(20))\"")
            }
        }
        if let debug = try reader.bool("APIMETRICS_DEBUG"), debug {
            config.diagnostics = .standardError(minimumLevel: .debug)
        }
        if let development = try reader.bool("APIMETRICS_DEVELOPMENT") { config.isDevelopment = development }
        if let instance = try reader.line("APIMETRICS_INSTANCE_ID") { config.instanceID = instance }
        try readPrivacy(reader, into: &config)
        try readForwarding(reader, into: &config)

        let file = try reader.line("APIMETRICS_FILE")
        let endpoint = try reader.line("APIMETRICS_ENDPOINT")
        if file != nil || endpoint != nil {
            var exporters: [ExporterConfiguration] = []
            if let file, !["off", "none", "false"].contains(file.lowercased()) {
                var rotation = FileExporter.Rotation.default
                if let maxBytes = try reader.int("APIMETRICS_FILE_MAX_BYTES", in: 1024...Int.max) { rotation.maxBytes = maxBytes }
                if let maxFiles = try reader.int("APIMETRICS_FILE_MAX_FILES", in: 0...1000) { rotation.maxFiles = maxFiles }
                exporters.append(.file(path: file, rotation: rotation))
            }
            if let endpoint {
                var timeout = Duration.seconds(10)
                if let millis = try reader.int("APIMETRICS_TIMEOUT_MS", in: 1...3_600_000) { timeout = .milliseconds(millis) }
                let gzip = try reader.bool("APIMETRICS_GZIP") ?? false
                let options = HTTPExporter.Options(
                    endpoint: endpoint, apiKey: try reader.line("APIMETRICS_API_KEY"),
                    compression: gzip ? .gzip : .none, timeout: timeout)
                do {
                    try HTTPExporter.validate(options, field: "http")
                } catch {
                    let variable = error.field.hasSuffix("apiKey") ? "APIMETRICS_API_KEY" : "APIMETRICS_ENDPOINT"
                    throw ConfigurationError(field: variable, reason: error.reason)
                }
                exporters.append(
                    .http(
                        endpoint: endpoint, apiKey: options.apiKey, compression: options.compression, timeout: timeout))
            }
            config.exporters = config.exporters.filter(\.isStore) + exporters
        }
        try readStore(reader, into: &config)
        if reader.string("APIMETRICS_CONSOLE")?.lowercased() == "stderr" {
            config.exporters.append(.console(stream: .standardError))
        } else if let console = try reader.bool("APIMETRICS_CONSOLE"), console {
            config.exporters.append(.console())
        }
        try readOTLP(reader, into: &config)
        try readVendors(reader, into: &config)
        if let url = try reader.line("APIMETRICS_ALERT_WEBHOOK_URL") {
            config.exporters.append(.alertWebhook(url: url, secret: try reader.line("APIMETRICS_ALERT_WEBHOOK_SECRET")))
        }
        if let url = try reader.line("APIMETRICS_ALERT_SLACK_URL") {
            config.exporters.append(.alertWebhook(url: url, format: .slack))
        }
        try config.validate()
        return config
    }
}

extension APIMetricsConfiguration {
    /// `APIMETRICS_STORE` (a path, or off), `APIMETRICS_STORE_MAX_BYTES`,
    /// `APIMETRICS_STORE_RETENTION_DAYS`: they change the store entry of
    /// the exporters, adding one when a path is named and there is none.
    fileprivate static func readStore(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        let path = try reader.line("APIMETRICS_STORE")
        if let path, ["off", "none", "false"].contains(path.lowercased()) {
            config.exporters.removeAll(where: \.isStore)
            return
        }
        let maxBytes = try reader.int("APIMETRICS_STORE_MAX_BYTES", in: StoreOptions.minimumBytes...Int.max)
        let days = try reader.int("APIMETRICS_STORE_RETENTION_DAYS", in: 1...3_650)
        var options = config.exporters.lazy.compactMap(\.storeOptions).first ?? .default
        guard path != nil || maxBytes != nil || days != nil else { return }
        if let path { options.path = path }
        if let maxBytes { options.maxBytes = maxBytes }
        if let days { options.retentionDays = days }
        config.exporters.removeAll(where: \.isStore)
        config.exporters.insert(.store(options), at: 0)
    }

    /// The redaction, logging and identification variables of issue-sized
    /// weight: lists add to the defaults unless `APIMETRICS_REDACT_DEFAULTS`
    /// is false; identifiers named here are tried after `base`'s.
    fileprivate static func readPrivacy(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        if let keepDefaults = try reader.bool("APIMETRICS_REDACT_DEFAULTS"), !keepDefaults {
            config.redaction.headers = []
            config.redaction.queryParameters = []
            config.redaction.requestBody = .none
            config.redaction.responseBody = .none
        }
        if let headers = try reader.list("APIMETRICS_REDACT_HEADERS") {
            config.redaction.headers += headers.map(FieldMatcher.parse)
        }
        if let query = try reader.list("APIMETRICS_REDACT_QUERY") {
            config.redaction.queryParameters += query.map(FieldMatcher.parse)
        }
        for (variable, isRequest) in [("APIMETRICS_REDACT_REQUEST_BODY", true), ("APIMETRICS_REDACT_RESPONSE_BODY", false)] {
            guard let entries = try reader.list(variable) else { continue }
            var rules = isRequest ? config.redaction.requestBody : config.redaction.responseBody
            for entry in entries {
                if entry.hasPrefix("$") {
                    rules.paths.append(try JSONPath(entry, field: variable))
                } else {
                    rules.fields.append(FieldMatcher.parse(entry))
                }
            }
            if isRequest { config.redaction.requestBody = rules } else { config.redaction.responseBody = rules }
        }
        if let allowlist = try reader.list("APIMETRICS_ALLOWLIST") {
            config.redaction.allowlist = Set(allowlist)
        }
        if let paths = try reader.list("APIMETRICS_EXCLUDE_PATHS") {
            for path in paths where !path.hasPrefix("/") && !path.hasPrefix("*") {
                throw ConfigurationError(field: "APIMETRICS_EXCLUDE_PATHS", reason: "\"\(path)\" must start with / or *")
            }
            config.eventFilter.excludedPaths += paths
        }
        if let rate = reader.string("APIMETRICS_SAMPLE_RATE") {
            guard let value = Double(rate), value >= 0, value <= 1 else {
                throw ConfigurationError(field: "APIMETRICS_SAMPLE_RATE", reason: "must be a number from 0 to 1, got \"\(rate)\"")
            }
            config.eventFilter.sampleRate = value
        }
        var identifiers: [ConsumerIdentifier] = config.identifyConsumer.map { [$0] } ?? []
        if let header = try reader.line("APIMETRICS_CONSUMER_HEADER") {
            identifiers.append(.header(header))
        }
        if let claim = try reader.line("APIMETRICS_JWT_CLAIM") {
            identifiers.append(.jwtClaim(claim))
        }
        if identifiers.count > 1 {
            config.identifyConsumer = .firstMatch(identifiers)
        } else {
            config.identifyConsumer = identifiers.first
        }
    }
}
