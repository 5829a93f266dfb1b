/// What Monoscope's (APItoolkit's) SDKs put on each span beside the HTTP
/// conventions, read from monoscope-js (`packages/common/src/apitoolkit.ts`,
/// the newest) and monoscope-go (`sdk.go`): the span is named
/// `monoscope.http` (Monoscope's ingest lifts the two bodies out of the
/// attributes of spans so named) and carries the bodies (base64), the query
/// and path parameters (JSON), every header (`http.request.header.<name>`,
/// string arrays), a message id and its parent's, the SDK type, the
/// service version, tags, the errors (JSON) and the consumer as the JS
/// SDK's `setUser` writes it (`user.id`, `user.email`, `user.full_name`).
struct MonoscopeSpanProfile: Sendable {
    static let spanName = "monoscope.http"
    static let sdkType = "SwiftAPIMetrics"

    var serviceVersion: String?
    var tags: [String]

    func writeAttributes<W: OTLPWriter & ~Copyable>(_ record: ExchangeRecord, into list: inout W, field: Int) {
        let request = record.request
        func string(_ key: String, _ value: String) { OTLPAttributes.string(key, value, into: &list, field: field) }
        string("apitoolkit.msg_id", record.id.uuidString)
        if let parent = record.parentID { string("apitoolkit.parent_id", parent.uuidString) }
        string("apitoolkit.sdk_type", Self.sdkType)
        string("apitoolkit.service_version", serviceVersion ?? "")
        OTLPAttributes.strings("apitoolkit.tags", tags, into: &list, field: field)
        string("apitoolkit.errors", Self.errorsJSON(record))
        if let host = request.headers["host"] { string("net.host.name", host) }
        string("http.target", request.target)
        string("http.request.query_params", Self.queryJSON(request.target))
        string("http.request.path_params", Self.pathParametersJSON(route: request.route, target: request.target))
        string("http.request.body", Base64.encode(record.requestBody.bytes))
        string("http.response.body", Base64.encode(record.responseBody.bytes))
        if let consumer = record.consumer {
            string("user.id", consumer.id)
            if let email = consumer.email { string("user.email", email) }
            if let name = consumer.name { string("user.full_name", name) }
        }
    }

    /// `{"name":["value",…]}`, as Go's `url.Values` marshals.
    static func queryJSON(_ target: String) -> String {
        var values: [String: [String]] = [:]
        var order: [String] = []
        for item in (URLTarget(target).rawQuery ?? "").split(separator: "&") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = URLTarget.decode(parts[0])
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(parts.count > 1 ? URLTarget.decode(parts[1]) : "")
        }
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        for name in order.sorted() {
            writer.key(escaping: name)
            writer.beginArray()
            for value in values[name] ?? [] { writer.string(value) }
            writer.endArray()
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The route's `{name}` segments matched against the path:
    /// `/orders/{id}` and `/orders/42` give `{"id":"42"}`.
    static func pathParametersJSON(route: String?, target: String) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        if let route {
            let templateParts = route.split(separator: "/", omittingEmptySubsequences: true)
            let pathParts = URLTarget(target).path.split(separator: "/", omittingEmptySubsequences: true)
            if templateParts.count == pathParts.count {
                for (template, value) in zip(templateParts, pathParts)
                where template.hasPrefix("{") && template.hasSuffix("}") && template.count > 2 {
                    writer.key(escaping: String(template.dropFirst().dropLast()))
                    writer.string(URLTarget.decode(value))
                }
            }
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `[{"when","error_type","message","root_error_type","root_error_message","stack_trace"}]`.
    static func errorsJSON(_ record: ExchangeRecord) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.beginArray()
        for error in record.errors {
            let root = error.causes.last ?? error
            writer.beginObject()
            writer.field("when", timestamp: record.startTimeNanoseconds + record.durationNanoseconds)
            writer.field("error_type", error.type)
            writer.field("message", error.message)
            writer.field("root_error_type", root.type)
            writer.field("root_error_message", root.message)
            writer.field("stack_trace", OTLPException.stacktrace(error) ?? "")
            writer.endObject()
        }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
