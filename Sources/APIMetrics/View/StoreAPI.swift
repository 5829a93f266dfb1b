/// The local JSON API, version 1 (`/_apimetrics/api/v1/…`): what the
/// dashboard is built on, read from the store. Every path answers GET with
/// a JSON object; a parameter it cannot use answers 400
/// `{"error":…,"field":…}`, a path it does not know 404, and with no store
/// configured every path answers 503 saying so.
///
/// | path | answers |
/// | --- | --- |
/// | `overview` | totals, p50/p95/p99, consumers, the chart's points, uptime with its gaps and runs |
/// | `series?method=&route=` or `series?consumer=` | one endpoint's or consumer's points |
/// | `endpoints` | every endpoint's figures, most calls first |
/// | `endpoint?method=&route=` | one endpoint: figures, statuses, latency histogram, points, top consumers, errors, recent calls |
/// | `consumers`, `consumer?id=` | consumers' counts; one consumer's profile, points, endpoints and recent calls |
/// | `calls?…` | the request log, newest first, filtered (`method`, `route`, `status` as `404` or `4xx`, `consumer`, `min_ms`, `path`), paged with `cursor` and `limit` (1–200) |
/// | `call?id=` | one call: head, redacted headers and bodies, errors, parent and outgoing calls |
/// | `errors` | server and validation error groups with first and last seen |
/// | `changes` | the API's changes as discovery observed them (new endpoint, status, media type, parameter or field; type changed; field optional or gone), newest first, each with its first-seen time and an example call (`limit` 1–200) |
/// | `alerts` | the alerts firing (`rule`, `instance`, `since`, `value`) and the transitions told in the range, newest first (`time`, `rule`, `state`, `value`, `threshold`, `scope`, `instance`, `summary`, `firing_since`, `repeat`; `limit` 1–200) |
/// | `pipeline` | the pipeline's counters and the store's health |
///
/// Ranges: `range=1h|24h|7d|30d` (24h by default) or `from`/`to` as RFC 3339
/// or milliseconds since the epoch. Figures over a range come from the
/// metrics rows (exact counts; percentiles from merged sketches, within
/// 1%); lists of calls come from the log, which holds the calls that were
/// logged (sampling and drops leave some out).
enum StoreAPI {
    static let prefix = "/_apimetrics/api/v1/"

    /// What an answer needs besides the request.
    struct Context {
        var reader: StoreReader?
        /// Why there is no reader, for the 503.
        var unavailable: String
        var status: StoreStatus?
        var options: StoreOptions?
        var statistics: Statistics
        var identity: ServiceIdentity
        var now: Int64
    }

    /// A parameter the API cannot use.
    struct ParameterError: Error {
        var field: String
        var reason: String
    }

    static func answer(path: String, query: [(name: String, value: String)], context: Context) -> (status: Int, body: [UInt8]) {
        let name = String(path.dropFirst(prefix.count))
        guard Self.paths.contains(name) else { return (404, error("no such path in API v1: \(name.isEmpty ? "(none)" : name)")) }
        guard let reader = context.reader else { return (503, error(context.unavailable)) }
        do {
            let parameters = try Parameters(query, now: context.now)
            var writer = JSONWriter(capacity: 4_096)
            switch name {
            case "overview": try overview(parameters, reader, context, &writer)
            case "series": try series(parameters, reader, &writer)
            case "endpoints": try endpoints(parameters, reader, &writer)
            case "endpoint": try endpoint(parameters, reader, &writer)
            case "consumers": try consumers(parameters, reader, &writer)
            case "consumer":
                guard try consumer(parameters, reader, &writer) else { return (404, error("no such consumer")) }
            case "calls": try calls(parameters, reader, &writer)
            case "call":
                guard try call(parameters, reader, &writer) else { return (404, error("no such call")) }
            case "errors": try errors(parameters, reader, &writer)
            case "changes": try changes(parameters, reader, &writer)
            case "alerts": try alerts(parameters, reader, &writer)
            default: try pipeline(reader, context, &writer)
            }
            return (200, writer.bytes)
        } catch let failure as ParameterError {
            var writer = JSONWriter(capacity: 128)
            writer.beginObject()
            writer.field("error", failure.reason)
            writer.field("field", failure.field)
            writer.endObject()
            return (400, writer.bytes)
        } catch let failure as StoreReadError where failure.kind != .unreadable {
            return (503, Self.error("the store \(failure.reason)"))
        } catch {
            return (500, Self.error("the store could not be read: \(error)"))
        }
    }

    static let paths: Set<String> = [
        "overview", "series", "endpoints", "endpoint", "consumers", "consumer", "calls", "call", "errors", "changes", "alerts",
        "pipeline",
    ]

    static func error(_ message: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.field("error", message)
        writer.endObject()
        return writer.bytes
    }

    // MARK: Pages

