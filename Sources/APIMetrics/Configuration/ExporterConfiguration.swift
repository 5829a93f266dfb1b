/// One destination for events, chosen in ``APIMetricsConfiguration/exporters``.
///
/// ```swift
/// config.exporters = [
///     .file(path: "apimetrics.ndjson"),
///     .http(endpoint: "https://collector.internal/v1/events", apiKey: key, compression: .gzip),
/// ]
/// ```
public struct ExporterConfiguration: Sendable {
    enum Kind: Sendable {
        case store(StoreOptions)
        case file(path: String, rotation: FileExporter.Rotation)
        case console(ConsoleExporter.Stream)
        case http(HTTPExporter.Options)
        case otlp(OTLPExporter.Options)
        case moesif(MoesifExporter.Options)
        case readMe(ReadMeExporter.Options)
        case apitally(ApitallyExporter.Options)
        case monoscope(MonoscopeOptions)
        case alertWebhook(AlertWebhookExporter.Options)
        case custom(any EventExporter)
    }

    let kind: Kind

    /// The local store: a SQLite file that keeps calls, metrics, consumers
    /// and errors across restarts, which the dashboard and the `apimetrics`
    /// command read (see ``StoreOptions``). The default destination.
    ///
    /// ```swift
    /// config.exporters = [.store(.init(path: "/var/lib/orders-api/apimetrics.sqlite"))]
    /// ```
    public static func store(_ options: StoreOptions = .default) -> ExporterConfiguration {
        ExporterConfiguration(kind: .store(options))
    }

    /// NDJSON lines appended to a local file, rotated by size.
    public static func file(path: String, rotation: FileExporter.Rotation = .default) -> ExporterConfiguration {
        ExporterConfiguration(kind: .file(path: path, rotation: rotation))
    }

    /// One readable line per call on standard output (or error).
    public static func console(stream: ConsoleExporter.Stream = .standardOutput) -> ExporterConfiguration {
        ExporterConfiguration(kind: .console(stream))
    }

    /// JSON batches posted to a collector.
    ///
    /// - Parameters:
    ///   - endpoint: the collector's URL, `http` or `https`.
    ///   - apiKey: sent as `Authorization: Bearer KEY` when set; `nil` by
    ///     default.
    ///   - headers: extra header fields on every request; none by default.
    ///   - compression: body compression; none by default, or `.gzip`.
    ///   - timeout: how long one request may take; 10 seconds by default.
    ///   - transport: how requests are sent; `nil` (the default) for
    ///     ``URLSessionTransport``.
    /// - Returns: the destination, an ``HTTPExporter`` once the service
    ///   starts.
    public static func http(
        endpoint: String,
        apiKey: String? = nil,
        headers: HeaderFields = HeaderFields(),
        compression: HTTPExporter.Compression = .none,
        timeout: Duration = .seconds(10),
        transport: (any HTTPTransport)? = nil
    ) -> ExporterConfiguration {
        ExporterConfiguration(
            kind: .http(
                HTTPExporter.Options(
                    endpoint: endpoint, apiKey: apiKey, headers: headers,
                    compression: compression, timeout: timeout, transport: transport)))
    }

    /// Traces, logs and metrics sent over OTLP/HTTP to an OpenTelemetry
    /// Collector (or any OTLP receiver): one ``OTLPExporter`` per signal.
    ///
    /// ```swift
    /// config.exporters.append(.otlp(.init(endpoint: "http://otel-collector:4318")))
    /// ```
    public static func otlp(_ options: OTLPExporter.Options) -> ExporterConfiguration {
        ExporterConfiguration(kind: .otlp(options))
    }

    /// Calls and profiles sent to Moesif's collector API, as Moesif's own
    /// SDKs send them (see ``MoesifExporter``).
    ///
    /// ```swift
    /// config.exporters.append(.moesif(applicationID: moesifApplicationID))
    /// ```
    public static func moesif(applicationID: String) -> ExporterConfiguration {
        moesif(MoesifExporter.Options(applicationID: applicationID))
    }

    /// Moesif with every option (a proxy's base URL, the API version…).
    public static func moesif(_ options: MoesifExporter.Options) -> ExporterConfiguration {
        ExporterConfiguration(kind: .moesif(options))
    }

    /// Calls sent to ReadMe Metrics as HAR logs, as ReadMe's own SDKs send
    /// them (see ``ReadMeExporter``).
    ///
    /// ```swift
    /// config.exporters.append(.readMe(apiKey: readMeAPIKey))
    /// ```
    public static func readMe(apiKey: String) -> ExporterConfiguration {
        readMe(ReadMeExporter.Options(apiKey: apiKey))
    }

