/// Moesif's ingest documents, as its server SDKs write them: a JSON array
/// of events for `/v1/events/batch`, and of users, companies and
/// subscriptions for their `/batch` endpoints.
enum MoesifEncoding {
    /// One call as a Moesif event. `weight` is the number of calls it stands
    /// for (local sampling times Moesif's own).
    static func writeEvent(_ record: ExchangeRecord, weight: Int, apiVersion: String?, into writer: inout JSONWriter) {
        let request = record.request
        writer.beginObject()
        writer.key("request")
        writer.beginObject()
        writer.key("time")
        writer.string(time(record.startTimeNanoseconds))
        writer.key("uri")
        writer.string(uri(of: record))
        writer.key("verb")
        writer.string(request.method)
        if let apiVersion {
            writer.key("api_version")
            writer.string(apiVersion)
        }
        if let address = request.clientAddress {
            writer.key("ip_address")
            writer.string(address)
        }
        writer.key("headers")
        writeHeaders(request.headers, into: &writer)
        writeBody(record.requestBody, into: &writer)
        writer.endObject()

        if let response = record.response {
            writer.key("response")
            writer.beginObject()
            writer.key("time")
            writer.string(time(record.startTimeNanoseconds + record.durationNanoseconds))
            writer.key("status")
            writer.int(response.status)
            writer.key("headers")
            writeHeaders(response.headers, into: &writer)
            writeBody(record.responseBody, into: &writer)
            writer.endObject()
        }
        writer.key("transaction_id")
        writer.string(record.id)
        if let consumer = record.consumer {
            writer.key("user_id")
            writer.string(consumer.id)
            if let company = consumer.company {
                writer.key("company_id")
                writer.string(company)
            }
        }
        if let session = record.sessionToken {
            writer.key("session_token")
            writer.string(session)
        }
        if let route = request.route {
            // Moesif's tags are comma-separated labels; the route is the one
            // every call has.
            writer.key("tags")
            writer.string("route:\(route)")
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
                    writer.key("type")
                    writer.string(error.type)
                    writer.key("message")
                    writer.string(error.message)
                    writer.endObject()
                }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.key("direction")
        writer.string(record.direction == .incoming ? "Incoming" : "Outgoing")
        writer.key("weight")
        writer.int(weight)
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
        let target = record.request.target
        if OTLPTraceEncoder.schemeAndHost(of: target) != nil { return target }
        let headers = record.request.headers
        let host = headers["host"] ?? "localhost"
        let forwarded = headers["x-forwarded-proto"]?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let scheme = forwarded == "https" ? "https" : "http"
        return "\(scheme)://\(host)\(target.hasPrefix("/") ? "" : "/")\(target)"
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

    /// A JSON body goes as the JSON value itself with
    /// `transfer_encoding: "json"`; any other as base64. A body cut at the
    /// capture limit is no longer JSON, so it goes as base64 too.
    static func writeBody(_ body: CapturedBody, into writer: inout JSONWriter) {
        guard !body.bytes.isEmpty else { return }
        var bytes = body.bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let isJSON = !body.isTruncated && bytes.withUnsafeBufferPointer { buffer in
            JSONFieldScanner.valuesToHide(in: buffer, named: NameSet(names: [])) != nil
        }
        writer.key("body")
        if isJSON {
            writer.embeddedJSON(bytes)
            writer.key("transfer_encoding")
            writer.string("json")
        } else {
            writer.string(Base64.encode(body.bytes))
            writer.key("transfer_encoding")
            writer.string("base64")
        }
    }

    /// A consumer as a Moesif user: its name, email and group go in the
    /// metadata Moesif shows, beside the consumer's own.
    static func writeUser(_ consumer: Consumer, at nanoseconds: Int64, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("user_id")
        writer.string(consumer.id)
        if let company = consumer.company {
            writer.key("company_id")
            writer.string(company)
        }
        writer.key("modified_time")
        writer.string(time(nanoseconds))
        var metadata = consumer.metadata
        if let name = consumer.name { metadata["name"] = metadata["name"] ?? name }
        if let email = consumer.email { metadata["email"] = metadata["email"] ?? email }
        if let group = consumer.group { metadata["group"] = metadata["group"] ?? group }
        writeMetadata(metadata, into: &writer)
        writer.endObject()
    }

    /// A company profile as a Moesif company.
    static func writeCompany(_ company: CompanyProfile, at nanoseconds: Int64, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("company_id")
        writer.string(company.id)
        if let domain = company.domain {
            writer.key("company_domain")
            writer.string(domain)
        }
        writer.key("modified_time")
        writer.string(time(nanoseconds))
        var metadata = company.metadata
        if let name = company.name { metadata["name"] = metadata["name"] ?? name }
        writeMetadata(metadata, into: &writer)
        writer.endObject()
    }

    /// A subscription profile as a Moesif subscription; its plan goes in the
    /// metadata.
    static func writeSubscription(_ subscription: SubscriptionProfile, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("subscription_id")
        writer.string(subscription.id)
        writer.key("company_id")
        writer.string(subscription.companyID)
        if let start = subscription.currentPeriodStartNanoseconds {
            writer.key("current_period_start")
            writer.string(time(start))
        }
        if let end = subscription.currentPeriodEndNanoseconds {
            writer.key("current_period_end")
            writer.string(time(end))
        }
        if let status = subscription.status {
            writer.key("status")
            writer.string(status)
        }
        var metadata = subscription.metadata
        if let plan = subscription.plan { metadata["plan"] = metadata["plan"] ?? plan }
        writeMetadata(metadata, into: &writer)
        writer.endObject()
    }

    private static func writeMetadata(_ metadata: [String: String], into writer: inout JSONWriter) {
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
