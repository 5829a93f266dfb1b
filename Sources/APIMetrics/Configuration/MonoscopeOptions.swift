/// Where and how calls go to [Monoscope](https://monoscope.tech) (formerly
/// APItoolkit): OTLP/HTTP traces, as Monoscope's SDKs send them, through
/// an ``OTLPExporter`` for traces with Monoscope's span name and attributes.
public struct MonoscopeOptions: Sendable {
    /// The Monoscope project's API key, sent as `x-api-key`.
    public var apiKey: String
    /// The OTLP/HTTP base URL of Monoscope's collector (`/v1/traces` is
    /// appended); another URL for a proxy or a test collector.
    public var endpoint: String
    /// Sent as `apitoolkit.tags` on every span.
    public var tags: [String]
    /// Sent as `apitoolkit.service_version` (empty when `nil`;
    /// `APIMETRICS_VERSION` sets it from the environment).
    public var serviceVersion: String?
    /// How long one request may take.
    public var timeout: Duration
    /// How requests are sent; `nil` means ``URLSessionTransport``.
    public var transport: (any HTTPTransport)?

    /// The collector Monoscope's Go SDK sends to, at OTLP/HTTP's port.
    public static let defaultEndpoint = "http://otelcol.apitoolkit.io:4318"

    /// Creates options.
    public init(
        apiKey: String, endpoint: String = defaultEndpoint, tags: [String] = [], serviceVersion: String? = nil,
        timeout: Duration = .seconds(10), transport: (any HTTPTransport)? = nil
    ) {
        self.apiKey = apiKey
        self.endpoint = endpoint
        self.tags = tags
        self.serviceVersion = serviceVersion
        self.timeout = timeout
        self.transport = transport
    }

    /// The OTLP exporter options these make: traces only, protobuf, gzip.
    var otlpOptions: OTLPExporter.Options {
        var options = OTLPExporter.Options(
            endpoint: endpoint, signals: [.traces], encoding: .protobuf, headers: ["x-api-key": apiKey],
            compression: .gzip, timeout: timeout, transport: transport)
        options.monoscope = MonoscopeSpanProfile(serviceVersion: serviceVersion, tags: tags)
        return options
    }

    func validate(field: String) throws(ConfigurationError) {
        try HTTPExporter.validateKey(apiKey, field: "\(field).apiKey", what: "the Monoscope project's API key")
        try otlpOptions.validate(field: field)
    }
}
