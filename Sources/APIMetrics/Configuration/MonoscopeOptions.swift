/// Where and how calls go to [Monoscope](https://monoscope.tech) (formerly
/// APItoolkit): OTLP/HTTP to Monoscope's collector, one ``OTLPExporter``
/// per signal: the calls as spans with Monoscope's span name and
/// attributes, the request log as log records and the metrics windows, as
/// Monoscope's SDKs send them through the OpenTelemetry SDK.
public struct MonoscopeOptions: Sendable {
    /// The Monoscope project's API key, sent as the `x-api-key` header and
    /// as the `at-project-key` resource attribute.
    public var apiKey: String
    /// The OTLP/HTTP base URL of Monoscope's collector (`/v1/traces`,
    /// `/v1/logs` and `/v1/metrics` are appended); another URL for a proxy,
    /// a self-hosted Monoscope or a test collector.
    public var endpoint: String
    /// The signals sent; traces, logs and metrics by default.
    public var signals: Set<OTLPExporter.Signal>
    /// Sent as `apitoolkit.tags` on every span.
    public var tags: [String]
    /// Sent as `apitoolkit.service_version` (empty when `nil`;
    /// `APIMETRICS_VERSION` sets it from the environment).
    public var serviceVersion: String?
    /// How long one request may take.
    public var timeout: Duration
    /// How requests are sent; `nil` means ``URLSessionTransport``.
    public var transport: (any HTTPTransport)?

    /// The OTLP/HTTP collector Monoscope's current documentation names
    /// (its SDK pages for OTLP/HTTP exporters: Next.js, Laravel, Flutter).
    /// Monoscope's Go SDK sends OTLP over gRPC to port 4317 instead, which
    /// this library does not speak.
    public static let defaultEndpoint = "http://otelcol.monoscope.tech:4318"

    /// The resource attribute that carries the key in the request body.
    /// Monoscope's collectors before March 2026 and the queue path of a
    /// self-hosted Monoscope find the project only there (the `x-api-key`
    /// header is not passed on); every version reads it first and strips it
    /// before storing, which the newer `x-api-key` attribute is not on the
    /// older versions.
    static let keyAttribute = "at-project-key"

    /// Creates options.
    ///
    /// - Parameters:
    ///   - apiKey: the Monoscope project's API key, one word, sent as the
    ///     `x-api-key` header and as the `at-project-key` resource attribute.
    ///   - endpoint: the OTLP/HTTP base URL of Monoscope's collector;
    ///     ``defaultEndpoint`` by default.
    ///   - signals: the signals sent; traces, logs and metrics by default.
    ///   - tags: sent as `apitoolkit.tags` on every span; none by default.
    ///   - serviceVersion: sent as `apitoolkit.service_version`; `nil` (the
    ///     default) sends it empty.
    ///   - timeout: how long one request may take; 10 seconds by default.
    ///   - transport: how requests are sent; `nil` (the default) for
    ///     ``URLSessionTransport``.
    public init(
        apiKey: String, endpoint: String = defaultEndpoint, signals: Set<OTLPExporter.Signal> = [.traces, .logs, .metrics],
        tags: [String] = [], serviceVersion: String? = nil, timeout: Duration = .seconds(10),
        transport: (any HTTPTransport)? = nil
    ) {
        self.apiKey = apiKey
        self.endpoint = endpoint
        self.signals = signals
        self.tags = tags
        self.serviceVersion = serviceVersion
        self.timeout = timeout
        self.transport = transport
    }

    /// The OTLP exporter options these make: protobuf, gzip, the key in the
    /// header and in the resource.
    var otlpOptions: OTLPExporter.Options {
        var options = OTLPExporter.Options(
            endpoint: endpoint, signals: signals, encoding: .protobuf, headers: ["x-api-key": apiKey],
            compression: .gzip, timeout: timeout, resourceAttributes: [(Self.keyAttribute, apiKey)], transport: transport)
        options.monoscope = MonoscopeSpanProfile(serviceVersion: serviceVersion, tags: tags)
        options.batchLimits = OTLPExporter.monoscopeLimits
        return options
    }

    func validate(field: String) throws(ConfigurationError) {
        try HTTPExporter.validateKey(apiKey, field: "\(field).apiKey", what: "the Monoscope project's API key")
        try otlpOptions.validate(field: field)
    }
}