    /// ReadMe with every option (a proxy's base URL, development logs…).
    public static func readMe(_ options: ReadMeExporter.Options) -> ExporterConfiguration {
        ExporterConfiguration(kind: .readMe(options))
    }

    /// The API's metrics sent to Apitally's hub, as Apitally's own SDKs
    /// send them (see ``ApitallyExporter``).
    ///
    /// ```swift
    /// config.exporters.append(.apitally(clientID: apitallyClientID, environment: "prod"))
    /// ```
    public static func apitally(clientID: String, environment: String) -> ExporterConfiguration {
        apitally(ApitallyExporter.Options(clientID: clientID, environment: environment))
    }

    /// Apitally with every option (request logging, the sync interval…).
    public static func apitally(_ options: ApitallyExporter.Options) -> ExporterConfiguration {
        ExporterConfiguration(kind: .apitally(options))
    }

    /// Calls sent to Monoscope (APItoolkit) over OTLP/HTTP, as Monoscope's
    /// own SDKs send them: one ``OTLPExporter`` per signal, the spans with
    /// Monoscope's span name and attributes, the request log and the
    /// metrics (see ``MonoscopeOptions/signals``).
    ///
    /// ```swift
    /// config.exporters.append(.monoscope(apiKey: monoscopeAPIKey))
    /// ```
    public static func monoscope(apiKey: String) -> ExporterConfiguration {
        monoscope(MonoscopeOptions(apiKey: apiKey))
    }

    /// Monoscope with every option (the collector's URL, the signals, tags…).
    public static func monoscope(_ options: MonoscopeOptions) -> ExporterConfiguration {
        ExporterConfiguration(kind: .monoscope(options))
    }

    /// A webhook told of every alert transition (``AlertRule``), as
    /// APIMetrics' JSON signed with `secret` (HMAC-SHA256; see
    /// ``AlertWebhookExporter``) or, with `.slack`, as a Slack message.
    ///
    /// - Parameters:
    ///   - url: the webhook's URL (`https://…`).
    ///   - secret: the signing secret, one line of at least 16 bytes; `nil`
    ///     (the default) sends unsigned messages.
    ///   - format: the message's form: APIMetrics' JSON (`.generic`, the
    ///     default) or `.slack`.
    /// - Returns: the destination, an ``AlertWebhookExporter`` with the other
    ///   options at their defaults.
    public static func alertWebhook(
        url: String, secret: String? = nil, format: AlertWebhookExporter.Options.Format = .generic
    ) -> ExporterConfiguration {
        alertWebhook(AlertWebhookExporter.Options(url: url, secret: secret, format: format))
    }

    /// A webhook told of every alert transition, with all its options.
    public static func alertWebhook(_ options: AlertWebhookExporter.Options) -> ExporterConfiguration {
        ExporterConfiguration(kind: .alertWebhook(options))
    }

    /// An exporter of your own.
    public static func custom(_ exporter: any EventExporter) -> ExporterConfiguration {
        ExporterConfiguration(kind: .custom(exporter))
    }

    /// Whether this is the local store.
    var isStore: Bool { storeOptions != nil }

    /// The local store's options, when this is the store.
    var storeOptions: StoreOptions? {
        if case let .store(options) = kind { return options }
        return nil
    }

    /// A short description for the startup line, such as `file apimetrics.ndjson`;
    /// the userinfo and query values of a URL are shown as `REDACTED`.
    public var summary: String {
        switch kind {
        case let .store(options): return "store \(options.path)"
        case let .file(path, _): return "file \(path)"
        case let .console(stream): return stream == .standardError ? "console (stderr)" : "console"
        case let .http(options): return "http \(ConfiguredSecrets.shown(options.endpoint))"
        case let .otlp(options):
            let signals = options.orderedSignals.map { "\($0) \(options.url(for: $0).map(ConfiguredSecrets.shown) ?? "?")" }
            return "otlp \(options.encoding) (\(signals.joined(separator: ", ")))"
        case let .moesif(options): return "moesif \(ConfiguredSecrets.shown(options.baseURL))"
        case let .readMe(options): return "readme \(ConfiguredSecrets.shown(options.baseURL))"
        case let .apitally(options): return "apitally \(ConfiguredSecrets.shown(options.baseURL)) (\(options.environment))"
        case let .monoscope(options): return "monoscope \(ConfiguredSecrets.shown(options.endpoint))"
        case let .alertWebhook(options): return AlertWebhookExporter.name(of: options)
        case let .custom(exporter): return exporter.name
        }
    }

