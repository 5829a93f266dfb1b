/// Everything APIMetrics needs to know, fixed at startup.
///
/// Start from ``default`` (or ``fromEnvironment(_:base:)``), change what you
/// need, and hand it to ``APIMetricsService/init(configuration:)``, which validates
/// every field and throws a ``ConfigurationError`` naming the first bad one.
///
/// ```swift
/// var config = APIMetricsConfiguration.default
/// config.service = "orders-api"
/// config.exporters = [.file(path: "apimetrics.ndjson"), .http(endpoint: "http://127.0.0.1:4318/events")]
/// config.capture.isBodyCaptureEnabled = true
/// config.identifyConsumer = .firstMatch([.jwtClaim("sub"), .apiKey(header: "x-api-key")])
/// let metrics = try APIMetricsService(configuration: config)
/// ```
public struct APIMetricsConfiguration: Sendable {
    /// Says whether a finished call is left out of the logs (`true` skips it).
    public typealias SkipRequest = @Sendable (RequestHead, ResponseHead?) throws -> Bool
    /// Names the session a call belongs to.
    public typealias SessionToken = @Sendable (RequestHead) throws -> String?
    /// Adds free-form values to a call's `metadata`.
    public typealias Metadata = @Sendable (RequestHead, ResponseHead?) throws -> [String: String]

    /// The service's name, written in every event (`service`).
    public var service: String
    /// The deployment environment, such as `prod` (`env`).
    public var environment: String
    /// The service's version, such as `1.4.2` (`version`).
    public var version: String?
    /// Free-form tags such as `region:eu` (`tags`).
    public var tags: [String]
    /// Whether this is a development deployment (`development: true` on events).
    public var isDevelopment: Bool
    /// This process among the service's instances (`instance_id`); by
    /// default the host name and process id.
    public var instanceID: String?
    /// Where events go; each gets every batch.
    public var exporters: [ExporterConfiguration]
    /// What is kept of each call.
    public var capture: Capture
    /// The bounds of the queue between requests and the sender.
    public var queue: Queue
    /// When the sender sends.
    public var batching: Batching
    /// How failed batches are retried.
    public var retry: RetryPolicy
    /// What is hidden before anything leaves the process.
    public var redaction: RedactionOptions
    /// Which calls become events.
    public var eventFilter: EventFilterOptions
    /// Which proxies are trusted to name the client (`client_ip`) and in
    /// which headers; loopback and private networks, `Forwarded` and
    /// `X-Forwarded-For` by default.
    public var forwarding: ForwardingOptions
    /// How the metrics are windowed and bounded.
    public var metrics: MetricsOptions
    /// API discovery: the OpenAPI document learnt from the traffic; on by default.
    public var discovery: DiscoveryOptions
    /// Alert rules evaluated on every metrics window; none by default.
    public var alerts: AlertOptions = .none
    /// The dashboard, its JSON and the Prometheus exposition; off by default.
    public var view: LocalViewOptions
    /// How long ``APIMetricsService/run()`` may flush after it is cancelled.
    public var shutdownTimeout: Duration
    /// Names the consumer behind each request; `nil` leaves calls anonymous
    /// unless the server names the consumer itself.
    public var identifyConsumer: ConsumerIdentifier?
    /// Leaves calls out of the logs when it returns `true` (they still count
    /// in metrics); ReadMe's grouping function returning `None`.
    public var skipRequest: SkipRequest?
    /// Names the session of each call (`session_token`); Moesif's
    /// `GET_SESSION_TOKEN`. What it returns is sent as is: return an opaque
    /// or hashed value, not a credential.
    public var sessionToken: SessionToken?
    /// Adds values to each call's `metadata`; Moesif's `GET_METADATA`.
    public var metadata: Metadata?
    /// How long one call of your closures (identify, skip, session token,
    /// metadata, redactEvent) may run before the sender stops waiting and
    /// sends the event without what that closure would have added.
    public var userClosureTimeout: Duration
    /// How the sender's processing, and the local store's writer, compete
    /// with the server for CPU: ``SenderPriority/low`` (nice 19) by default.
    public var senderPriority: SenderPriority
    /// Takes every batch the sender gives up on (retry budget spent,
    /// refused for good, or the shutdown deadline passed), in a form that
    /// can be stored and sent again; `nil` (the default) lets them go,
    /// counted as failed.
    public var undeliveredBatchHandler: (any UndeliveredBatchHandler)?
    /// The disk spool for batches an exporter could not take in time; off
    /// by default (see ``SpoolOptions``).
    public var spool: SpoolOptions
    /// Where APIMetrics reports its own troubles: standard error from the
    /// info level up by default (the start line, warnings, errors).
    public var diagnostics: Diagnostics
    /// Whether anything is recorded; `false` takes the recorder out of the path.
    public var isEnabled: Bool

