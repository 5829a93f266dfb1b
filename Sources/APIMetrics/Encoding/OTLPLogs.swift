/// Encodes exchanges as an OTLP `ExportLogsServiceRequest`: the request
/// log, one log record per logged exchange with its redacted headers and
/// bodies, carrying the trace and span ids of its span so that a backend
/// shows the payloads beside the trace (opentelemetry-proto
/// `logs/v1/logs.proto`, `collector/logs/v1/logs_service.proto`).
///
/// Each record's body is the call in one line (`GET /orders/42 200`); its
/// attributes are the span's HTTP attributes plus:
/// - `http.request.header.<name>` / `http.response.header.<name>`: the
///   redacted header values, as string arrays;
/// - `http.request.body.size` / `http.response.body.size`;
/// - `apimetrics.request.body` / `apimetrics.response.body`: the redacted
///   body as kept (a string, or bytes when it is not UTF-8), with
///   `….body.truncated` when it was cut at the capture limit;
/// - `apimetrics.event.id`, `apimetrics.direction`, `apimetrics.duration_ms`,
///   `apimetrics.weight` (when sampled), `apimetrics.session`, and
///   `apimetrics.metadata.<key>` for the values the server attached;
/// - `exception.type` / `exception.message` / `exception.stacktrace` of the
///   first reported error.
struct OTLPLogEncoder {
    /// Whether the records go to Monoscope, which nests attribute keys at
    /// their dots when it stores them: a key that also begins another
    /// (`….body` and `….body.truncated`) would lose its value there, so the
    /// truncation flag is `….body_truncated` instead.
    var monoscope = false

