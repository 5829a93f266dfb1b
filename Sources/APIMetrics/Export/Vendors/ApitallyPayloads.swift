import Foundation

/// What Apitally's hub takes, as its SDKs build it: the request counts per
/// consumer, method, route and status with their time and size bins, the
/// sync and startup documents, and request-log lines.
struct ApitallyRequestTable: Sendable {
    struct Key: Hashable, Sendable {
        var consumer: String?
        var method: String
        var path: String
        var status: Int
    }

    struct Tally: Sendable {
        var count = 0
        var requestSizeSum = 0
        var responseSizeSum = 0
        /// Milliseconds, floored to 10 ms → calls.
        var responseTimes: [Int: Int] = [:]
        /// Kilobytes (bytes / 1000) → calls.
        var requestSizes: [Int: Int] = [:]
        var responseSizes: [Int: Int] = [:]
    }

    private(set) var tallies: [Key: Tally] = [:]
    /// Calls in the table, weights included.
    private(set) var calls = 0
    /// The consumers the table holds rows for; past ``maxConsumers`` a new
    /// consumer's calls are counted without one, so that a client inventing
    /// a key per call cannot grow a sync without bound.
    private(set) var consumers: Set<String> = []
    /// Calls counted without their consumer, its consumer or its row being
    /// past the limits.
    private(set) var foldedConsumerCalls = 0
    /// The series (method, route, status) the table counts, whichever
    /// consumers call them; past ``maxSeries`` a new one's calls count in
    /// route ``SeriesKey/otherRoute``, as the metrics fold them: a path of
    /// words no template replaces would otherwise make a row per path.
    private(set) var series: Set<SeriesKey> = []
    /// Calls counted in ``SeriesKey/otherRoute`` for that reason.
    private(set) var foldedRouteCalls = 0
    /// Rows with a consumer.
    private(set) var consumerRows = 0
    /// The most series with a route of their own: the metrics' `maxSeries`.
    let maxSeries: Int

    /// Consumers with rows of their own in one sync.
    static let maxConsumers = 1_000
    /// Rows with a consumer in one sync; a call that would make one more
    /// counts in its series' row without a consumer. Consumers times series
    /// would otherwise bound a sync only by their product.
    static let maxConsumerRows = 10_000

    /// An empty table keeping at most `maxSeries` series apart.
    init(maxSeries: Int = MetricsOptions().maxSeries) {
        self.maxSeries = max(1, maxSeries)
    }

    var isEmpty: Bool { tallies.isEmpty }

    /// Counts one call `weight` times (a sampled call stands for several).
    mutating func add(_ record: ExchangeRecord, weight: Int) {
        let request = record.request
        var consumer = record.consumer.map { ApitallyPayloads.consumerIdentifier($0.id) }.flatMap { $0.isEmpty ? nil : $0 }
        if let id = consumer, !consumers.contains(id) {
            if consumers.count < Self.maxConsumers {
                consumers.insert(id)
            } else {
                consumer = nil
                foldedConsumerCalls += weight
            }
        }
        // Apitally's SDKs send the method upper-cased; one not registered is
        // `_OTHER`, as in the metrics: a client cannot make a row per method.
        var seriesKey = SeriesKey(
            method: HTTPMethods.seriesMethod(request.method.uppercased()),
            route: request.route ?? RouteNormalizer.template(ofTarget: request.target),
            status: ApitallyPayloads.status(of: record))
        if !series.contains(seriesKey) {
            if series.count >= maxSeries && seriesKey.route != SeriesKey.otherRoute {
                seriesKey.route = SeriesKey.otherRoute
                foldedRouteCalls += weight
            }
            series.insert(seriesKey)
        }
        var key = Key(consumer: consumer, method: seriesKey.method, path: seriesKey.route, status: seriesKey.status)
        if key.consumer != nil, tallies[key] == nil {
            if consumerRows < Self.maxConsumerRows {
                consumerRows += 1
            } else {
                key.consumer = nil
                foldedConsumerCalls += weight
            }
        }
        let milliseconds = Self.timeBin(nanoseconds: record.durationNanoseconds)
        tallies[key, default: Tally()].count += weight
        tallies[key, default: Tally()].responseTimes[milliseconds, default: 0] += weight
        let requestSize = record.requestBody.size, responseSize = record.responseBody.size
        tallies[key, default: Tally()].requestSizeSum += requestSize * weight
        tallies[key, default: Tally()].requestSizes[Self.sizeBin(bytes: requestSize), default: 0] += weight
        tallies[key, default: Tally()].responseSizeSum += responseSize * weight
        tallies[key, default: Tally()].responseSizes[Self.sizeBin(bytes: responseSize), default: 0] += weight
        calls += weight
    }

