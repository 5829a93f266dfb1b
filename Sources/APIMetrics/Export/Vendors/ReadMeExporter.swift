/// Sends calls to [ReadMe Metrics](https://readme.com/metrics) as ReadMe's
/// own SDKs do: `POST /v1/request` with Basic auth (the project's API key
/// as the user, no password), a JSON array of logs, each a HAR 1.2 log of
/// one call.
///
/// ReadMe's rules apply:
/// - a call without a consumer is not sent (ReadMe's grouping function
///   must name one), nor an `OPTIONS` preflight (every SDK passes them
///   by); both are counted in ``Statistics/destinationLeftOut``;
/// - the group id is ReadMe's mask (`sha512-…?LAST4`) of the consumer's
///   ``Consumer/apiKey`` (the key the call was made with), or of its id
///   when the app names no key; an `Authorization` value left unredacted
///   goes masked the same way; neither is ever sent as it is;
/// - a body that is not UTF-8 goes as `[NOT VALID UTF-8]`;
/// - at most ``maxLogsPerRequest`` (30) logs go in one request, as the Node
///   SDK clamps its buffer;
/// - after a 401, 403, 429, 500 or 503 nothing is sent for
///   ``Options/pauseDuration`` (15 s): calls in that time are counted in
///   ``Statistics/destinationPaused``, not held, and the refused batch in
///   ``Statistics/failed``.
public struct ReadMeExporter: EventExporter {
    /// Everything the exporter needs.
    public struct Options: Sendable {
        /// The ReadMe project's API key.
        public var apiKey: String
        /// ReadMe's Metrics API; another URL for a proxy or a test ingest.
        public var baseURL: String
        /// Marks every log as development traffic.
        public var isDevelopment: Bool
        /// How long one request may take.
        public var timeout: Duration
        /// How long to send nothing after a refusal (ReadMe's SDKs: 15 s).
        public var pauseDuration: Duration
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?

        /// ReadMe's Metrics API.
        public static let defaultBaseURL = "https://metrics.readme.io"

        /// Creates options.
        ///
        /// - Parameters:
        ///   - apiKey: the ReadMe project's API key, one word.
        ///   - baseURL: ReadMe's Metrics API; ``defaultBaseURL`` by default,
        ///     another URL for a proxy or a test ingest.
        ///   - isDevelopment: marks every log as development traffic; `false`
        ///     by default.
        ///   - timeout: how long one request may take, positive; 10 seconds
        ///     by default.
        ///   - pauseDuration: how long to send nothing after a refusal, not
        ///     negative; 15 seconds by default, as in ReadMe's SDKs.
        ///   - transport: how requests are sent; `nil` (the default) for
        ///     ``URLSessionTransport``.
        public init(
            apiKey: String,
            baseURL: String = defaultBaseURL,
            isDevelopment: Bool = false,
            timeout: Duration = .seconds(10),
            pauseDuration: Duration = .seconds(15),
            transport: (any HTTPTransport)? = nil
        ) {
            self.apiKey = apiKey
            self.baseURL = baseURL
            self.isDevelopment = isDevelopment
            self.timeout = timeout
            self.pauseDuration = pauseDuration
            self.transport = transport
        }

        func validate(field: String) throws(ConfigurationError) {
            try HTTPExporter.validateKey(apiKey, field: "\(field).apiKey", what: "the ReadMe project's API key")
            try HTTPExporter.validateURL(baseURL, field: "\(field).baseURL")
            guard timeout > .zero else {
                throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(timeout)")
            }
            guard pauseDuration >= .zero else {
                throw ConfigurationError(field: "\(field).pauseDuration", reason: "must not be negative, got \(pauseDuration)")
            }
        }
    }

    /// The most logs one request carries: the Node SDK clamps its buffer
    /// length to 1…30.
    public static let maxLogsPerRequest = 30

    /// The statuses after which ReadMe's SDKs stop sending for a while.
    static let pauseStatuses: Set<Int> = [401, 403, 429, 500, 503]

    /// The options in force.
    public let options: Options
    private let transport: any HTTPTransport
    private let url: String
    private let authorization: String
    /// Monotonic nanoseconds until which nothing is sent.
    private let pausedUntil = LockedValue<Int64?>(nil)

    /// Creates an exporter after checking its options.
    public init(options: Options) throws(ConfigurationError) {
        try options.validate(field: "readMe")
        self.options = options
        self.transport = options.transport ?? URLSessionTransport()
        var base = options.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        url = base + "/v1/request"
        authorization = "Basic " + Base64.encode(Array("\(options.apiKey):".utf8))
    }

    /// `readme(BASE_URL)`.
    public var name: String { "readme(\(ConfiguredSecrets.shown(url)))" }

    /// Calls only: ReadMe takes no profiles and no metrics windows.
    public var content: ExportContent { .events }

    /// At most ``maxLogsPerRequest`` calls a request; ReadMe documents no
    /// byte limit and its SDKs set none.
    public var batchLimits: ExportBatchLimits { ExportBatchLimits(maxEvents: Self.maxLogsPerRequest) }

    /// Posts the batch's calls that have a consumer; throws ``ExportError``
    /// saying whether to retry.
    public func export(_ batch: ExportBatch) async throws {
        guard !batch.records.isEmpty else { return }
        let now = CaptureClock.monotonicNanoseconds()
        let paused = pausedUntil.withLock { until -> Bool in
            guard let end = until else { return false }
            if now < end { return true }
            until = nil
            return false
        }
        if paused {
            batch.reportPaused(
                batch.records.count, message: "\(name) is paused after a refusal; \(batch.records.count) calls not sent to it")
            return
        }
        var writer = JSONWriter(capacity: 2048 * batch.records.count)
        writer.beginArray()
        var sent = 0
        for index in batch.records.indices
        where ReadMeEncoding.writeLog(batch.records[index], development: options.isDevelopment, into: &writer) {
            sent += 1
        }
        writer.endArray()
        batch.reportLeftOut(batch.records.count - sent)
        guard sent > 0 else { return }
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "application/json")
        headers.append(name: "Authorization", value: authorization)
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        let request = TransportRequest(url: url, method: "POST", headers: headers, body: writer.bytes, timeout: options.timeout)
        let response = try await transport.sendForExport(request)
        if Self.pauseStatuses.contains(response.status) {
            let end = CaptureClock.monotonicNanoseconds() + options.pauseDuration.nanosecondsClamped
            pausedUntil.withLock { $0 = max($0 ?? 0, end) }
            throw ExportError.rejected(
                "ReadMe answered \(response.status); nothing is sent to it for \(options.pauseDuration)",
                httpStatus: response.status)
        }
        try HTTPExporter.check(response, endpoint: url)
    }
}
