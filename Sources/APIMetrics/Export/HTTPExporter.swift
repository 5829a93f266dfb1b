/// Posts batches as JSON documents to a collector:
/// `{"v":1,"service":…,"env":…,"sent_at":…,"dropped":N,"events":[…]}`.
///
/// 2xx is success. 408, 429 and 5xx are retried (honouring `Retry-After`),
/// as are transport failures; a 413 has the batch sent again in halves;
/// any other status is a refusal, not retried.
public struct HTTPExporter: EventExporter {
    /// Whether the body is compressed.
    public struct Compression: Sendable, Hashable {
        let isGzip: Bool

        /// Plain JSON.
        public static let none = Compression(isGzip: false)
        /// gzip, sent with `Content-Encoding: gzip`.
        public static let gzip = Compression(isGzip: true)
    }

    /// Everything the exporter needs.
    public struct Options: Sendable {
        /// The collector's URL, `http` or `https`.
        public var endpoint: String
        /// Sent as `Authorization: Bearer KEY` when set.
        public var apiKey: String?
        /// Extra header fields on every request.
        public var headers: HeaderFields
        /// Body compression.
        public var compression: Compression
        /// How long one request may take.
        public var timeout: Duration
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?

        /// Creates options.
        ///
        /// - Parameters:
        ///   - endpoint: the collector's URL, `http` or `https`.
        ///   - apiKey: sent as `Authorization: Bearer KEY` when set; `nil` by
        ///     default.
        ///   - headers: extra header fields on every request; none by
        ///     default.
        ///   - compression: body compression; ``Compression/none`` by
        ///     default.
        ///   - timeout: how long one request may take, positive; 10 seconds
        ///     by default.
        ///   - transport: how requests are sent; `nil` (the default) for
        ///     ``URLSessionTransport``.
        public init(
            endpoint: String,
            apiKey: String? = nil,
            headers: HeaderFields = HeaderFields(),
            compression: Compression = .none,
            timeout: Duration = .seconds(10),
            transport: (any HTTPTransport)? = nil
        ) {
            self.endpoint = endpoint
            self.apiKey = apiKey
            self.headers = headers
            self.compression = compression
            self.timeout = timeout
            self.transport = transport
        }
    }

    /// The options in force.
    public let options: Options
    private let transport: any HTTPTransport

    /// Creates an exporter after checking its options.
    public init(options: Options) throws(ConfigurationError) {
        try Self.validate(options, field: "http")
        self.options = options
        self.transport = options.transport ?? URLSessionTransport()
    }

    /// `http(ENDPOINT)`.
    public var name: String { "http(\(ConfiguredSecrets.shown(options.endpoint)))" }

    /// The schema-v1 lines, the batch document's items.
    public var encodings: ExportEncodings { .schemaV1JSON }

    /// Posts the batch; throws ``ExportError`` saying whether to retry.
    public func export(_ batch: ExportBatch) async throws {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "application/json")
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        if let apiKey = options.apiKey {
            headers.append(name: "Authorization", value: "Bearer \(apiKey)")
        }
        var body = batch.encodedJSON()
        if options.compression.isGzip {
            do {
                body = try Gzip.compress(body)
                headers.append(name: "Content-Encoding", value: "gzip")
            } catch {
                // An uncompressed batch still arrives; compression is an optimisation.
            }
        }
        for field in options.headers {
            headers.replaceOrAppend(name: field.name, value: field.value)
        }
        let request = TransportRequest(
            url: options.endpoint, method: "POST", headers: headers, body: body, timeout: options.timeout)
        let response = try await transport.sendForExport(request)
        try Self.check(response, endpoint: options.endpoint)
    }

    static func check(_ response: TransportResponse, endpoint: String) throws(ExportError) {
        let endpoint = ConfiguredSecrets.shown(endpoint)
        switch response.status {
        case 200..<300:
            return
        case 413:
            throw ExportError.tooLarge("collector \(endpoint) answered 413: the batch is too large", httpStatus: 413)
        case 408, 429, 500..<600:
            let retryAfter = response.headers["retry-after"].flatMap(RetryAfter.parse)
            throw ExportError.retryable(
                "collector \(endpoint) answered \(response.status)", after: retryAfter, httpStatus: response.status)
        default:
            let detail = String(decoding: response.body.prefix(200), as: UTF8.self).filter { !$0.isNewline }
            throw ExportError.rejected(
                "collector \(endpoint) answered \(response.status)\(detail.isEmpty ? "" : ": \(detail)")",
                httpStatus: response.status)
        }
    }

    static func validate(_ options: Options, field: String) throws(ConfigurationError) {
        try validateURL(options.endpoint, field: "\(field).endpoint")
        guard options.timeout > .zero else {
            throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(options.timeout)")
        }
        if let apiKey = options.apiKey, apiKey.isEmpty || apiKey.contains(where: \.isNewline) {
            throw ConfigurationError(field: "\(field).apiKey", reason: "must be a non-empty single line when set")
        }
        try validateHeaders(options.headers, field: "\(field).headers")
    }

    /// Checks that a vendor's key is one non-empty word: `what` says whose
    /// key it is, in the error.
    static func validateKey(_ key: String, field: String, what: String) throws(ConfigurationError) {
        guard !key.isEmpty, !key.contains(where: { $0.isNewline || $0 == " " }) else {
            throw ConfigurationError(field: field, reason: "must be a non-empty single word (\(what))")
        }
    }

    /// Checks that `endpoint` is an `http` or `https` URL naming a host.
    static func validateURL(_ endpoint: String, field: String) throws(ConfigurationError) {
        let lowered = endpoint.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw ConfigurationError(
                field: field, reason: "must be an http:// or https:// URL, got \"\(ConfiguredSecrets.shown(endpoint))\"")
        }
        let afterScheme = endpoint.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.isEmpty, !endpoint.contains(where: { $0 == " " || $0.isNewline }) else {
            throw ConfigurationError(
                field: field, reason: "must name a host and hold no spaces, got \"\(ConfiguredSecrets.shown(endpoint))\"")
        }
    }

    /// Checks that every header name is a token and no value holds a line break.
    static func validateHeaders(_ headers: HeaderFields, field: String) throws(ConfigurationError) {
        for header in headers where header.name.isEmpty || header.name.contains(where: { $0 == ":" || $0.isWhitespace }) {
            throw ConfigurationError(field: field, reason: "holds an invalid header name \"\(header.name)\"")
        }
        for header in headers where header.value.contains(where: \.isNewline) {
            throw ConfigurationError(field: field, reason: "holds a line break in the value of \"\(header.name)\"")
        }
    }
}