    /// What is kept of each call.
    public struct Capture: Sendable, Hashable {
        /// Whether request and response bodies are kept (their sizes always are).
        public var isBodyCaptureEnabled: Bool
        /// The most bytes kept of one body; the rest is counted, not kept.
        public var maxBodyBytes: Int
        /// Which bodies are kept, by content type; others by size only.
        public var bodyContentTypes: BodyContentTypes

        /// Creates capture options.
        ///
        /// - Parameters:
        ///   - isBodyCaptureEnabled: whether request and response bodies are
        ///     kept (their sizes always are); `false` by default.
        ///   - maxBodyBytes: the most bytes kept of one body, from 0 to
        ///     ``maxBodyBytesLimit``; 64 KiB by default.
        ///   - bodyContentTypes: which bodies are kept, by content type;
        ///     textual ones (``BodyContentTypes/textual``) by default.
        public init(
            isBodyCaptureEnabled: Bool = false, maxBodyBytes: Int = 64 * 1024, bodyContentTypes: BodyContentTypes = .textual
        ) {
            self.isBodyCaptureEnabled = isBodyCaptureEnabled
            self.maxBodyBytes = maxBodyBytes
            self.bodyContentTypes = bodyContentTypes
        }

        /// Sizes only, bodies off; when turned on, textual bodies up to 64 KiB.
        public static let `default` = Capture()

        /// The largest `maxBodyBytes` accepted: 16 MiB.
        public static let maxBodyBytesLimit = 16 * 1024 * 1024
    }

    /// The bounds of the queue between requests and the sender.
    public struct Queue: Sendable, Hashable {
        /// The most events waiting at once.
        public var maxEvents: Int
        /// The most estimated bytes waiting at once.
        public var maxBytes: Int

        /// Creates queue bounds.
        public init(maxEvents: Int = 50_000, maxBytes: Int = 64 * 1024 * 1024) {
            self.maxEvents = maxEvents
            self.maxBytes = maxBytes
        }

        /// 50,000 events or 64 MiB, whichever comes first: about two
        /// seconds of a busy server's calls, so that a sender starved of CPU
        /// for a moment (it runs below the server's priority) catches up
        /// instead of dropping.
        public static let `default` = Queue()
    }

    /// When the sender sends.
    public struct Batching: Sendable, Hashable {
        /// The most events in one batch; a full batch goes at once.
        public var maxEvents: Int
        /// How long the first event of a batch waits for others.
        public var flushInterval: Duration

        /// Creates batching options.
        public init(maxEvents: Int = 500, flushInterval: Duration = .seconds(1)) {
            self.maxEvents = maxEvents
            self.flushInterval = flushInterval
        }

        /// 500 events or 1 second.
        public static let `default` = Batching()

        /// The largest `maxEvents` accepted.
        public static let maxEventsLimit = 100_000
    }