    /// Apitally's response-time bin: milliseconds floored to 10.
    static func timeBin(nanoseconds: Int64) -> Int {
        Int(max(0, nanoseconds) / 10_000_000) * 10
    }

    /// Apitally's size bin: kilobytes as bytes / 1000, floored.
    static func sizeBin(bytes: Int) -> Int {
        max(0, bytes) / 1000
    }

    /// `requests[]` of a sync document, in a stable order.
    func write(into writer: inout JSONWriter) {
        writer.beginArray()
        for (key, tally) in tallies.sorted(by: {
            ($0.key.path, $0.key.method, $0.key.status, $0.key.consumer ?? "") < (
                $1.key.path, $1.key.method, $1.key.status, $1.key.consumer ?? ""
            )
        }) {
            writer.beginObject()
            writer.key("consumer")
            if let consumer = key.consumer { writer.string(consumer) } else { writer.null() }
            writer.field("method", key.method)
            writer.field("path", key.path)
            writer.field("status_code", key.status)
            writer.field("request_count", tally.count)
            writer.field("request_size_sum", tally.requestSizeSum)
            writer.field("response_size_sum", tally.responseSizeSum)
            for (name, bins) in [
                ("response_times", tally.responseTimes), ("request_sizes", tally.requestSizes),
                ("response_sizes", tally.responseSizes),
            ] as [(StaticString, [Int: Int])] {
                writer.key(name)
                writer.beginObject()
                for (bin, count) in bins.sorted(by: { $0.key < $1.key }) {
                    writer.key(escaping: String(bin))
                    writer.int(count)
                }
                writer.endObject()
            }
            writer.endObject()
        }
        writer.endArray()
    }
}

enum ApitallyPayloads {
    static let maxMessageLength = 2048
    static let maxTracebackLength = 65_536

    /// A message cut to Apitally's 2,048 characters, and to as many UTF-8
    /// bytes (a character of combining marks counts as many), marked as cut.
    static func message(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count > maxMessageLength else { return trimmed }
        let suffix = "... (truncated)"
        let budget = maxMessageLength - suffix.utf8.count
        return TextLimit.cut(trimmed, maxCharacters: budget, maxBytes: budget) + suffix
    }

    /// A traceback cut to Apitally's 65,536 characters, and to as many
    /// UTF-8 bytes, keeping its tail (the frames nearest the error), whole
    /// lines only; a last line longer than that keeps its start.
    static func traceback(_ text: String) -> String {
        guard text.utf8.count > maxTracebackLength else { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        let prefix = "... (truncated) ...\n"
        let budget = maxTracebackLength - prefix.utf8.count
        var kept: [Substring] = []
        var length = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).reversed() {
            guard length + line.utf8.count + 1 <= budget else {
                if kept.isEmpty { kept.append(Substring(TextLimit.cut(String(line), maxCharacters: budget, maxBytes: budget))) }
                break
            }
            kept.append(line)
            length += line.utf8.count + 1
        }
        return (prefix + kept.reversed().joined(separator: "\n")).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The startup document: the routes, the versions, the client.
    static func startup(
        instance: String, message: String, routes: [String], swiftVersion: String, appVersion: String?
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 512 + routes.count * 48)
        writer.beginObject()
        writer.field("instance_uuid", instance)
        writer.field("message_uuid", message)
        writer.key("paths")
        writer.beginArray()
        for route in routes {
            let parts = route.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            writer.beginObject()
            writer.field("method", String(parts[0]).uppercased())
            writer.field("path", String(parts[1]))
            writer.endObject()
        }
        writer.endArray()
        writer.key("versions")
        writer.beginObject()
        writer.field("swift", swiftVersion)
        writer.field("apimetrics", APIMetricsService.libraryVersion)
        writer.field("app", appVersion)
        writer.endObject()
        writer.field("client", "swift:apimetrics")
        writer.endObject()
        return writer.bytes
    }

