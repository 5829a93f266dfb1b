/// Tells each alert transition to a webhook: one `POST` per transition,
/// as JSON of APIMetrics' own (signed when a secret is set) or as a Slack
/// incoming-webhook message.
///
/// The generic message:
///
/// ```json
/// {"type": "apimetrics.alert", "id": "9f1c…", "rule": "server errors above 5%", "state": "firing",
///  "value": 0.5, "threshold": 0.05, "scope": "all", "instance": "",
///  "summary": "server errors 50% of 40 calls over 1m, threshold 5%",
///  "time": "2026-12-06T22:01:00.000Z", "firing_since": "2026-12-06T22:01:00.000Z",
///  "repeat": false, "service": "orders", "environment": "production"}
/// ```
///
/// With a secret, two headers let the receiver check that the message is
/// ours and fresh: `APIMetrics-Timestamp` (seconds since 1970) and
/// `APIMetrics-Signature: v1=HEX`, HEX being the HMAC-SHA256, under the
/// secret, of the timestamp, a `.` and the body's bytes (as Stripe signs
/// its webhooks). A receiver recomputes it, compares in constant time, and
/// refuses a timestamp more than a few minutes old.
///
/// Failures are retried with the sender's ``RetryPolicy``; a transition
/// already taken by the receiver is not sent again when a later one of the
/// same batch is retried, and `id` is the same on every delivery of one
/// transition, for a receiver to drop repeats.
public struct AlertWebhookExporter: EventExporter {
    /// Where, how, and signed with what.
    public struct Options: Sendable {
        /// The message's form.
        public enum Format: String, Sendable, Hashable {
            /// APIMetrics' JSON, signed when ``secret`` is set.
            case generic
            /// A Slack incoming webhook's `{"text": …}`.
            case slack
        }

        /// The webhook's URL (`https://…`); its userinfo and query values are never shown.
        public var url: String
        /// The signing secret; `nil` sends unsigned messages.
        public var secret: String?
        /// The message's form: APIMetrics' JSON or Slack's.
        public var format: Format
        /// How long to wait for the receiver's answer.
        public var timeout: Duration
        /// The transport; ``URLSessionTransport`` when `nil`.
        public var transport: (any HTTPTransport)?

        /// Creates options.
        ///
        /// - Parameters:
        ///   - url: the webhook's URL (`https://…`); its userinfo and query
        ///     values are never shown.
        ///   - secret: the signing secret, one line of at least 16 bytes;
        ///     `nil` (the default) sends unsigned messages.
        ///   - format: the message's form: APIMetrics' JSON (the default) or
        ///     Slack's.
        ///   - timeout: how long to wait for the receiver's answer;
        ///     10 seconds by default.
        ///   - transport: the transport; `nil` (the default) for
        ///     ``URLSessionTransport``.
        public init(
            url: String, secret: String? = nil, format: Format = .generic, timeout: Duration = .seconds(10),
            transport: (any HTTPTransport)? = nil
        ) {
            self.url = url
            self.secret = secret
            self.format = format
            self.timeout = timeout
            self.transport = transport
        }

        func validate(field: String) throws(ConfigurationError) {
            try HTTPExporter.validateURL(url, field: "\(field).url")
            if let secret, secret.utf8.count < 16 || secret.contains(where: \.isNewline) {
                throw ConfigurationError(field: "\(field).secret", reason: "must be one line of at least 16 bytes")
            }
            guard timeout > .zero else {
                throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(timeout)")
            }
        }
    }

    let options: Options
    private let transport: any HTTPTransport
    /// Transitions the receiver took, so that a retried batch does not tell them twice.
    private let told = LockedValue<[AlertEvent]>([])

    /// Creates an exporter.
    public init(options: Options) {
        self.options = options
        transport = options.transport ?? URLSessionTransport()
    }

    /// `alert-webhook(URL)`, the URL's userinfo and query values hidden, or
    /// `slack(HOST)`: a Slack webhook's path is its credential.
    public var name: String { Self.name(of: options) }

    static func name(of options: Options) -> String {
        options.format == .slack ? "slack(\(host(of: options.url)))" : "alert-webhook(\(ConfiguredSecrets.shown(options.url)))"
    }

    /// The host of a URL (what is between `//` and the next `/`, userinfo left out).
    static func host(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstIndex(of: ":"), rest[scheme...].hasPrefix("://") {
            rest = rest[rest.index(scheme, offsetBy: 3)...]
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(authority.split(separator: "@").last ?? "")
    }

    /// The most transitions one batch tells a receiver; past them one
    /// message says how many more there are (the dashboard lists them), so
    /// that a storm of alerts cannot hold the sender on a slow receiver.
    static let maxMessagesPerBatch = 20

    /// The alert transitions only.
    public var content: ExportContent { .alerts }

    /// Posts each transition of the batch.
    public func export(_ batch: ExportBatch) async throws {
        var events = batch.alerts
        if events.count > Self.maxMessagesPerBatch, let last = events.last {
            let more = events.count - (Self.maxMessagesPerBatch - 1)
            events = Array(events.prefix(Self.maxMessagesPerBatch - 1))
            events.append(
                AlertEvent(
                    rule: "\(more) more alert transitions", state: .firing, value: Double(more), threshold: nil, scope: "all",
                    instance: "",
                    timeNanoseconds: last.timeNanoseconds, firingSinceNanoseconds: last.timeNanoseconds, isRepeat: false,
                    summary:
                        "\(more) more transitions in this window than are sent one by one; the dashboard's Alerts page lists them"
                ))
        }
        for event in events where !told.withLock({ $0.contains(event) }) {
            let body = Self.body(event, format: options.format, identity: batch.identity)
            var headers = HeaderFields()
            headers.append(name: "Content-Type", value: "application/json")
            headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
            if let secret = options.secret, options.format == .generic {
                let timestamp = String(CaptureClock.wallNanoseconds() / 1_000_000_000)
                headers.append(name: "APIMetrics-Timestamp", value: timestamp)
                headers.append(
                    name: "APIMetrics-Signature", value: "v1=" + Self.signature(secret: secret, timestamp: timestamp, body: body))
            }
            let response = try await transport.sendForExport(
                TransportRequest(url: options.url, method: "POST", headers: headers, body: body, timeout: options.timeout))
            try HTTPExporter.check(response, endpoint: options.url)
            told.withLock { told in
                told.append(event)
                if told.count > 1_000 { told.removeFirst(told.count - 1_000) }
            }
        }
    }

    /// Text with Slack's control characters escaped (`&`, `<`, `>`).
    static func slackEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The HMAC-SHA256 of `timestamp.body` under `secret`, as hex.
    static func signature(secret: String, timestamp: String, body: [UInt8]) -> String {
        HMACSHA256.hex(key: Array(secret.utf8), message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body)
    }

    static func body(_ event: AlertEvent, format: Options.Format, identity: ServiceIdentity) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        switch format {
        case .slack:
            let mark = event.state == .firing ? ":rotating_light: *FIRING*" : ":white_check_mark: *RESOLVED*"
            let instance = event.instance.isEmpty ? "" : " (\(event.instance))"
            writer.key("text")
            // Slack reads <…> as links and mentions: what a client chose (an error's message) is escaped.
            writer.string(
                "\(mark) "
                    + Self.slackEscaped(
                        "\(event.rule)\(instance) on \(identity.service) (\(identity.environment)): \(event.summary)"))
        case .generic:
            writer.field("type", "apimetrics.alert")
            event.writeMembers(into: &writer)
            writer.field("service", identity.service)
            writer.field("environment", identity.environment)
        }
        writer.endObject()
        return writer.bytes
    }
}
