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

    /// The request body for `records`, sent by `identity`.
    func encode(_ records: [ExchangeRecord], identity: ServiceIdentity) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 512 * max(1, records.count))
        writer.message(1) { resourceSpans in           // ResourceSpans
            resourceSpans.message(1) { resource in      // Resource
                OTLPResource.writeAttributes(of: identity, into: &resource)
            }
            resourceSpans.message(2) { scopeSpans in    // ScopeSpans
                scopeSpans.message(1) { scope in        // InstrumentationScope
                    scope.string(1, "APIMetrics")
                    scope.string(2, APIMetricsService.libraryVersion)
                }
                for record in records {
                    scopeSpans.message(2) { span in writeSpan(record, into: &span) }
                }
            }
        }
        return writer.bytes
    }

    /// The span's id: the low half of the exchange's id, so that an
    /// outgoing call's parent (the incoming exchange's id) names its span.
    static func spanID(_ id: EventID) -> UInt64 { id.low == 0 ? 1 : id.low }

    private func writeSpan(_ record: ExchangeRecord, into span: inout ProtobufWriter) {
        let request = record.request
        let (traceHigh, traceLow) = OTLPIDs.traceID(record.traceID, fallback: record.id)
        span.bigEndianBytes(1, traceHigh, traceLow)
        span.bigEndianBytes(2, Self.spanID(record.id))
        if let parent = record.parentID {
            span.bigEndianBytes(4, Self.spanID(parent))
        } else if let remoteParent = record.remoteParentSpanID {
            span.bigEndianBytes(4, remoteParent)
        }
        if let route = request.route {
            span.string(5, request.method, UInt8(ascii: " "), route)
        } else {
            span.string(5, request.method)
        }
        span.uint64(6, record.direction == .incoming ? 2 : 3)  // SPAN_KIND_SERVER, SPAN_KIND_CLIENT
        let start = UInt64(max(0, record.startTimeNanoseconds))
        let end = start &+ UInt64(max(0, record.durationNanoseconds))
        span.fixed64(7, start)
        span.fixed64(8, end)

        let method = request.method
        if Self.knownMethods.contains(method) {
            OTLPAttributes.string("http.request.method", method, into: &span)
        } else {
            OTLPAttributes.string("http.request.method", "_OTHER", into: &span)
            OTLPAttributes.string("http.request.method_original", method, into: &span)
        }
        let target = URLTarget(request.target)
        let absolute = Self.schemeAndHost(of: request.target)
        if record.direction == .outgoing {
            OTLPAttributes.string("url.full", request.target, into: &span)
        }
        OTLPAttributes.string("url.path", target.path, into: &span)
        if let query = target.rawQuery, !query.isEmpty { OTLPAttributes.string("url.query", query, into: &span) }
        OTLPAttributes.string("url.scheme", absolute?.scheme ?? "http", into: &span)
        if let route = request.route { OTLPAttributes.string("http.route", route, into: &span) }
        if let status = record.response?.status { OTLPAttributes.int("http.response.status_code", Int64(status), into: &span) }
        if let host = absolute?.host ?? request.headers["host"] {
            let (address, port) = Self.split(host: host)
            OTLPAttributes.string("server.address", address, into: &span)
            if let port { OTLPAttributes.int("server.port", Int64(port), into: &span) }
        }
        if let client = request.clientAddress { OTLPAttributes.string("client.address", client, into: &span) }
        if let agent = request.headers["user-agent"] { OTLPAttributes.string("user_agent.original", agent, into: &span) }
        if let consumer = record.consumer {
            OTLPAttributes.string("enduser.id", consumer.id, into: &span)
            if let name = consumer.name { OTLPAttributes.string("apimetrics.consumer.name", name, into: &span) }
            if let group = consumer.group { OTLPAttributes.string("apimetrics.consumer.group", group, into: &span) }
        }
        if let errorType = Self.errorType(record) { OTLPAttributes.string("error.type", errorType, into: &span) }
        if includesBodySizes {
            OTLPAttributes.int("http.request.body.size", Int64(record.requestBody.size), into: &span)
            OTLPAttributes.int("http.response.body.size", Int64(record.responseBody.size), into: &span)
        }
        if includesHeaders {
            OTLPAttributes.headers(request.headers, prefix: "http.request.header.", into: &span)
            if let response = record.response {
                OTLPAttributes.headers(response.headers, prefix: "http.response.header.", into: &span)
            }
        }
        for error in record.errors {
            span.message(11) { event in                 // Span.Event
                event.fixed64(1, end)
                event.string(2, "exception")
                OTLPAttributes.string("exception.type", error.type, into: &event, field: 3)
                OTLPAttributes.string("exception.message", error.message, into: &event, field: 3)
            }
        }
        if Self.isError(record) {
            span.message(15) { status in status.uint64(3, 2) }  // STATUS_CODE_ERROR
        }
    }

    /// The methods the semantic conventions know; any other is `_OTHER`.
    static let knownMethods: Set<String> = ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "QUERY"]

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
                let isSchemeByte = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                guard isSchemeByte else { return nil }
                colon += 1
            }
            guard colon > 0, colon + 2 < bytes.count, bytes[colon + 1] == UInt8(ascii: "/"),
                  bytes[colon + 2] == UInt8(ascii: "/") else { return nil }
            var end = colon + 3
            var hostStart = end
            while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") {
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