    /// The `http/protobuf` request body: a log record per call, then one per
    /// change of the API (`changes`).
    func encode(
        _ records: [ExchangeRecord], changes: [APIChange] = [], alerts: [AlertEvent] = [], resource: OTLPResource
    ) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 1024 * max(1, records.count + changes.count + alerts.count))
        write(records, changes: changes, alerts: alerts, resource: resource, into: &writer)
        return writer.bytes
    }

    /// The `http/json` request body.
    func encodeJSON(
        _ records: [ExchangeRecord], changes: [APIChange] = [], alerts: [AlertEvent] = [], resource: OTLPResource
    ) -> [UInt8] {
        OTLPJSONWriter.document(capacity: 2048 * max(1, records.count + changes.count + alerts.count)) { writer in
            write(records, changes: changes, alerts: alerts, resource: resource, into: &writer)
        }
    }

    func write<W: OTLPWriter & ~Copyable>(
        _ records: [ExchangeRecord], changes: [APIChange] = [], alerts: [AlertEvent] = [], resource: OTLPResource,
        into writer: inout W
    ) {
        resource.writeRequest(.logs, into: &writer) { logs in
            for record in records {
                logs.element(2) { log in writeLog(record, into: &log) }
            }
            for change in changes {
                logs.element(2) { log in writeChange(change, into: &log) }
            }
            for alert in alerts {
                logs.element(2) { log in writeAlert(alert, into: &log) }
            }
        }
    }

    /// The severity of a call: ERROR for a 5xx or no response, WARN for a
    /// 4xx, INFO otherwise (`SeverityNumber` 17, 13, 9).
    static func severity(_ record: ExchangeRecord) -> (number: Int, text: String) {
        guard let status = record.response?.status, status < 500 else { return (17, "ERROR") }
        return status >= 400 ? (13, "WARN") : (9, "INFO")
    }

    private func writeLog<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into log: inout W) {
        let start = UInt64(max(0, record.startTimeNanoseconds))
        let end = start &+ UInt64(max(0, record.durationNanoseconds))
        log.fixed64(1, "timeUnixNano", start)
        let severity = Self.severity(record)
        log.enumeration(2, "severityNumber", severity.number)
        log.string(3, "severityText", severity.text)
        log.message(5, "body") { body in body.presentString(1, "stringValue", Self.summary(record)) }
        log.repeated(6, "attributes") { attributes in writeAttributes(record, into: &attributes) }
        let (traceHigh, traceLow) = OTLPIDs.traceID(record.traceID, fallback: record.id)
        log.traceID(9, "traceId", traceHigh, traceLow)
        log.spanID(10, "spanId", OTLPTraceEncoder.spanID(record.id))
        log.fixed64(11, "observedTimeUnixNano", end)
        log.string(12, "eventName", "apimetrics.exchange")
    }

    /// A change of the API as discovery saw it: WARN when something callers
    /// relied on changed (a type, a field gone or now optional), INFO for
    /// what is new. Event name `apimetrics.api_change`.
    private func writeChange<W: OTLPWriter & ~Copyable>(_ change: APIChange, into log: inout W) {
        let time = UInt64(max(0, change.time))
        log.fixed64(1, "timeUnixNano", time)
        let isBreaking = change.kind == .typeChanged || change.kind == .fieldGone || change.kind == .fieldOptional
        log.enumeration(2, "severityNumber", isBreaking ? 13 : 9)
        log.string(3, "severityText", isBreaking ? "WARN" : "INFO")
        let summary = "API change: \(change.kind.rawValue) \(change.location) (\(change.method) \(change.route))"
        log.message(5, "body") { body in body.presentString(1, "stringValue", summary) }
        log.repeated(6, "attributes") { list in
            OTLPAttributes.string("apimetrics.change.kind", change.kind.rawValue, into: &list, field: 6)
            OTLPAttributes.string("apimetrics.change.location", change.location, into: &list, field: 6)
            if !change.detail.isEmpty { OTLPAttributes.string("apimetrics.change.detail", change.detail, into: &list, field: 6) }
            OTLPAttributes.string("http.request.method", change.method, into: &list, field: 6)
            OTLPAttributes.string("http.route", change.route, into: &list, field: 6)
            OTLPAttributes.string("apimetrics.event.id", change.example.description, into: &list, field: 6)
        }
        log.fixed64(11, "observedTimeUnixNano", time)
        log.string(12, "eventName", "apimetrics.api_change")
    }

    /// An alert's transition: ERROR when it fires, INFO when it resolves.
    /// Event name `apimetrics.alert`.
    private func writeAlert<W: OTLPWriter & ~Copyable>(_ alert: AlertEvent, into log: inout W) {
        let time = UInt64(max(0, alert.timeNanoseconds))
        log.fixed64(1, "timeUnixNano", time)
        log.enumeration(2, "severityNumber", alert.state == .firing ? 17 : 9)
        log.string(3, "severityText", alert.state == .firing ? "ERROR" : "INFO")
        let instance = alert.instance.isEmpty ? "" : " (\(alert.instance))"
        log.message(5, "body") { body in
            body.presentString(1, "stringValue", "alert \(alert.state.rawValue): \(alert.rule)\(instance): \(alert.summary)")
        }
        log.repeated(6, "attributes") { list in
            OTLPAttributes.string("apimetrics.alert.rule", alert.rule, into: &list, field: 6)
            OTLPAttributes.string("apimetrics.alert.state", alert.state.rawValue, into: &list, field: 6)
            OTLPAttributes.double("apimetrics.alert.value", alert.value, into: &list, field: 6)
            if let threshold = alert.threshold {
                OTLPAttributes.double("apimetrics.alert.threshold", threshold, into: &list, field: 6)
            }
            OTLPAttributes.string("apimetrics.alert.scope", alert.scope, into: &list, field: 6)
            if !alert.instance.isEmpty {
                OTLPAttributes.string("apimetrics.alert.instance", alert.instance, into: &list, field: 6)
            }
            if alert.isRepeat { OTLPAttributes.bool("apimetrics.alert.repeat", true, into: &list, field: 6) }
        }
        log.fixed64(11, "observedTimeUnixNano", time)
        log.string(12, "eventName", "apimetrics.alert")
    }

    /// `GET /orders/42 200`: method, target and status (`-` with no response).
    static func summary(_ record: ExchangeRecord) -> String {
        let status = record.response.map { String($0.status) } ?? "-"
        return record.request.method + " " + record.request.target + " " + status
    }

    private func writeAttributes<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into list: inout W) {
        let field = 6
        OTLPTraceEncoder.writeHTTPAttributes(record, into: &list, field: field)
        OTLPAttributes.string("apimetrics.event.id", record.id.description, into: &list, field: field)
        OTLPAttributes.string(
            "apimetrics.direction", record.direction == .incoming ? "incoming" : "outgoing", into: &list, field: field)
        OTLPAttributes.double("apimetrics.duration_ms", Double(record.durationNanoseconds) / 1e6, into: &list, field: field)
        if record.weight != 1 { OTLPAttributes.double("apimetrics.weight", record.weight, into: &list, field: field) }
        if let session = record.sessionToken { OTLPAttributes.string("apimetrics.session", session, into: &list, field: field) }
        OTLPAttributes.int("http.request.body.size", Int64(record.requestBody.size), into: &list, field: field)
        OTLPAttributes.int("http.response.body.size", Int64(record.responseBody.size), into: &list, field: field)
        OTLPAttributes.headers(record.request.headers, prefix: "http.request.header.", into: &list, field: field)
        if let response = record.response {
            OTLPAttributes.headers(response.headers, prefix: "http.response.header.", into: &list, field: field)
        }
        let truncatedSuffix = monoscope ? "_truncated" : ".truncated"
        Self.body(record.requestBody, key: "apimetrics.request.body", truncatedSuffix: truncatedSuffix, into: &list)
        Self.body(record.responseBody, key: "apimetrics.response.body", truncatedSuffix: truncatedSuffix, into: &list)
        if let error = record.errors.first { OTLPException.writeAttributes(error, into: &list, field: field) }
        for (key, value) in record.metadata.sorted(by: { $0.key < $1.key }) {
            OTLPAttributes.string("apimetrics.metadata." + key, value, into: &list, field: field)
        }
    }

    private static func body<W: OTLPWriter & ~Copyable>(
        _ body: CapturedBody, key: String, truncatedSuffix: String, into list: inout W
    ) {
        guard !body.bytes.isEmpty else { return }
        if let text = EventEncoder.validUTF8Prefix(body.bytes, allowingCutTail: body.isTruncated) {
            list.element(6) { keyValue in
                keyValue.string(1, "key", key)
                keyValue.message(2, "value") { any in text.withUnsafeBufferPointer { any.presentUTF8(1, "stringValue", $0) } }
            }
        } else {
            list.element(6) { keyValue in
                keyValue.string(1, "key", key)
                keyValue.message(2, "value") { any in any.presentBytes(7, "bytesValue", body.bytes) }
            }
        }
        if body.isTruncated {
            list.element(6) { keyValue in
                keyValue.string(1, "key", key + truncatedSuffix)
                keyValue.message(2, "value") { any in any.bool(2, "boolValue", true) }
            }
        }
    }
}
