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
        writer.repeated(1, "resourceSpans") { list in
            list.element(1) { resourceSpans in
                resource.write(into: &resourceSpans)
                resourceSpans.repeated(2, "scopeSpans") { list in
                    list.element(2) { scopeSpans in
                        OTLPResource.writeScope(into: &scopeSpans)
                        scopeSpans.repeated(2, "spans") { spans in
                            for record in records {
                                spans.element(2) { span in writeSpan(record, into: &span) }
                            }
                        }
                    }
                }
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
                    events.element(11) { event in           // Span.Event
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

/// The resource every OTLP body names, who is sending: the service's
/// identity and any attributes the deployment adds
/// (`OTEL_RESOURCE_ATTRIBUTES`).
struct OTLPResource: Sendable {
    var identity: ServiceIdentity
    /// More attributes, after the identity's; a key the identity already
    /// sets is left out.
    var attributes: [(key: String, value: String)] = []

    /// The identity's attributes: `service.name`, `service.version`,
    /// `deployment.environment.name`, `service.instance.id` and the
    /// `telemetry.sdk.*` three.
    var identityAttributes: [(key: String, value: String)] {
        var list: [(key: String, value: String)] = [("service.name", identity.service)]
        if let version = identity.version { list.append(("service.version", version)) }
        list.append(("deployment.environment.name", identity.environment))
        if let instance = identity.instanceID { list.append(("service.instance.id", instance)) }
        list.append(("telemetry.sdk.name", "apimetrics"))
        list.append(("telemetry.sdk.language", "swift"))
        list.append(("telemetry.sdk.version", APIMetricsService.libraryVersion))
        return list
    }

    /// The `resource` field (1) of a `Resource{Spans,Logs,Metrics}`.
    func write<W: OTLPWriter & ~Copyable>(into writer: inout W) {
        writer.message(1, "resource") { resource in
            resource.repeated(1, "attributes") { list in
                let own = identityAttributes
                for (key, value) in own { OTLPAttributes.string(key, value, into: &list, field: 1) }
                for (key, value) in attributes where !own.contains(where: { $0.key == key }) {
                    OTLPAttributes.string(key, value, into: &list, field: 1)
                }
            }
        }
    }

    /// The `scope` field (1) of a `Scope{Spans,Logs,Metrics}`: this library.
    static func writeScope<W: OTLPWriter & ~Copyable>(into writer: inout W) {
        writer.message(1, "scope") { scope in
            scope.string(1, "name", "APIMetrics")
            scope.string(2, "version", APIMetricsService.libraryVersion)
        }
    }
}

/// `KeyValue` attributes (`common/v1/common.proto`), written as elements
/// of the message's attribute field (9 in a span), inside its
/// ``OTLPWriter/repeated(_:_:_:)``.
enum OTLPAttributes {
    static func string<W: OTLPWriter & ~Copyable>(_ key: String, _ value: String, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.presentString(1, "stringValue", value) }
        }
    }

    static func int<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Int64, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.int64(3, "intValue", value, isPresent: true) }
        }
    }

    static func strings<W: OTLPWriter & ~Copyable>(_ key: String, _ values: [String], into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in
                any.message(5, "arrayValue") { array in
                    array.repeated(1, "values") { list in
                        for value in values { list.element(1) { item in item.presentString(1, "stringValue", value) } }
                    }
                }
            }
        }
    }

    /// A `true` attribute (a false one is left out: proto3 would not tell it from none).
    static func bool<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Bool, into writer: inout W, field: Int = 9) {
        guard value else { return }
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.bool(2, "boolValue", true) }
        }
    }

    static func double<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Double, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.double(4, "doubleValue", value, isPresent: true) }
        }
    }

    /// One attribute per header name, its values as a string array; names
    /// lowercased, as the conventions ask. Read in place: the values of a
    /// name are gathered by comparing the few fields there are (any case),
    /// and bytes that are not UTF-8 are replaced, not sent as they are.
    static func headers<W: OTLPWriter & ~Copyable>(
        _ headers: HeaderFields, prefix: StaticString, into writer: inout W, field: Int = 9
    ) {
        let count = headers.count
        guard count > 0 else { return }
        var taken = [Bool](repeating: false, count: count)
        var key = [UInt8]()
        key.reserveCapacity(prefix.utf8CodeUnitCount + 32)
        headers.withRawStorage { storage, spans in
            guard let base = storage.baseAddress else { return }
            func name(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(start: base + Int(spans[index].start), count: Int(spans[index].nameLength))
            }
            func value(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(start: base + Int(spans[index].start) + Int(spans[index].nameLength), count: Int(spans[index].valueLength))
            }
            for first in 0..<count where !taken[first] {
                let firstName = name(first)
                key.removeAll(keepingCapacity: true)
                prefix.withUTF8Buffer { key.append(contentsOf: $0) }
                if EventEncoder.isValidUTF8(firstName) {
                    for byte in firstName { key.append(ASCII.lowercased(byte)) }
                } else {
                    key.append(contentsOf: String(decoding: firstName, as: UTF8.self).utf8.map(ASCII.lowercased))
                }
                writer.element(field) { keyValue in
                    key.withUnsafeBufferPointer { keyValue.presentUTF8(1, "key", $0) }
                    keyValue.message(2, "value") { any in
                        any.message(5, "arrayValue") { array in
                            array.repeated(1, "values") { list in
                                for other in first..<count where !taken[other] {
                                    let otherName = name(other)
                                    guard other == first || (otherName.count == firstName.count
                                        && ASCII.equalIgnoringCase(otherName, firstName)) else { continue }
                                    taken[other] = true
                                    let text = value(other)
                                    list.element(1) { item in
                                        if EventEncoder.isValidUTF8(text) {
                                            item.presentUTF8(1, "stringValue", text)
                                        } else {
                                            item.presentString(1, "stringValue", String(decoding: text, as: UTF8.self))
                                        }
                                    }
                                }
                            }
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
