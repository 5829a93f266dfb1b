import Synchronization

/// Sends one OpenTelemetry signal over OTLP/HTTP to a collector: the calls
/// as spans (`/v1/traces`), the request log as log records (`/v1/logs`),
/// or the metrics windows (`/v1/metrics`).
///
/// Configure it with ``ExporterConfiguration/otlp(_:)``, which makes one
/// exporter per signal, so that each is retried on its own: a collector
/// that takes the traces and turns the logs away is not sent the traces
/// twice.
///
/// Responses follow the OTLP/HTTP specification: a 2xx is success (a
/// `partialSuccess` in it counts its rejected items in
/// ``Statistics/rejected`` and is not retried); 429, 502, 503 and 504 are
/// retried, honouring `Retry-After` (seconds or an HTTP date), with the
/// sender's backoff and jitter otherwise, as are failures to connect; any
/// other status is a refusal, not retried.
public struct OTLPExporter: EventExporter {
    /// One of the signals OTLP carries.
    public struct Signal: Sendable, Hashable, CustomStringConvertible {
        let path: String

        /// Spans, one per call: `/v1/traces`.
        public static let traces = Signal(path: "traces")
        /// The request log, one log record per logged call: `/v1/logs`.
        public static let logs = Signal(path: "logs")
        /// The metrics windows: `/v1/metrics`.
        public static let metrics = Signal(path: "metrics")

        /// `traces`, `logs` or `metrics`.
        public var description: String { path }
    }

    /// The body's encoding, OTLP's `protocol` (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    public struct Encoding: Sendable, Hashable, CustomStringConvertible {
        let isJSON: Bool

        /// `http/protobuf`: binary protocol buffers, the default.
        public static let protobuf = Encoding(isJSON: false)
        /// `http/json`: the protocol's JSON encoding.
        public static let json = Encoding(isJSON: true)

        /// Reads `http/protobuf` or `http/json`; `nil` for anything else.
        public init?(_ text: String) {
            switch text.lowercased() {
            case "http/protobuf": isJSON = false
            case "http/json": isJSON = true
            default: return nil
            }
        }

        init(isJSON: Bool) {
            self.isJSON = isJSON
        }