    private static func overview(
        _ parameters: Parameters, _ reader: StoreReader, _ context: Context, _ writer: inout JSONWriter
    ) throws {
        let range = parameters.range
        let totals = try reader.totals(range)
        let resolution = range.resolutionSeconds
        writer.beginObject()
        context.identity.writeFields(into: &writer, includingEventFields: false)
        writeRange(range, into: &writer)
        writer.field("resolution_s", Int(resolution))
        writeFigures(totals, into: &writer)
        writer.field("consumers", try reader.consumerCount(range))
        writer.key("series")
        writePoints(try reader.points(range, resolutionSeconds: resolution), withLatency: true, into: &writer)
        let uptime = try reader.uptime(range, now: context.now)
        writer.key("uptime")
        writer.beginObject()
        writer.key("ratio")
        if let ratio = uptime.ratio { writer.number((ratio * 10_000).rounded() / 10_000) } else { writer.null() }
        writer.key("gaps")
        writer.beginArray()
        for gap in uptime.gaps.prefix(500) {
            writer.beginObject()
            writer.field("from", timestamp: gap.from)
            writer.field("to", timestamp: gap.to)
            writer.endObject()
        }
        writer.endArray()
        writer.key("runs")
        writer.beginArray()
        for run in uptime.runs.suffix(200) {
            writer.beginObject()
            writer.field("instance", run.instance)
            writer.field("started_at", timestamp: run.startedAt)
            writer.field("last_seen", timestamp: run.lastSeen)
            writer.key("version")
            if let version = run.version { writer.string(version) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        writer.endObject()
    }

    private static func series(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let range = parameters.range
        let resolution = range.resolutionSeconds
        writer.beginObject()
        writeRange(range, into: &writer)
        writer.field("resolution_s", Int(resolution))
        writer.key("series")
        if let consumer = parameters.consumer {
            writePoints(
                try reader.consumerPoints(range, id: consumer, resolutionSeconds: resolution), withLatency: false, into: &writer)
        } else {
            guard let method = parameters.method, let route = parameters.route else {
                throw ParameterError(field: "method", reason: "series needs method and route, or consumer")
            }
            writePoints(
                try reader.points(range, resolutionSeconds: resolution, method: method, route: route), withLatency: true,
                into: &writer)
        }
        writer.endObject()
    }

    private static func endpoints(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.key("endpoints")
        writer.beginArray()
        for endpoint in try reader.endpoints(parameters.range).prefix(maxListed) { writeEndpoint(endpoint, into: &writer) }
        writer.endArray()
        writer.endObject()
    }

    /// The most rows of a list (endpoints, consumers) in one answer.
    static let maxListed = 2_000

    static func writeEndpoint(_ endpoint: StoreEndpoint, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("method", endpoint.method)
        writer.field("route", endpoint.route)
        writeFigures(endpoint.figures, into: &writer)
        writer.endObject()
    }

    private static func endpoint(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        guard let method = parameters.method else { throw ParameterError(field: "method", reason: "is required") }
        guard let route = parameters.route else { throw ParameterError(field: "route", reason: "is required") }
        let range = parameters.range
        let found =
            try reader.endpoints(range, method: method, route: route).first
            ?? StoreEndpoint(method: method, route: route, figures: StoreFigures(), statuses: [:])
        writer.beginObject()
        writeRange(range, into: &writer)
        writer.field("method", method)
        writer.field("route", route)
        writeFigures(found.figures, into: &writer)
        writer.key("statuses")
        writer.beginObject()
        for (status, count) in found.statuses.sorted(by: { $0.key < $1.key }) {
            writer.key(escaping: String(status))
            writer.int(count)
        }
        writer.endObject()
        writer.key("latency_histogram")
        writeHistogram(found.figures.latency, into: &writer)
        writer.field("resolution_s", Int(range.resolutionSeconds))
        writer.key("series")
        writePoints(
            try reader.points(range, resolutionSeconds: range.resolutionSeconds, method: method, route: route), withLatency: true,
            into: &writer)
        writer.key("top_consumers")
        writer.beginArray()
        for row in try reader.topConsumers(range, method: method, route: route) {
            writer.beginObject()
            writer.field("consumer", row.consumer)
            writer.key("name")
            if let name = row.name { writer.string(name) } else { writer.null() }
            writer.field("calls", row.calls)
            writer.endObject()
        }
        writer.endArray()
        writer.key("errors")
        writeErrorGroups(
            try reader.errorGroups(range, method: method, route: route, limit: 50).filter { !$0.isValidation }, into: &writer)
        var filter = StoreCallFilter(range: range)
        filter.method = method
        filter.route = route
        writer.key("recent")
        writeCalls(try reader.calls(filter, limit: 20).calls, into: &writer)
        writer.endObject()
    }

    private static func consumers(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let (consumers, anonymous, excluded, unattributed) = try reader.consumers(parameters.range)
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.field("anonymous", anonymous)
        writer.field("excluded", excluded)
        writer.field("unattributed", unattributed)
        writer.key("consumers")
        writer.beginArray()
        for consumer in consumers.prefix(maxListed) { writeConsumer(consumer, withProfile: false, into: &writer) }
        writer.endArray()
        writer.endObject()
    }

    private static func consumer(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws -> Bool {
        guard let id = parameters.consumerID else { throw ParameterError(field: "id", reason: "is required") }
        let range = parameters.range
        guard let consumer = try reader.consumers(range, id: id).consumers.first else { return false }
        writer.beginObject()
        writeRange(range, into: &writer)
        writeConsumerFields(consumer, withProfile: true, into: &writer)
        writer.field("resolution_s", Int(range.resolutionSeconds))
        writer.key("series")
        writePoints(
            try reader.consumerPoints(range, id: id, resolutionSeconds: range.resolutionSeconds), withLatency: false,
            into: &writer)
        writer.key("endpoints")
        writer.beginArray()
        for row in try reader.consumerEndpoints(range, consumer: id) {
            writer.beginObject()
            writer.field("method", row.method)
            writer.field("route", row.route)
            writer.field("calls", row.calls)
            writer.endObject()
        }
        writer.endArray()
        var filter = StoreCallFilter(range: range)
        filter.consumer = id
        writer.key("recent")
        writeCalls(try reader.calls(filter, limit: 20).calls, into: &writer)
        writer.endObject()
        return true
    }

    private static func calls(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let page = try reader.calls(parameters.callFilter, after: parameters.cursor, limit: parameters.limit)
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.key("calls")
        writeCalls(page.calls, into: &writer)
        writer.key("next_cursor")
        if let next = page.next { writer.string(next.text) } else { writer.null() }
        writer.endObject()
    }

    private static func errors(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let groups = try reader.errorGroups(parameters.range)
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.key("server_errors")
        writeErrorGroups(groups.filter { !$0.isValidation }, into: &writer)
        writer.key("validation_errors")
        writeErrorGroups(groups.filter(\.isValidation), into: &writer)
        writer.endObject()
    }

    /// The alerts firing (as the writer last saved them) and the transitions told in the range, newest first.
    private static func alerts(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let firing = try reader.firingAlerts()
        let events = try reader.alertEvents(parameters.range, limit: parameters.limit)
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.key("firing")
        writer.beginArray()
        for alert in firing {
            writer.beginObject()
            writer.field("rule", alert.rule)
            writer.field("instance", alert.instance)
            writer.field("since", timestamp: alert.since)
            writer.field("value", alert.value)
            writer.endObject()
        }
        writer.endArray()
        writer.key("events")
        writer.beginArray()
        for event in events {
            writer.beginObject()
            event.writeMembers(into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    /// The API's changes as discovery observed them, newest first.
    private static func changes(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws {
        let changes = try reader.apiChanges(parameters.range, limit: parameters.limit)
        writer.beginObject()
        writeRange(parameters.range, into: &writer)
        writer.key("changes")
        writer.beginArray()
        for change in changes {
            writer.beginObject()
            writer.field("time", timestamp: change.time)
            writer.field("kind", change.kind.rawValue)
            writer.field("method", change.method)
            writer.field("route", change.route)
            writer.field("location", change.location)
            writer.field("detail", change.detail)
            writer.field("example_call", change.example)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    private static func pipeline(_ reader: StoreReader, _ context: Context, _ writer: inout JSONWriter) throws {
        var pipeline = JSONWriter(capacity: 512)
        MetricsJSON.writePipeline(context.statistics, into: &pipeline)
        let file = try reader.fileFigures()
        writer.beginObject()
        // The counters' members first, as the pipeline's own object has them.
        writer.raw(pipeline.bytes.dropFirst().dropLast())
        writer.key("store")
        writer.beginObject()
        writer.field("path", reader.path)
        writer.field("bytes", file.bytes)
        if let options = context.options {
            writer.field("max_bytes", options.maxBytes)
            writer.field("retention_days", options.retentionDays)
        }
        writer.field("calls", file.calls)
        writer.key("oldest_call")
        if let oldest = file.oldestCall { writer.timestamp(nanosecondsSinceEpoch: oldest) } else { writer.null() }
        writer.field("schema_version", file.schemaVersion)
        if let status = context.status {
            writer.field("written_calls", status.writtenCalls)
            writer.field("waiting_calls", status.waitingCalls)
            writer.field("commits", status.commits)
            writer.field("dropped", status.droppedCalls)
            writer.field("retired_calls", status.retiredCalls)
            writer.field("pending_windows", status.pendingWindows)
            writer.field("cache_bytes", status.cacheBytes)
            writer.field("cache_max_bytes", StoreSchema.writerCacheBytes)
            writer.key("last_error")
            if let error = status.lastError { writer.string(error) } else { writer.null() }
        }
        writer.endObject()
        writer.key("instances")
        writer.beginArray()
        for row in try reader.latestPipeline() {
            writer.beginObject()
            writer.field("instance", row.instance)
            writer.field("time", timestamp: row.time)
            writer.key("pipeline")
            // The file may come from elsewhere: only a JSON object goes in as it is.
            let statistics = Array(row.statistics.utf8)
            if case .object? = try? JSONParser.parse(statistics) { writer.raw(statistics) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