    func validate(field: String) throws(ConfigurationError) {
        switch kind {
        case let .store(options):
            try options.validate(field: field)
        case let .file(path, rotation):
            guard !path.isEmpty else {
                throw ConfigurationError(field: "\(field).path", reason: "must not be empty")
            }
            guard rotation.maxBytes >= 1024 else {
                throw ConfigurationError(
                    field: "\(field).rotation.maxBytes", reason: "must be at least 1024, got \(rotation.maxBytes)")
            }
            guard (0...1000).contains(rotation.maxFiles) else {
                throw ConfigurationError(
                    field: "\(field).rotation.maxFiles", reason: "must be from 0 to 1000, got \(rotation.maxFiles)")
            }
        case .console:
            return
        case let .http(options):
            try HTTPExporter.validate(options, field: field)
        case let .otlp(options):
            try options.validate(field: field)
        case let .moesif(options):
            try options.validate(field: field)
        case let .readMe(options):
            try options.validate(field: field)
        case let .apitally(options):
            try options.validate(field: field)
        case let .monoscope(options):
            try options.validate(field: field)
        case let .alertWebhook(options):
            try options.validate(field: field)
        case .custom:
            return
        }
    }

    /// The exporters this entry makes: one, or one per signal for OTLP.
    /// `maxSeries` is the metrics' series limit, which an exporter keeping
    /// tables of its own (Apitally) follows; `maxBodyBytes` the capture's
    /// body limit, past which an exporter that inflates a compressed body
    /// (Moesif) does not grow it.
    func makeExporters(
        field: String, instanceID: String = InstanceID.make(), maxSeries: Int = MetricsOptions().maxSeries,
        maxBodyBytes: Int = APIMetricsConfiguration.Capture().maxBodyBytes, metricsInterval: Duration = MetricsOptions().interval,
        priority: SenderPriority = .low
    ) throws(ConfigurationError) -> [any EventExporter] {
        let options: OTLPExporter.Options
        switch kind {
        case let .otlp(otlp):
            options = otlp
        case let .monoscope(monoscope):
            try monoscope.validate(field: field)
            options = monoscope.otlpOptions
        default:
            return [
                try makeExporter(
                    field: field, instanceID: instanceID, maxSeries: maxSeries, maxBodyBytes: maxBodyBytes,
                    metricsInterval: metricsInterval, priority: priority)
            ]
        }
        try options.validate(field: field)
        var exporters: [any EventExporter] = []
        for signal in options.orderedSignals {
            do {
                exporters.append(try OTLPExporter(signal: signal, options: options))
            } catch {
                throw ConfigurationError(field: error.field.replacingPrefix("otlp", with: field), reason: error.reason)
            }
        }
        return exporters
    }

    private func makeExporter(
        field: String, instanceID: String, maxSeries: Int, maxBodyBytes: Int, metricsInterval: Duration,
        priority: SenderPriority
    ) throws(ConfigurationError) -> any EventExporter {
        switch kind {
        case let .store(options):
            return try StoreWriter(options: options, metricsInterval: metricsInterval, priority: priority, field: field)
        case let .file(path, rotation):
            do {
                return try FileExporter(path: path, rotation: rotation)
            } catch {
                throw ConfigurationError(field: "\(field).\(error.field)", reason: error.reason)
            }
        case let .console(stream):
            return ConsoleExporter(stream: stream)
        case let .http(options):
            do {
                return try HTTPExporter(options: options)
            } catch {
                throw ConfigurationError(field: error.field.replacingPrefix("http", with: field), reason: error.reason)
            }
        case .otlp, .monoscope:
            return try makeExporters(field: field, instanceID: instanceID)[0]
        case var .apitally(options):
            options.maxSeries = maxSeries
            do {
                // The UUID is kept in a file unless the user named the instance.
                return try ApitallyExporter(options: options, instanceID: instanceID == InstanceID.make() ? nil : instanceID)
            } catch {
                throw ConfigurationError(field: error.field.replacingPrefix("apitally", with: field), reason: error.reason)
            }
        case var .moesif(options):
            options.maxCapturedBodyBytes = maxBodyBytes
            do {
                return try MoesifExporter(options: options)
            } catch {
                throw ConfigurationError(field: error.field.replacingPrefix("moesif", with: field), reason: error.reason)
            }
        case let .readMe(options):
            do {
                return try ReadMeExporter(options: options)
            } catch {
                throw ConfigurationError(field: error.field.replacingPrefix("readMe", with: field), reason: error.reason)
            }
        case let .alertWebhook(options):
            return AlertWebhookExporter(options: options)
        case let .custom(exporter):
            return exporter
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