        /// `http/protobuf` or `http/json`.
        public var description: String { isJSON ? "http/json" : "http/protobuf" }
    }

    /// How the metrics' sums and histograms add up over time.
    public struct Temporality: Sendable, Hashable {
        let isCumulative: Bool

        /// Each data point counts its own window only: the default.
        public static let delta = Temporality(isCumulative: false)
        /// Each data point counts everything since the service started.
        public static let cumulative = Temporality(isCumulative: true)
    }

    /// How request durations are bucketed.
    public struct DurationHistogram: Sendable, Hashable {
        let isExponential: Bool

        /// The semantic conventions' recommended boundaries, from 5 ms to
        /// 10 s (``PrometheusBuckets/durationSeconds``): the default.
        public static let explicitBuckets = DurationHistogram(isExponential: false)
        /// A base-2 exponential histogram (scale 6, or lower to keep to 160
        /// buckets), made from the exact latency sketch.
        public static let exponential = DurationHistogram(isExponential: true)
    }

    /// Everything the OTLP exporters need.
    public struct Options: Sendable {
        /// The collector's base URL, such as `http://localhost:4318`; each
        /// signal is sent to this plus `/v1/traces`, `/v1/logs` or
        /// `/v1/metrics` (`OTEL_EXPORTER_OTLP_ENDPOINT`).
        public var endpoint: String?
        /// Full URLs for single signals, used as they are
        /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and the like); they win
        /// over ``endpoint``.
        public var signalEndpoints: [Signal: String]
        /// The signals sent; all three by default.
        public var signals: Set<Signal>
        /// The body encoding.
        public var encoding: Encoding
        /// Extra header fields on every request, such as an API key.
        public var headers: HeaderFields
        /// Body compression; gzip by default.
        public var compression: HTTPExporter.Compression
        /// How long one request may take.
        public var timeout: Duration
        /// Delta (default) or cumulative metrics.
        public var temporality: Temporality
        /// Explicit buckets (default) or an exponential histogram.
        public var durationHistogram: DurationHistogram
        /// Whether spans carry the redacted request and response headers
        /// (`http.request.header.<name>`); log records always do.
        public var spansIncludeHeaders: Bool
        /// Whether spans carry `http.request.body.size` and
        /// `http.response.body.size`; log records always do.
        public var spansIncludeBodySizes: Bool
        /// More resource attributes, after the service's own
        /// (`OTEL_RESOURCE_ATTRIBUTES`).
        public var resourceAttributes: [(key: String, value: String)]
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?
        /// Monoscope's span name and attributes (set by ``ExporterConfiguration/monoscope(_:)``).
        var monoscope: MonoscopeSpanProfile?
        /// What one request may carry (Monoscope's, set with ``monoscope``).
        var batchLimits = ExportBatchLimits.unlimited

        /// Creates options; name a collector with `endpoint` or with
        /// `signalEndpoints`.
        ///
        /// - Parameters:
        ///   - endpoint: the collector's base URL, such as
        ///     `http://localhost:4318`; each signal is sent to it plus
        ///     `/v1/traces`, `/v1/logs` or `/v1/metrics`. `nil` by default.
        ///   - signalEndpoints: full URLs for single signals, used as they
        ///     are and winning over `endpoint`; none by default.
        ///   - signals: the signals sent, at least one; traces, logs and
        ///     metrics by default.
        ///   - encoding: the body encoding; ``Encoding/protobuf`` by default.
        ///   - headers: extra header fields on every request, such as an API
        ///     key; none by default.
        ///   - compression: body compression; gzip by default.
        ///   - timeout: how long one request may take, positive; 10 seconds
        ///     by default.
        ///   - temporality: delta (the default) or cumulative metrics.
        ///   - durationHistogram: explicit buckets (the default) or an
        ///     exponential histogram.
        ///   - spansIncludeHeaders: whether spans carry the redacted request and
        ///     response headers; `false` by default.
        ///   - spansIncludeBodySizes: whether spans carry `http.request.body.size`
        ///     and `http.response.body.size`; `false` by default.
        ///   - resourceAttributes: more resource attributes, none with an
        ///     empty key, after the service's own; none by default.
        ///   - transport: how requests are sent; `nil` (the default) for
        ///     ``URLSessionTransport``.
        public init(
            endpoint: String? = nil,
            signalEndpoints: [Signal: String] = [:],
            signals: Set<Signal> = [.traces, .logs, .metrics],
            encoding: Encoding = .protobuf,
            headers: HeaderFields = HeaderFields(),
            compression: HTTPExporter.Compression = .gzip,
            timeout: Duration = .seconds(10),
            temporality: Temporality = .delta,
            durationHistogram: DurationHistogram = .explicitBuckets,
            spansIncludeHeaders: Bool = false,
            spansIncludeBodySizes: Bool = false,
            resourceAttributes: [(key: String, value: String)] = [],
            transport: (any HTTPTransport)? = nil
        ) {
            self.endpoint = endpoint
            self.signalEndpoints = signalEndpoints
            self.signals = signals
            self.encoding = encoding
            self.headers = headers
            self.compression = compression
            self.timeout = timeout
            self.temporality = temporality
            self.durationHistogram = durationHistogram
            self.spansIncludeHeaders = spansIncludeHeaders
            self.spansIncludeBodySizes = spansIncludeBodySizes
            self.resourceAttributes = resourceAttributes
            self.transport = transport
        }

        /// The URL `signal` is sent to: its own endpoint, or the base
        /// endpoint with `/v1/<signal>` appended; `nil` when neither is set.
        public func url(for signal: Signal) -> String? {
            if let own = signalEndpoints[signal] { return own }
            guard var base = endpoint else { return nil }
            while base.hasSuffix("/") { base.removeLast() }
            return base + "/v1/" + signal.path
        }

        /// The signals sent, in the order traces, logs, metrics.
        var orderedSignals: [Signal] {
            [Signal.traces, .logs, .metrics].filter { signals.contains($0) }
        }

        func validate(field: String) throws(ConfigurationError) {
            guard !signals.isEmpty else {
                throw ConfigurationError(field: "\(field).signals", reason: "must name at least one of traces, logs, metrics")
            }
            for signal in orderedSignals {
                guard let url = url(for: signal) else {
                    throw ConfigurationError(
                        field: "\(field).endpoint", reason: "must be set, or \(signal)'s own endpoint must be")
                }
                try HTTPExporter.validateURL(
                    url, field: signalEndpoints[signal] == nil ? "\(field).endpoint" : "\(field).signalEndpoints[\(signal)]")
            }
            guard timeout > .zero else {
                throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(timeout)")
            }
            try HTTPExporter.validateHeaders(headers, field: "\(field).headers")
            for (key, _) in resourceAttributes where key.isEmpty {
                throw ConfigurationError(field: "\(field).resourceAttributes", reason: "holds an empty key")
            }
        }
    }

    /// The signal this exporter sends.
    public let signal: Signal
    /// The options in force.
    public let options: Options
    /// Where the signal goes.
    public let url: String
    private let transport: any HTTPTransport
    private let metricsState = MetricsState()

    /// Creates the exporter of one signal after checking the options.
    public init(signal: Signal, options: Options) throws(ConfigurationError) {
        try options.validate(field: "otlp")
        guard let url = options.url(for: signal) else {
            throw ConfigurationError(field: "otlp.endpoint", reason: "must be set, or \(signal)'s own endpoint must be")
        }
        self.signal = signal
        self.options = options
        self.url = url
        self.transport = options.transport ?? URLSessionTransport()
    }

    /// Events for traces and logs (profile updates are not sent over
    /// OTLP); metrics for metrics.
    public var content: ExportContent {
        switch signal {
        case .metrics: .metrics
        // The API's changes come with the metrics windows.
        case .logs: .all
        default: .events
        }
    }

    /// `otlp-traces(URL)` and the like.
    public var name: String { "otlp-\(signal)(\(ConfiguredSecrets.shown(url)))" }

    /// Sends the batch's part of this signal (nothing when it has none):
    /// its calls for traces and logs, its metrics window for metrics.
    public func export(_ batch: ExportBatch) async throws {
        let resource = OTLPResource(identity: batch.identity, attributes: options.resourceAttributes)
        let isJSON = options.encoding.isJSON
        let body: [UInt8]
        switch signal {
        case .traces:
            guard !batch.records.isEmpty else { return }
            let encoder = OTLPTraceEncoder(
                includesHeaders: options.spansIncludeHeaders, includesBodySizes: options.spansIncludeBodySizes,
                monoscope: options.monoscope)
            body = try fitted(batch.records) {
                isJSON ? encoder.encodeJSON($0, resource: resource) : encoder.encode($0, resource: resource)
            }
        case .logs:
            let encoder = OTLPLogEncoder(monoscope: options.monoscope != nil)
            // Monoscope reads its logs as calls only: the changes and alerts are not sent there.
            if !batch.apiChanges.isEmpty || !batch.alerts.isEmpty, options.monoscope == nil {
                let changes =
                    isJSON
                    ? encoder.encodeJSON([], changes: batch.apiChanges, alerts: batch.alerts, resource: resource)
                    : encoder.encode([], changes: batch.apiChanges, alerts: batch.alerts, resource: resource)
                try await send(changes, of: batch, isJSON: isJSON)
            }
            guard !batch.records.isEmpty else { return }
            body = try fitted(batch.records) {
                isJSON ? encoder.encodeJSON($0, resource: resource) : encoder.encode($0, resource: resource)
            }
        default:
            guard let window = batch.metrics, let heartbeat = batch.heartbeat else { return }
            let data = metricsState.data(window: window, heartbeat: heartbeat, temporality: options.temporality)
            let encoder = OTLPMetricsEncoder(isExponential: options.durationHistogram.isExponential)
            body = isJSON ? encoder.encodeJSON(data, resource: resource) : encoder.encode(data, resource: resource)
        }
        try await send(body, of: batch, isJSON: isJSON)
    }

    /// Posts one request body; counts what the collector rejected of it.
    private func send(_ body: [UInt8], of batch: ExportBatch, isJSON: Bool) async throws {
        let response = try await post(body)
        if let partial = OTLPPartialSuccess.parse(response.body, isJSON: isJSON), partial.rejected > 0 {
            batch.reportRejected(
                Int(clamping: partial.rejected),
                message:
                    "\(name) rejected \(partial.rejected) of the batch's \(signal)\(partial.message.isEmpty ? "" : ": \(partial.message)")"
            )
        }
    }

    private func post(_ body: [UInt8]) async throws -> TransportResponse {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: options.encoding.isJSON ? "application/json" : "application/x-protobuf")
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion) (OTLP/HTTP)")
        var body = body
        if options.compression.isGzip, let compressed = try? Gzip.compress(body) {
            body = compressed
            headers.append(name: "Content-Encoding", value: "gzip")
        }
        for field in options.headers {
            headers.replaceOrAppend(name: field.name, value: field.value)
        }
        let request = TransportRequest(url: url, method: "POST", headers: headers, body: body, timeout: options.timeout)
        let response = try await transport.sendForExport(request)
        try Self.check(response, url: url)
        return response
    }

    /// OTLP/HTTP's rules: 2xx is success; 429, 502, 503 and 504 may pass
    /// (after `Retry-After` when given); anything else is final.
    static func check(_ response: TransportResponse, url: String) throws(ExportError) {
        let url = ConfiguredSecrets.shown(url)
        let detail = String(decoding: response.body.prefix(200), as: UTF8.self).filter { !$0.isNewline && $0.isASCII }
        switch response.status {
        case 200..<300:
            return
        case 413:
            throw ExportError.tooLarge("collector \(url) answered 413: the request is too large", httpStatus: 413)
        case 429, 502, 503, 504:
            let retryAfter = response.headers["retry-after"].flatMap(RetryAfter.parse)
            throw ExportError.retryable(
                "collector \(url) answered \(response.status)", after: retryAfter, httpStatus: response.status)
        default:
            throw ExportError.rejected(
                "collector \(url) answered \(response.status)\(detail.isEmpty ? "" : ": \(detail)")", httpStatus: response.status)
        }
    }

    /// The running totals a cumulative temporality needs and the counters'
    /// last values a delta one needs, moved once per window: a retried
    /// window is sent again exactly as it was first made.
    final class MetricsState: Sendable {
        private struct State {
            var cumulative: [SeriesKey: SeriesMetrics] = [:]
            var lastCounters: [String: Int64] = [:]
            var lastCountersTime: Int64?
            var made: (windowEnd: Int64, data: OTLPMetricsData)?
        }

        private let state = Mutex(State())

        func data(window: MetricsWindow, heartbeat: Heartbeat, temporality: Temporality) -> OTLPMetricsData {
            state.withLock { state in
                if let made = state.made, made.windowEnd == window.endNanoseconds { return made.data }
                let statistics = heartbeat.statistics
                var counters: [OTLPMetricsData.Counter] = [
                    .init(
                        name: "apimetrics.events.recorded", description: "Calls recorded and profile updates sent.",
                        value: Int64(statistics.recorded)),
                    .init(
                        name: "apimetrics.events.skipped", description: "Calls left out of the logs on purpose.",
                        value: Int64(statistics.skipped)),
                    .init(
                        name: "apimetrics.events.sampled_out", description: "Of the skipped calls, those sampling left out.",
                        value: Int64(statistics.sampledOut)),
                    .init(
                        name: "apimetrics.events.destination_left_out",
                        description: "Event deliveries a destination's own rules left out (its sampling, its required fields).",
                        value: Int64(statistics.destinationLeftOut)),
                    .init(
                        name: "apimetrics.events.destination_paused",
                        description: "Event deliveries not made while a destination asked for a pause.",
                        value: Int64(statistics.destinationPaused)),
                    .init(
                        name: "apimetrics.events.dropped", description: "Events lost before any exporter saw them.",
                        attributes: [("apimetrics.drop.reason", "queue_full")], value: Int64(statistics.droppedQueueFull)),
                    .init(
                        name: "apimetrics.events.dropped", description: "Events lost before any exporter saw them.",
                        attributes: [("apimetrics.drop.reason", "shed")], value: Int64(statistics.droppedShed)),
                    .init(
                        name: "apimetrics.events.dropped", description: "Events lost before any exporter saw them.",
                        attributes: [("apimetrics.drop.reason", "processing")], value: Int64(statistics.droppedProcessing)),
                    .init(
                        name: "apimetrics.events.dropped", description: "Events lost before any exporter saw them.",
                        attributes: [("apimetrics.drop.reason", "spool_full")], value: Int64(statistics.droppedSpoolFull)),
                    .init(
                        name: "apimetrics.events.spooled", description: "Events written to the disk spool.",
                        value: Int64(statistics.spooled)),
                    .init(
                        name: "apimetrics.export.retries", description: "Attempts after a batch's first.",
                        value: Int64(statistics.retried)),
                    .init(
                        name: "apimetrics.events.exported", description: "Event deliveries exporters accepted.",
                        value: Int64(statistics.exported)),
                    .init(
                        name: "apimetrics.events.failed", description: "Event deliveries given up.",
                        value: Int64(statistics.failed)),
                    .init(
                        name: "apimetrics.events.rejected", description: "Items collectors accepted the request for but refused.",
                        value: Int64(statistics.rejected)),
                ]
                var series = window.series
                var seriesStart = window.startNanoseconds
                var countersStart = heartbeat.startedAtNanoseconds
                if temporality.isCumulative {
                    for item in window.series { state.cumulative[item.key, default: SeriesMetrics(key: item.key)].merge(item) }
                    series = state.cumulative.values.sorted { $0.key < $1.key }
                    seriesStart = heartbeat.startedAtNanoseconds
                } else {
                    if let last = state.lastCountersTime { countersStart = last }
                    for index in counters.indices {
                        let key = counters[index].name + (counters[index].attributes.first?.value ?? "")
                        let total = counters[index].value
                        counters[index].value = max(0, total - (state.lastCounters[key] ?? 0))
                        state.lastCounters[key] = total
                    }
                    state.lastCountersTime = heartbeat.timeNanoseconds
                }
                let data = OTLPMetricsData(
                    series: series, seriesStartNanoseconds: seriesStart, seriesEndNanoseconds: window.endNanoseconds,
                    counters: counters, countersStartNanoseconds: countersStart,
                    countersTimeNanoseconds: heartbeat.timeNanoseconds, queued: Int64(statistics.queued),
                    isCumulative: temporality.isCumulative)
                state.made = (window.endNanoseconds, data)
                return data
            }
        }
    }
}
