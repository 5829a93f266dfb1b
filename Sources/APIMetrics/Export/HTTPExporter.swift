/// Posts batches as JSON documents to a collector:
/// `{"v":1,"service":…,"env":…,"sent_at":…,"dropped":N,"events":[…]}`.
///
/// 2xx is success. 408, 429 and 5xx are retried (honouring `Retry-After`),
/// as are transport failures; any other status is a refusal, not retried.
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
    public var name: String { "http(\(options.endpoint))" }

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
        let request = TransportRequest(url: options.endpoint, method: "POST", headers: headers, body: body, timeout: options.timeout)
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError.retryable("POST \(options.endpoint) failed: \(error)")
        }
        try Self.check(response, endpoint: options.endpoint)
    }

    static func check(_ response: TransportResponse, endpoint: String) throws(ExportError) {
        switch response.status {
        case 200..<300:
            return
        case 408, 429, 500..<600:
            let retryAfter = response.headers["retry-after"].flatMap(RetryAfter.parse)
            throw ExportError.retryable("collector \(endpoint) answered \(response.status)", after: retryAfter)
        default:
            let detail = String(decoding: response.body.prefix(200), as: UTF8.self).filter { !$0.isNewline }
            throw ExportError.rejected("collector \(endpoint) answered \(response.status)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }

    static func validate(_ options: Options, field: String) throws(ConfigurationError) {
        let endpoint = options.endpoint
        let lowered = endpoint.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw ConfigurationError(field: "\(field).endpoint", reason: "must be an http:// or https:// URL, got \"\(endpoint)\"")
        }
        let afterScheme = endpoint.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.isEmpty, !endpoint.contains(where: { $0 == " " || $0.isNewline }) else {
            throw ConfigurationError(field: "\(field).endpoint", reason: "must name a host and hold no spaces, got \"\(endpoint)\"")
        }
        guard options.timeout > .zero else {
            throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(options.timeout)")
        }
        if let apiKey = options.apiKey, apiKey.isEmpty || apiKey.contains(where: \.isNewline) {
            throw ConfigurationError(field: "\(field).apiKey", reason: "must be a non-empty single line when set")
        }
        for header in options.headers where header.name.isEmpty || header.name.contains(where: { $0 == ":" || $0.isWhitespace }) {
            throw ConfigurationError(field: "\(field).headers", reason: "holds an invalid header name \"\(header.name)\"")
        }
    }
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110).
enum RetryAfter {
    static func parse(_ value: String) -> Duration? {
        let trimmed = value.trimmingSpaces
        if let seconds = Int(trimmed), seconds >= 0 {
            return .seconds(seconds)
        }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        let now = CaptureClock.wallNanoseconds() / 1_000_000_000
        return .seconds(max(0, date - now))
    }
}

/// Parses the IMF-fixdate form of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`)
/// into seconds since the Unix epoch.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5].uppercased() == "GMT",
              let day = Int64(parts[1]), let year = Int64(parts[3]),
              let monthIndex = months.firstIndex(of: parts[2].lowercased()) else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int64(time[0]), let minute = Int64(time[1]), let second = Int64(time[2]),
              (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: Int64(monthIndex + 1), day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Howard Hinnant's civil-to-days algorithm.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
