#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// ReadMe Metrics' log documents, as ReadMe's SDKs write them: one object
/// per call (`_id`, `_version`, `group`, `clientIPAddress`, `development`)
/// holding a HAR 1.2 log of one entry.
enum ReadMeEncoding {
    /// The HAR creator's comment, `ARCH-OSRELEASE/swift`, as ReadMe's SDKs
    /// name their platform (`x64-linux6.1.0/…`).
    static let creatorComment: String = {
        var name = utsname()
        guard uname(&name) == 0 else { return "swift" }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(text(name.machine))-\(text(name.sysname).lowercased())\(text(name.release))/swift"
    }()

    /// What ReadMe's Python SDK writes for a body that is not UTF-8, in
    /// the place of its text.
    static let notUTF8Marker = "[NOT VALID UTF-8]"

    /// Whether ReadMe's SDKs log the call: one with a consumer (their
    /// grouping function must name one) that is not `OPTIONS` (every SDK
    /// passes preflights by).
    static func logs(_ record: ExchangeRecord) -> Bool {
        record.consumer != nil && record.request.method != "OPTIONS"
    }

    /// One call, when ReadMe's SDKs log it (``logs(_:)``); `false`, with
    /// nothing written, otherwise.
    static func writeLog(_ record: ExchangeRecord, development: Bool, into writer: inout JSONWriter) -> Bool {
        guard logs(record), let consumer = record.consumer else { return false }
        writer.beginObject()
        writer.key("_id")
        // The same call always gets the same `_id`: a retried batch does not
        // log it twice.
        writer.string(record.id.uuidString)
        writer.key("_version")
        writer.int(3)
        writer.key("group")
        writer.beginObject()
        writer.key("id")
        // "API Key used to make the request", masked; without one, the id
        // the app named, masked the same way (as the SDKs mask their
        // grouping function's `id`).
        writer.string(consumer.apiKeyMask ?? ReadMeMask.mask(consumer.id))
        writer.field("label", consumer.name)
        writer.field("email", consumer.email)
        writer.endObject()
        // Always present, empty when unknown, as the Node SDK sends it.
        writer.field("clientIPAddress", record.request.clientAddress ?? "")
        writer.field("development", development)
        writer.key("request")
        writer.beginObject()
        writer.key("log")
        writer.beginObject()
        writer.field("version", "1.2")
        writer.key("creator")
        writer.beginObject()
        writer.field("name", "apimetrics-swift")
        writer.field("version", APIMetricsService.libraryVersion)
        writer.field("comment", creatorComment)
        writer.endObject()
        writer.key("entries")
        writer.beginArray()
        writeEntry(record, into: &writer)
        writer.endArray()
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return true
    }

    /// The HAR 1.2 entry of one call.
    static func writeEntry(_ record: ExchangeRecord, into writer: inout JSONWriter) {
        let request = record.request
        let url = MoesifEncoding.uri(of: record)
        let milliseconds = Double(record.durationNanoseconds) / 1_000_000
        writer.beginObject()
        writer.key("pageref")
        if let route = request.route, let base = url.range(of: "://").map({ url[$0.upperBound...] }),
            let slash = base.firstIndex(of: "/")
        {
            // The route in place of the path, as the SDKs' `routePath` does:
            // calls to one endpoint group together.
            writer.string(String(url[..<slash]) + route)
        } else {
            writer.string(url)
        }
        writer.field("startedDateTime", Timestamp.rfc3339(nanosecondsSinceEpoch: record.startTimeNanoseconds))
        writer.field("time", milliseconds)
        writer.key("request")
        writer.beginObject()
        writer.field("method", request.method)
        writer.field("url", url)
        writer.field("httpVersion", "HTTP/\(request.protocolVersion ?? "1.1")")
        writer.key("cookies")
        writer.beginArray()
        writer.endArray()
        writer.key("headers")
        writeHeaders(request.headers, maskingAuthorization: true, into: &writer)
        writer.key("queryString")
        writer.beginArray()
        if let query = URLTarget(request.target).rawQuery {
            for item in query.split(separator: "&") where !item.isEmpty {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                writer.beginObject()
                writer.field("name", URLTarget.decode(parts[0]))
                writer.field("value", parts.count > 1 ? URLTarget.decode(parts[1]) : "")
                writer.endObject()
            }
        }
        writer.endArray()
        if !record.requestBody.bytes.isEmpty {
            writer.key("postData")
            writer.beginObject()
            writer.field("mimeType", mimeType(request.headers))
            writer.field("text", bodyText(record.requestBody))
            writer.endObject()
        }
        writer.key("headersSize")
        writer.int(-1)
        writer.field("bodySize", record.requestBody.size)
        writer.endObject()

        writer.key("response")
        writer.beginObject()
        let response = record.response
        // A call the handler left without a response is what frameworks
        // answer such a failure with, and what ReadMe's SDKs then log: 500.
        let status = response?.status ?? 500
        writer.field("status", status)
        writer.field("statusText", HTTPReasonPhrase.text(for: status))
        writer.field("httpVersion", "HTTP/\(request.protocolVersion ?? "1.1")")
        writer.key("cookies")
        writer.beginArray()
        writer.endArray()
        writer.key("headers")
        writeHeaders(response?.headers ?? HeaderFields(), maskingAuthorization: false, into: &writer)
        writer.key("content")
        writer.beginObject()
        writer.field("size", record.responseBody.size)
        writer.field("mimeType", mimeType(response?.headers ?? HeaderFields()))
        if !record.responseBody.bytes.isEmpty {
            writer.field("text", bodyText(record.responseBody))
        }
        writer.endObject()
        writer.field("redirectURL", response?.headers["location"] ?? "")
        writer.key("headersSize")
        writer.int(-1)
        writer.field("bodySize", record.responseBody.size)
        writer.endObject()
        writer.key("cache")
        writer.beginObject()
        writer.endObject()
        writer.key("timings")
        writer.beginObject()
        writer.key("send")
        writer.int(0)
        writer.field("wait", milliseconds)
        writer.key("receive")
        writer.int(0)
        writer.endObject()
        writer.endObject()
    }

    /// `[{name, value}]`; the `Authorization` value masked as the SDKs mask
    /// it, unless redaction already replaced it.
    static func writeHeaders(_ headers: HeaderFields, maskingAuthorization: Bool, into writer: inout JSONWriter) {
        writer.beginArray()
        for field in headers {
            writer.beginObject()
            writer.field("name", field.name)
            writer.key("value")
            if maskingAuthorization, field.name.lowercased() == "authorization", !field.value.hasPrefix("[REDACTED") {
                writer.string(ReadMeMask.mask(field.value))
            } else {
                writer.string(field.value)
            }
            writer.endObject()
        }
        writer.endArray()
    }

    static func mimeType(_ headers: HeaderFields) -> String {
        headers["content-type"] ?? "text/plain"
    }

    /// The body as text: itself when it is UTF-8 (a tail the capture limit
    /// cut allowed for), else ``notUTF8Marker``, as ReadMe's SDKs write
    /// it: ReadMe reads `text` as text and takes no `encoding`.
    static func bodyText(_ body: CapturedBody) -> String {
        if let text = EventEncoder.validUTF8Prefix(body.bytes, allowingCutTail: body.isTruncated) {
            return String(decoding: text, as: UTF8.self)
        }
        return notUTF8Marker
    }
}