/// The resource every OTLP body names: who is sending.
enum OTLPResource {
    static func writeAttributes(of identity: ServiceIdentity, into resource: inout ProtobufWriter) {
        OTLPAttributes.string("service.name", identity.service, into: &resource, field: 1)
        if let version = identity.version { OTLPAttributes.string("service.version", version, into: &resource, field: 1) }
        OTLPAttributes.string("deployment.environment.name", identity.environment, into: &resource, field: 1)
        if let instance = identity.instanceID { OTLPAttributes.string("service.instance.id", instance, into: &resource, field: 1) }
        OTLPAttributes.string("telemetry.sdk.name", "apimetrics", into: &resource, field: 1)
        OTLPAttributes.string("telemetry.sdk.language", "swift", into: &resource, field: 1)
        OTLPAttributes.string("telemetry.sdk.version", APIMetricsService.libraryVersion, into: &resource, field: 1)
    }
}

/// `KeyValue` attributes (`common/v1/common.proto`), written into the
/// message's attribute field (9 in a span).
enum OTLPAttributes {
    static func string(_ key: String, _ value: String, into writer: inout ProtobufWriter, field: Int = 9) {
        writer.message(field) { keyValue in
            keyValue.string(1, key)
            keyValue.message(2) { any in any.presentString(1, value) }
        }
    }

    static func int(_ key: String, _ value: Int64, into writer: inout ProtobufWriter, field: Int = 9) {
        writer.message(field) { keyValue in
            keyValue.string(1, key)
            keyValue.message(2) { any in
                any.key(3, .varint)
                any.varint(UInt64(bitPattern: value))
            }
        }
    }

    /// One attribute per header name, its values as a string array; names
    /// lowercased, as the conventions ask.
    static func headers(_ headers: HeaderFields, prefix: String, into writer: inout ProtobufWriter) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for field in headers.fields {
            let name = field.name.lowercased()
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(field.value)
        }
        for name in order {
            writer.message(9) { keyValue in
                keyValue.string(1, prefix + name)
                keyValue.message(2) { any in
                    any.message(5) { array in           // ArrayValue
                        for value in values[name] ?? [] {
                            array.message(1) { item in item.presentString(1, value) }
                        }
                    }
                }
            }
        }
    }
}

/// Trace ids as OTLP's protobuf encoding carries them: 16 raw bytes,
/// big-endian.
enum OTLPIDs {
    /// The two halves of a 32-hex-digit trace id, or of `fallback` when
    /// the id is missing, not hex or all zeros.
    static func traceID(_ hex: String?, fallback: EventID) -> (UInt64, UInt64) {
        guard let hex, hex.utf8.count == 32 else { return (fallback.high, fallback.low) }
        var high: UInt64 = 0, low: UInt64 = 0
        for (index, character) in hex.utf8.enumerated() {
            guard let nibble = URLTarget.hexValue(character) else { return (fallback.high, fallback.low) }
            if index < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
        }
        return high == 0 && low == 0 ? (fallback.high, fallback.low) : (high, low)
    }

}
