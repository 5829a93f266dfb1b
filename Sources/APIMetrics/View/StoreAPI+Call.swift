extension StoreAPI {
    /// `call?id=`: one call as the store kept it (redacted as every
    /// exporter received it), with its parent and the calls it made.
    static func call(_ parameters: Parameters, _ reader: StoreReader, _ writer: inout JSONWriter) throws -> Bool {
        guard let text = parameters.consumerID else { throw ParameterError(field: "id", reason: "is required") }
        guard let id = EventID(hex: text) else {
            throw ParameterError(field: "id", reason: "must be a call's 32 hexadecimal digits")
        }
        guard let detail = try reader.call(id: id) else { return false }
        let record = detail.record
        writer.beginObject()
        writeCallFields(detail.call, into: &writer)
        writer.field("url", url(of: record))
        writer.key("trace_id")
        if let trace = record.traceID { writer.string(trace) } else { writer.null() }
        writer.field("span_id", String(record.id.description.suffix(16)))
        writer.key("parent_id")
        if let parent = record.parentID { writer.string(parent) } else { writer.null() }
        writer.key("client_address")
        if let address = record.request.clientAddress { writer.string(address) } else { writer.null() }
        writer.key("consumer")
        if let consumer = record.consumer {
            writer.beginObject()
            writer.field("id", consumer.id)
            for (key, value) in [("name", consumer.name), ("email", consumer.email), ("company", consumer.company)] {
                writer.key(escaping: key)
                if let value { writer.string(value) } else { writer.null() }
            }
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("request")
        writer.beginObject()
        writer.key("http_version")
        if let version = record.request.protocolVersion { writer.string(version) } else { writer.null() }
        writer.key("headers")
        writeHeaders(record.request.headers, into: &writer)
        writer.key("body")
        writeBody(record.requestBody, headers: record.request.headers, into: &writer)
        writer.endObject()
        writer.key("response")
        if let response = record.response {
            writer.beginObject()
            writer.key("headers")
            writeHeaders(response.headers, into: &writer)
            writer.key("body")
            writeBody(record.responseBody, headers: response.headers, into: &writer)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("errors")
        writer.beginArray()
        for error in record.errors { writeError(error, depth: 0, into: &writer) }
        writer.endArray()
        writer.key("parent")
        if let parent = detail.parent { writeCall(parent, into: &writer) } else { writer.null() }
        writer.key("children")
        writeCalls(detail.children, into: &writer)
        writer.endObject()
        return true
    }

    /// The URL the call was made to, as well as the record tells it: the
    /// target when absolute (an outgoing call), else `http://HOST` and the
    /// target (the scheme the server saw is not recorded).
    static func url(of record: ExchangeRecord) -> String {
        let target = record.request.target
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        let host = record.request.headers["host"] ?? record.request.headers[":authority"] ?? "localhost"
        return "http://\(host)\(target.hasPrefix("/") ? target : "/" + target)"
    }

    static func writeHeaders(_ headers: HeaderFields, into writer: inout JSONWriter) {
        writer.beginArray()
        for field in headers {
            writer.beginArray()
            writer.string(field.name)
            writer.string(field.value)
            writer.endArray()
        }
        writer.endArray()
    }

    /// A body as text when it is UTF-8, else base64; `null` when none was kept.
    static func writeBody(_ body: CapturedBody, headers: HeaderFields, into writer: inout JSONWriter) {
        guard !body.bytes.isEmpty || body.size > 0 else {
            writer.null()
            return
        }
        writer.beginObject()
        writer.field("size", body.size)
        writer.field("truncated", body.isTruncated)
        writer.key("content_type")
        if let type = headers["content-type"] { writer.string(type) } else { writer.null() }
        writer.key("decoded_from")
        if let encoding = body.decodedFrom { writer.string(encoding) } else { writer.null() }
        let text = String(decoding: body.bytes, as: UTF8.self)
        if text.utf8.elementsEqual(body.bytes) {
            writer.field("encoding", "utf8")
            writer.field("text", text)
        } else {
            writer.field("encoding", "base64")
            writer.field("text", Base64.encode(body.bytes))
        }
        writer.endObject()
    }

    static func writeError(_ error: RecordedError, depth: Int, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", error.type)
        writer.field("message", error.message)
        writer.key("location")
        if let location = error.location { writer.string(location) } else { writer.null() }
        writer.key("causes")
        writer.beginArray()
        if depth < RecordedError.maxCauses {
            for cause in error.causes { writeError(cause, depth: depth + 1, into: &writer) }
        }
        writer.endArray()
        writer.endObject()
    }
}
