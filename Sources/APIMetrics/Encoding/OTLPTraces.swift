/// Encodes exchanges as an OTLP `ExportTraceServiceRequest` in the
/// protobuf encoding: one SERVER span per incoming exchange and one CLIENT
/// span per outgoing one, with the stable HTTP semantic-convention
/// attributes (opentelemetry-proto `trace/v1/trace.proto`,
/// `collector/trace/v1/trace_service.proto`).
struct OTLPTraceEncoder {
    /// Whether spans carry the redacted headers
    /// (`http.request.header.<name>`, as string arrays) and the body sizes.
    var includesHeaders = false
    var includesBodySizes = false
    /// Monoscope's span name and attributes, when the spans go to Monoscope.
    var monoscope: MonoscopeSpanProfile?

    /// The `http/protobuf` request body for `records`, sent by `resource`.
    func encode(_ records: [ExchangeRecord], resource: OTLPResource) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 512 * max(1, records.count))
        write(records, resource: resource, into: &writer)
        return writer.bytes
    }

    /// The `http/json` request body.
    func encodeJSON(_ records: [ExchangeRecord], resource: OTLPResource) -> [UInt8] {
        OTLPJSONWriter.document(capacity: 1024 * max(1, records.count)) { writer in
            write(records, resource: resource, into: &writer)
        }
    }

    /// `ExportTraceServiceRequest`: one `ResourceSpans` of one `ScopeSpans`.
    func write<W: OTLPWriter & ~Copyable>(_ records: [ExchangeRecord], resource: OTLPResource, into writer: inout W) {
        resource.writeRequest(.traces, into: &writer) { spans in
            for record in records {
                spans.element(2) { span in writeSpan(record, into: &span) }
            }
        }
    }

    /// The span's id: the low half of the exchange's id, so that an
    /// outgoing call's parent (the incoming exchange's id) names its span.
    static func spanID(_ id: EventID) -> UInt64 { id.low == 0 ? 1 : id.low }

    private func writeSpan<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into span: inout W) {
        let request = record.request
        let (traceHigh, traceLow) = OTLPIDs.traceID(record.traceID, fallback: record.id)
        span.traceID(1, "traceId", traceHigh, traceLow)
        span.spanID(2, "spanId", Self.spanID(record.id))
        if let parent = record.parentID {
            span.spanID(4, "parentSpanId", Self.spanID(parent))
        } else if let remoteParent = record.remoteParentSpanID {
            span.spanID(4, "parentSpanId", remoteParent)
        }
        span.string(5, "name", monoscope == nil ? Self.spanName(request) : MonoscopeSpanProfile.spanName)
        span.enumeration(6, "kind", record.direction == .incoming ? 2 : 3)  // SPAN_KIND_SERVER, SPAN_KIND_CLIENT
        let start = UInt64(max(0, record.startTimeNanoseconds))
        let end = start &+ UInt64(max(0, record.durationNanoseconds))
        span.fixed64(7, "startTimeUnixNano", start)
        span.fixed64(8, "endTimeUnixNano", end)
        span.repeated(9, "attributes") { attributes in
            writeAttributes(record, into: &attributes)
        }
        if !record.errors.isEmpty {
            span.repeated(11, "events") { events in
                for error in record.errors {
                    events.element(11) { event in  // Span.Event
                        event.fixed64(1, "timeUnixNano", end)
                        event.string(2, "name", "exception")
                        event.repeated(3, "attributes") { attributes in
                            OTLPException.writeAttributes(error, into: &attributes, field: 3)
                        }
                    }
                }
            }
        }
        if Self.isError(record) {
            span.message(15, "status") { status in status.enumeration(3, "code", 2) }  // STATUS_CODE_ERROR
        }
    }

    /// `{method} {route}`, or the method alone when no route is known.
    static func spanName(_ request: RequestHead) -> String {
        guard let route = request.route else { return request.method }
        return request.method + " " + route
    }

    private func writeAttributes<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into span: inout W) {
        Self.writeHTTPAttributes(record, into: &span, field: 9)
        if includesBodySizes {
            OTLPAttributes.int("http.request.body.size", Int64(record.requestBody.size), into: &span)
            OTLPAttributes.int("http.response.body.size", Int64(record.responseBody.size), into: &span)
        }
        if let monoscope { monoscope.writeAttributes(record, into: &span, field: 9) }
        if includesHeaders || monoscope != nil {
            OTLPAttributes.headers(record.request.headers, prefix: "http.request.header.", into: &span)
            if let response = record.response {
                OTLPAttributes.headers(response.headers, prefix: "http.response.header.", into: &span)
            }
        }
    }

    /// The stable HTTP semantic-convention attributes of a call, and its
    /// consumer's: what spans and log records both carry.
    static func writeHTTPAttributes<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into list: inout W, field: Int) {
        let request = record.request
        func string(_ key: String, _ value: String) { OTLPAttributes.string(key, value, into: &list, field: field) }
        func int(_ key: String, _ value: Int) { OTLPAttributes.int(key, Int64(value), into: &list, field: field) }
        let method = request.method
        if knownMethods.contains(method) {
            string("http.request.method", method)
        } else {
            string("http.request.method", "_OTHER")
            string("http.request.method_original", method)
        }
        let target = URLTarget(request.target)
        let absolute = schemeAndHost(of: request.target)
        if record.direction == .outgoing { string("url.full", request.target) }
        string("url.path", target.path)
        if let query = target.rawQuery, !query.isEmpty { string("url.query", query) }
        string("url.scheme", absolute?.scheme ?? "http")
        if let route = request.route { string("http.route", route) }
        if let status = record.response?.status { int("http.response.status_code", status) }
        if let host = absolute?.host ?? request.headers["host"] {
            let (address, port) = split(host: host)
            string("server.address", address)
            if let port { int("server.port", port) }
        }
        if let client = request.clientAddress { string("client.address", client) }
        if let peer = request.peerAddress { string("network.peer.address", peer) }
        if let agent = request.headers["user-agent"] { string("user_agent.original", agent) }
        if let version = request.protocolVersion { string("network.protocol.version", version) }
        if let consumer = record.consumer {
            string("enduser.id", consumer.id)
            if let name = consumer.name { string("apimetrics.consumer.name", name) }
            if let group = consumer.group { string("apimetrics.consumer.group", group) }
        }
        if let errorType = errorType(record) { string("error.type", errorType) }
    }

    /// The methods the semantic conventions know; any other is `_OTHER`.
    static let knownMethods: Set<String> = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "QUERY",
    ]

    /// A server span fails on 5xx or no response; a client span on 4xx too.
    static func isError(_ record: ExchangeRecord) -> Bool {
        guard let status = record.response?.status else { return true }
        return status >= (record.direction == .incoming ? 500 : 400)
    }

    /// `error.type`: the status of a failed call, or the first error's
    /// type when there was no response.
    static func errorType(_ record: ExchangeRecord) -> String? {
        guard isError(record) else { return nil }
        if let status = record.response?.status { return String(status) }
        return record.errors.first?.type ?? "_OTHER"
    }

    /// The scheme and authority of an absolute target (`http://host:port/…`,
    /// as outgoing calls are recorded), or `nil` for an origin-form one.
    /// Bytes throughout: this runs for every span.
    static func schemeAndHost(of target: String) -> (scheme: String, host: String)? {
        guard let first = target.utf8.first, first != UInt8(ascii: "/") else { return nil }
        var target = target
        return target.withUTF8 { bytes -> (scheme: String, host: String)? in
            var colon = 0
            while colon < bytes.count, bytes[colon] != UInt8(ascii: ":") {
                let byte = ASCII.lowercased(bytes[colon])
                let isSchemeByte =
                    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                guard isSchemeByte else { return nil }
                colon += 1
            }
            guard colon > 0, colon + 2 < bytes.count, bytes[colon + 1] == UInt8(ascii: "/"),
                bytes[colon + 2] == UInt8(ascii: "/")
            else { return nil }
            var end = colon + 3
            var hostStart = end
            while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"),
                bytes[end] != UInt8(ascii: "#")
            {
                if bytes[end] == UInt8(ascii: "@") { hostStart = end + 1 }
                end += 1
            }
            let scheme = String(decoding: bytes[..<colon].lazy.map(ASCII.lowercased), as: UTF8.self)
            return (scheme, String(decoding: UnsafeBufferPointer(rebasing: bytes[hostStart..<end]), as: UTF8.self))
        }
    }

    /// `host:port` (or `[v6]:port`) as address and port.
    static func split(host: String) -> (String, Int?) {
        let bytes = Array(host.utf8)
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        func port(from start: Int) -> Int? {
            guard start < bytes.count, bytes.count - start <= 5 else { return nil }
            var value = 0
            for byte in bytes[start...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value <= 65_535 ? value : nil
        }
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            let hasPort = close + 1 < bytes.count && bytes[close + 1] == UInt8(ascii: ":")
            return (text(1..<close), hasPort ? port(from: close + 2) : nil)
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.lastIndex(of: UInt8(ascii: ":")) == colon else {
            return (host, nil)
        }
        return (text(0..<colon), port(from: colon + 1))
    }
}
