import Foundation

/// Moesif's ingest documents, as its server SDKs write them: a JSON array
/// of events for `/v1/events/batch`, and of users, companies and
/// subscriptions for their `/batch` endpoints.
enum MoesifEncoding {
    /// Moesif's hard limit on one event ("Maximum size of single event: 1MB",
    /// its collector API's limits). An event that would pass it goes with
    /// its bodies left out.
    static let maxEventBytes = 1_000_000

    /// Moesif cuts a body to 450 KB when an event is too large; a
    /// compressed body is inflated to at most this many bytes (or the
    /// capture limit, when smaller), and one that would inflate past it is
    /// left out.
    static let maxBodyBytes = 450_000

    /// How many query parameters Moesif keeps ("Maximum Number of Request
    /// Query Parameters": 500 keys); the URI sent holds at most these.
    static let maxQueryParameters = 500

    /// How far back Moesif takes an event ("events older than 30 days are
    /// rejected by the collector API").
    static let maxEventAgeNanoseconds: Int64 = 30 * 24 * 3600 * 1_000_000_000

    /// What goes in the `body` fields.
    enum Bodies {
        /// The bodies as captured and redacted.
        case sent
        /// A note in place of each body: the event passed ``maxEventBytes``.
        case leftOut
    }

    /// One call as a Moesif event. `weight` is the number of calls it stands
    /// for (local sampling times Moesif's own); a compressed body is
    /// inflated to at most `maxInflatedBytes`.
    static func writeEvent(
        _ record: ExchangeRecord, weight: Int, apiVersion: String?, bodies: Bodies = .sent, maxInflatedBytes: Int,
        into writer: inout JSONWriter
    ) {
        let request = record.request
        writer.beginObject()
        writer.key("request")
        writer.beginObject()
        writer.field("time", time(record.startTimeNanoseconds))
        writer.field("uri", uri(of: record))
        writer.field("verb", request.method)
        writer.field("api_version", apiVersion)
        writer.field("ip_address", request.clientAddress.flatMap(ipAddress))
        writer.key("headers")
        writeHeaders(request.headers, into: &writer)
        writeBody(record.requestBody, headers: request.headers, bodies: bodies, maxInflatedBytes: maxInflatedBytes, into: &writer)
        writer.endObject()

        if let response = record.response {
            writer.key("response")
            writer.beginObject()
            writer.field("time", time(record.startTimeNanoseconds + record.durationNanoseconds))
            writer.field("status", response.status)
            writer.key("headers")
            writeHeaders(response.headers, into: &writer)
            writeBody(
                record.responseBody, headers: response.headers, bodies: bodies, maxInflatedBytes: maxInflatedBytes, into: &writer)
            writer.endObject()
        }
        // A UUID, as Moesif documents and its SDKs send, made from the event
        // id so that a batch retried or read back from the spool keeps it
        // and Moesif drops the copies.
        writer.field("transaction_id", record.id.uuidString)
        if let consumer = record.consumer, !consumer.id.isEmpty {
            writer.field("user_id", consumer.id)
            if let company = consumer.company, !company.isEmpty {
                writer.field("company_id", company)
            }
        }
        writer.field("session_token", record.sessionToken)
        if let route = request.route {
            // Moesif's tags are comma-separated labels; the route is the one
            // every call has.
            writer.field("tags", "route:\(route)")
        }
        if !record.metadata.isEmpty || !record.errors.isEmpty {
            writer.key("metadata")
            writer.beginObject()
            for (key, value) in record.metadata.sorted(by: { $0.key < $1.key }) {
                writer.key(escaping: key)
                writer.string(value)
            }
            if !record.errors.isEmpty {
                writer.key("errors")
                writer.beginArray()
                for error in record.errors {
                    writer.beginObject()
                    writer.field("type", error.type)
                    writer.field("message", error.message)
                    writer.endObject()
                }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.field("direction", record.direction == .incoming ? "Incoming" : "Outgoing")
        writer.field("weight", weight)
        writer.endObject()
    }

    /// Moesif's time format: UTC, milliseconds, no zone designator
    /// (`2026-11-30T10:00:00.123`).
    static func time(_ nanoseconds: Int64) -> String {
        var text = Timestamp.rfc3339(nanosecondsSinceEpoch: nanoseconds)
        if text.hasSuffix("Z") { text.removeLast() }
        return text
    }

    /// The full URL: an outgoing call's target is already absolute; an
    /// incoming one's is joined to its `Host` (and `X-Forwarded-Proto`,
    /// when a proxy named the scheme).
    static func uri(of record: ExchangeRecord) -> String {
        let target = cappingQuery(record.request.target)
        if OTLPTraceEncoder.schemeAndHost(of: target) != nil { return target }
        let headers = record.request.headers
        let host = headers["host"] ?? "localhost"
        let forwarded = headers["x-forwarded-proto"]?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let scheme = forwarded == "https" ? "https" : "http"
        return "\(scheme)://\(host)\(target.hasPrefix("/") ? "" : "/")\(target)"
    }

    /// The target with at most ``maxQueryParameters`` query parameters (the
    /// first ones), so that what Moesif keeps is what was sent.
    static func cappingQuery(_ target: String) -> String {
        let utf8 = target.utf8
        guard var index = utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        var separators = 0
        while let next = utf8[utf8.index(after: index)...].firstIndex(where: {
            $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "#")
        }) {
            if utf8[next] == UInt8(ascii: "#") { return target }
            separators += 1
            // Before the 500th `&` stand 500 parameters.
            if separators == maxQueryParameters { return String(target[..<next]) }
            index = next
        }
        return target
    }

    /// Header fields as one object; a name sent more than once keeps its
    /// values joined by `, `, as HTTP allows.
    static func writeHeaders(_ headers: HeaderFields, into writer: inout JSONWriter) {
        var order: [String] = []
        var values: [String: String] = [:]
        for field in headers {
            if let existing = values[field.name] {
                values[field.name] = existing + ", " + field.value
            } else {
                order.append(field.name)
                values[field.name] = field.value
            }
        }
        writer.beginObject()
        for name in order {
            writer.key(escaping: name)
            writer.string(values[name] ?? "")
        }
        writer.endObject()
    }

    static func writeMetadata(_ metadata: [String: String], into writer: inout JSONWriter) {
        guard !metadata.isEmpty else { return }
        writer.key("metadata")
        writer.beginObject()
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            writer.key(escaping: key)
            writer.string(value)
        }
        writer.endObject()
    }
}