    /// One call as a line of Apitally's request log, as the SDK writes it:
    /// empty members left out, bodies base64 (only JSON and plain text,
    /// `<body too large>` past 50,000 bytes or when only part was captured),
    /// headers as the options say, a call with no response as a 500.
    static func logLine(_ record: ExchangeRecord, uuid: String, options: ApitallyRequestLogOptions = .default) -> [UInt8] {
        let request = record.request
        var writer = JSONWriter(capacity: 512 + record.requestBody.bytes.count * 4 / 3 + record.responseBody.bytes.count * 4 / 3)
        writer.beginObject()
        writer.field("uuid", uuid)
        writer.key("request")
        writer.beginObject()
        writer.field("timestamp", Double(record.startTimeNanoseconds) / 1e9)
        writer.field("method", request.method.uppercased())
        if let route = request.route, !route.isEmpty {
            writer.field("path", route)
        }
        writer.key("url")
        var url = MoesifEncoding.uri(of: record)
        if !options.includesQueryParameters, let query = url.firstIndex(of: "?") { url = String(url[..<query]) }
        writer.string(url)
        if options.includesRequestHeaders, !request.headers.isEmpty {
            writer.key("headers")
            writePairs(request.headers, into: &writer)
        }
        writer.field("size", record.requestBody.size)
        if let consumer = record.consumer.map({ consumerIdentifier($0.id) }), !consumer.isEmpty {
            writer.field("consumer", consumer)
        }
        if options.includesRequestBody, let body = logBody(record.requestBody, contentType: request.headers["content-type"]) {
            writer.field("body", Base64.encode(body))
        }
        writer.endObject()
        writer.key("response")
        writer.beginObject()
        writer.field("status_code", status(of: record))
        writer.field("response_time", Double(record.durationNanoseconds) / 1e9)
        if options.includesResponseHeaders, let headers = record.response?.headers, !headers.isEmpty {
            writer.key("headers")
            writePairs(headers, into: &writer)
        }
        writer.field("size", record.responseBody.size)
        if options.includesResponseBody,
            let body = logBody(record.responseBody, contentType: record.response?.headers["content-type"])
        {
            writer.field("body", Base64.encode(body))
        }
        writer.endObject()
        if let error = record.errors.first {
            writer.key("exception")
            writer.beginObject()
            writer.field("type", error.type)
            writer.field("message", message(error.message))
            writer.field("traceback", traceback(tracebackText(of: error)))
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The status Apitally's SDKs give a call: a call that ended with no
    /// response (the handler failed, the peer left) is a 500.
    static func status(of record: ExchangeRecord) -> Int {
        record.response?.status ?? 500
    }

    /// A consumer's identifier as the SDK keeps it: trimmed, at most 128
    /// characters (Unicode scalars, as Python counts them).
    static func consumerIdentifier(_ id: String) -> String {
        cut(id.trimmingCharacters(in: .whitespacesAndNewlines), scalars: 128)
    }

    /// A consumer's name or group as the SDK keeps it: at most 64 characters.
    static func consumerLabel(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return cut(text, scalars: 64)
    }

    private static func cut(_ text: String, scalars: Int) -> String {
        guard text.unicodeScalars.count > scalars else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text.unicodeScalars.prefix(scalars))
        return String(view)
    }

    /// The body as the log carries it: nothing when empty or not JSON or
    /// plain text; `<body too large>` past 50,000 bytes, or when only a
    /// part was captured (the whole cannot be sent).
    static func logBody(_ body: CapturedBody, contentType: String?) -> [UInt8]? {
        guard !body.bytes.isEmpty, ApitallyRequestLog.isLoggedContentType(contentType) else { return nil }
        if body.isTruncated || body.bytes.count > ApitallyRequestLog.maxBodyBytes
            || body.size > ApitallyRequestLog.maxBodyBytes && body.decodedFrom == nil
        {
            return ApitallyRequestLog.bodyTooLarge
        }
        return body.bytes
    }

    /// What stands for a traceback: where the error was reported, then
    /// its causes, outermost first.
    static func tracebackText(of error: RecordedError) -> String {
        var lines: [String] = []
        if let location = error.location { lines.append("at \(location)") }
        for cause in error.causes { lines.append("caused by \(cause.type): \(cause.message)") }
        return lines.joined(separator: "\n")
    }

    private static func writePairs(_ headers: HeaderFields, into writer: inout JSONWriter) {
        writer.beginArray()
        for field in headers {
            writer.beginArray()
            writer.string(field.name)
            writer.string(field.value)
            writer.endArray()
        }
        writer.endArray()
    }
}