    /// Creates a configuration; every other field takes its default.
    ///
    /// - Parameters:
    ///   - service: the service's name, written in every event (`service`);
    ///     `unknown_service` by default.
    ///   - environment: the deployment environment, such as `prod` (`env`);
    ///     `development` by default.
    ///   - version: the service's version, such as `1.4.2` (`version`); `nil`
    ///     by default.
    ///   - tags: free-form tags such as `region:eu` (`tags`); none by
    ///     default.
    ///   - exporters: where events go; each gets every batch. The local store
    ///     (``ExporterConfiguration/store(_:)``) by default.
    ///   - identifyConsumer: names the consumer behind each request; `nil`
    ///     (the default) leaves calls anonymous unless the server names the
    ///     consumer itself.
    public init(
        service: String = "unknown_service",
        environment: String = "development",
        version: String? = nil,
        tags: [String] = [],
        exporters: [ExporterConfiguration] = [.store()],
        identifyConsumer: ConsumerIdentifier? = nil
    ) {
        self.service = service
        self.environment = environment
        self.version = version
        self.tags = tags
        self.exporters = exporters
        self.capture = .default
        self.queue = .default
        self.batching = .default
        self.retry = .default
        self.redaction = .default
        self.shutdownTimeout = .seconds(5)
        self.identifyConsumer = identifyConsumer
        self.eventFilter = .default
        self.forwarding = .default
        self.metrics = .default
        self.discovery = .default
        self.view = .off
        self.isDevelopment = false
        self.instanceID = nil
        self.userClosureTimeout = .milliseconds(250)
        self.senderPriority = .low
        self.diagnostics = .standardError
        self.undeliveredBatchHandler = nil
        self.spool = .off
        self.isEnabled = true
    }

    /// Service `unknown_service`, environment `development`, calls to the
    /// local store `apimetrics.sqlite` in the working directory, bodies off.
    public static var `default`: APIMetricsConfiguration { APIMetricsConfiguration() }

    /// Checks every field; throws for the first that cannot be used.
    public func validate() throws(ConfigurationError) {
        guard !service.isEmpty, !service.contains(where: \.isNewline) else {
            throw ConfigurationError(field: "service", reason: "must be a non-empty single line, got \"\(service)\"")
        }
        guard !environment.isEmpty, !environment.contains(where: \.isNewline) else {
            throw ConfigurationError(field: "environment", reason: "must be a non-empty single line, got \"\(environment)\"")
        }
        if let version, version.isEmpty || version.contains(where: \.isNewline) {
            throw ConfigurationError(field: "version", reason: "must be a non-empty single line when set")
        }
        for (index, tag) in tags.enumerated() where tag.isEmpty || tag.contains(where: \.isNewline) {
            throw ConfigurationError(field: "tags[\(index)]", reason: "must be a non-empty single line")
        }
        if isEnabled && exporters.isEmpty {
            throw ConfigurationError(field: "exporters", reason: "must name at least one exporter while recording is enabled")
        }
        for (index, exporter) in exporters.enumerated() {
            try exporter.validate(field: "exporters[\(index)]")
        }
        try metrics.validate()
        try discovery.validate()
        try alerts.validate(metricsInterval: metrics.interval)
        try view.validate()
        guard (0...Capture.maxBodyBytesLimit).contains(capture.maxBodyBytes) else {
            throw ConfigurationError(
                field: "capture.maxBodyBytes",
                reason: "must be from 0 to \(Capture.maxBodyBytesLimit), got \(capture.maxBodyBytes)")
        }
        guard queue.maxEvents >= 1 else {
            throw ConfigurationError(field: "queue.maxEvents", reason: "must be at least 1, got \(queue.maxEvents)")
        }
        guard queue.maxBytes >= 4096 else {
            throw ConfigurationError(field: "queue.maxBytes", reason: "must be at least 4096, got \(queue.maxBytes)")
        }
        guard (1...Batching.maxEventsLimit).contains(batching.maxEvents) else {
            throw ConfigurationError(
                field: "batching.maxEvents",
                reason: "must be from 1 to \(Batching.maxEventsLimit), got \(batching.maxEvents)")
        }
        guard batching.flushInterval >= .milliseconds(1) else {
            throw ConfigurationError(
                field: "batching.flushInterval", reason: "must be at least 1 ms, got \(batching.flushInterval)")
        }
        try retry.validate(field: "retry")
        try spool.validate(field: "spool")
        try redaction.validate(field: "redaction")
        try eventFilter.validate(field: "eventFilter")
        try forwarding.validate(field: "forwarding")
        if let instanceID, instanceID.isEmpty || instanceID.contains(where: \.isNewline) {
            throw ConfigurationError(field: "instanceID", reason: "must be a non-empty single line when set")
        }
        guard userClosureTimeout > .zero else {
            throw ConfigurationError(field: "userClosureTimeout", reason: "must be positive, got \(userClosureTimeout)")
        }
        guard shutdownTimeout >= .zero else {
            throw ConfigurationError(field: "shutdownTimeout", reason: "must not be negative, got \(shutdownTimeout)")
        }
    }
}
