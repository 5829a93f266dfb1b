/// Turns a processed record into one schema-v1 JSON line (see DESIGN.md):
/// snake_case keys, RFC 3339 UTC times with milliseconds, durations in
/// milliseconds, absent values omitted.
struct EventEncoder: Sendable {
    let identity: ServiceIdentity

    func encode(_ record: ExchangeRecord) -> [UInt8] {
        let request = record.request
        var headerBytes = request.headers.byteCount + request.headers.count * 6
        if let response = record.response { headerBytes += response.headers.byteCount + response.headers.count * 6 }
        // One buffer for the whole line: bodies may grow by escaping, so leave room.
        var writer = JSONWriter(
            capacity: 768 + 3 * request.target.utf8.count + headerBytes
                + (record.requestBody.bytes.count + record.responseBody.bytes.count) * 5 / 4)
        writer.beginObject()
        writer.key("v")
        writer.int(1)
        writer.field("id", record.id)
        writer.field("ts", timestamp: record.startTimeNanoseconds)
        writer.field("direction", record.direction.description)
        identity.writeFields(into: &writer)

        writer.key("request")
        writer.beginObject()
        writer.field("method", request.method)
        var target = request.target
        target.withUTF8 { targetBytes in
            writer.key("url")
            writer.string(utf8: targetBytes)
            let parts = URLTarget.parts(of: targetBytes)
            writer.key("path")
            if parts.path.isEmpty {
                writer.string(utf8: CollectionOfOne(UInt8(ascii: "/")))
            } else {
                writer.string(utf8: UnsafeBufferPointer(rebasing: targetBytes[parts.path]))
            }
            writer.field("route", request.route)
            if let query = parts.query, !query.isEmpty {
                Self.writeQuery(UnsafeBufferPointer(rebasing: targetBytes[query]), into: &writer)
            }
        }
        if !request.headers.isEmpty {
            writer.key("headers")
            Self.writeHeaders(request.headers, into: &writer)
        }
        Self.writeBody(record.requestBody, into: &writer)
        writer.field("client_ip", request.clientAddress)
        // The socket peer only when it is not the client: a proxy stood between.
        if let peerAddress = request.peerAddress, peerAddress != request.clientAddress {
            writer.field("peer_ip", peerAddress)
        }
        writer.endObject()

        if let response = record.response {
            writer.key("response")
            writer.beginObject()
            writer.field("status", response.status)
            if !response.headers.isEmpty {
                writer.key("headers")
                Self.writeHeaders(response.headers, into: &writer)
            }
            Self.writeBody(record.responseBody, into: &writer)
            writer.endObject()
        }

        writer.key("duration_ms")
        writer.milliseconds(fromNanoseconds: record.durationNanoseconds)

        if record.weight != 1 {
            writer.key("weight")
            writer.raw(String(record.weight).utf8)
        }
        if let consumer = record.consumer {
            writer.key("consumer")
            Self.writeConsumer(consumer, into: &writer)
        }
        writer.field("session_token", record.sessionToken)
        if let first = record.errors.first {
            writer.key("error")
            Self.writeError(first, into: &writer)
            if record.errors.count > 1 {
                writer.key("errors")
                writer.beginArray()
                for error in record.errors { Self.writeError(error, into: &writer) }
                writer.endArray()
            }
        }
        writer.field("trace_id", record.traceID)
        writer.field("parent_id", record.parentID)
        Self.writeMetadata(record.metadata, into: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// One profile update as a JSON line:
    /// `{"v":1,"kind":"company","id":…,"ts":…,"service":…,"env":…,"company":{…}}`.
    func encode(_ entity: EntityRecord) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("v")
        writer.int(1)
        writer.field("kind", entity.kind)
        writer.field("id", entity.id)
        writer.field("ts", Timestamp.rfc3339(nanosecondsSinceEpoch: entity.timestampNanoseconds))
        identity.writeFields(into: &writer)
        writer.key(escaping: entity.kind)
        switch entity.profile {
        case let .consumer(consumer):
            Self.writeConsumer(consumer, into: &writer)
        case let .company(company):
            writer.beginObject()
            writer.field("id", company.id)
            Self.writeOptional("name", company.name, into: &writer)
            Self.writeOptional("domain", company.domain, into: &writer)
            Self.writeMetadata(company.metadata, into: &writer)
            writer.endObject()
        case let .subscription(subscription):
            writer.beginObject()
            writer.field("id", subscription.id)
            writer.field("company_id", subscription.companyID)
            Self.writeOptional("plan", subscription.plan, into: &writer)
            Self.writeOptional("status", subscription.status, into: &writer)
            Self.writeOptional(
                "current_period_start",
                subscription.currentPeriodStartNanoseconds.map {
                    Timestamp.rfc3339(nanosecondsSinceEpoch: $0)
                }, into: &writer)
            Self.writeOptional(
                "current_period_end",
                subscription.currentPeriodEndNanoseconds.map {
                    Timestamp.rfc3339(nanosecondsSinceEpoch: $0)
                }, into: &writer)
            Self.writeMetadata(subscription.metadata, into: &writer)
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    private static func writeConsumer(_ consumer: Consumer, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", consumer.id)
        writeOptional("name", consumer.name, into: &writer)
        writeOptional("group", consumer.group, into: &writer)
        writeOptional("email", consumer.email, into: &writer)
        writeOptional("company", consumer.company, into: &writer)
        writeMetadata(consumer.metadata, into: &writer)
        writer.endObject()
    }

    private static func writeOptional(_ key: StaticString, _ value: String?, into writer: inout JSONWriter) {
        guard let value else { return }
        writer.key(key)
        writer.string(value)
    }

    private static func writeMetadata(_ metadata: [String: String], into writer: inout JSONWriter) {
        guard !metadata.isEmpty else { return }
        writer.key("metadata")
        writer.beginObject()
        for key in metadata.keys.sorted() {
            writer.key(escaping: key)
            writer.string(metadata[key] ?? "")
        }
        writer.endObject()
    }

    private static func writeError(_ error: RecordedError, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", error.type)
        writer.field("message", error.message)
        writeOptional("location", error.location, into: &writer)
        if !error.causes.isEmpty {
            writer.key("causes")
            writer.beginArray()
            for cause in error.causes { writeError(cause, into: &writer) }
            writer.endArray()
        }
        writer.endObject()
    }

    /// Writes header fields as an object with lowercased names, from the
    /// bytes as captured. Most lists have no repeated name: those are written
    /// straight, with no grouping and no strings.
    private static func writeHeaders(_ headers: HeaderFields, into writer: inout JSONWriter) {
        guard !headers.hasRepeatedName else {
            writeGrouped(headers.fields.map { ($0.name, $0.value) }, lowercasingNames: true, into: &writer)
            return
        }
        writer.beginObject()
        headers.forEachRaw { name, value in
            writer.keyLowercased(utf8: name)
            writer.string(unvalidated: value)
        }
        writer.endObject()
    }

    /// Writes `"query":{…}` from the raw query (after `?`), percent-decoded,
    /// `+` as space; nothing when it holds no parameter. Straight when no
    /// name repeats.
    private static func writeQuery(_ query: UnsafeBufferPointer<UInt8>, into writer: inout JSONWriter) {
        // Decoding never lengthens, and an item takes at least one byte and
        // a separator: both fit in scratch memory sized from the query (on
        // the stack for the usual short ones).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: query.count) { decodedMemory in
            withUnsafeTemporaryAllocation(of: (name: Range<Int>, value: Range<Int>).self, capacity: query.count / 2 + 1) {
                itemMemory in
                guard let decodedBase = decodedMemory.baseAddress, let itemBase = itemMemory.baseAddress else { return }
                var decodedCount = 0
                var itemCount = 0
                var start = 0
                while start < query.count {
                    var end = start
                    while end < query.count && query[end] != UInt8(ascii: "&") { end += 1 }
                    if end > start {
                        var equals = start
                        while equals < end && query[equals] != UInt8(ascii: "=") { equals += 1 }
                        let nameStart = decodedCount
                        decodedCount += URLTarget.decode(
                            UnsafeBufferPointer(rebasing: query[start..<equals]), into: decodedBase + decodedCount)
                        let valueStart = decodedCount
                        if equals < end {
                            decodedCount += URLTarget.decode(
                                UnsafeBufferPointer(rebasing: query[(equals + 1)..<end]), into: decodedBase + decodedCount)
                        }
                        (itemBase + itemCount).initialize(to: (nameStart..<valueStart, valueStart..<decodedCount))
                        itemCount += 1
                    }
                    start = end + 1
                }
                guard itemCount > 0 else { return }
                let items = UnsafeBufferPointer(start: itemBase, count: itemCount)
                let decoded = UnsafeBufferPointer(start: decodedBase, count: decodedCount)
                func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: decoded[range]) }
                writer.key("query")
                guard !hasRepeat(items.count, { slice(items[$0].name).elementsEqual(slice(items[$1].name)) }) else {
                    let pairs = items.map {
                        (String(decoding: slice($0.name), as: UTF8.self), String(decoding: slice($0.value), as: UTF8.self))
                    }
                    writeGrouped(pairs, lowercasingNames: false, into: &writer)
                    return
                }
                writer.beginObject()
                for item in items {
                    writer.key(unvalidated: slice(item.name))
                    writer.string(unvalidated: slice(item.value))
                }
                writer.endObject()
            }
        }
    }

    /// Whether any two of `count` items are equal by `same` (lists are short).
    private static func hasRepeat(_ count: Int, _ same: (Int, Int) -> Bool) -> Bool {
        guard count > 1 else { return false }
        for index in 0..<count - 1 {
            for other in (index + 1)..<count where same(index, other) { return true }
        }
        return false
    }

    /// Writes name/value pairs as an object; a name seen more than once gets
    /// an array of its values, in order.
    private static func writeGrouped(_ pairs: [(String, String)], lowercasingNames: Bool, into writer: inout JSONWriter) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in pairs {
            let key = lowercasingNames ? name.lowercased() : name
            if values[key] == nil {
                order.append(key)
                values[key] = [value]
            } else {
                values[key, default: []].append(value)
            }
        }
        writer.beginObject()
        for key in order {
            writer.key(escaping: key)
            let list = values[key] ?? []
            if list.count == 1 {
                writer.string(list[0])
            } else {
                writer.beginArray()
                for value in list { writer.string(value) }
                writer.endArray()
            }
        }
        writer.endObject()
    }

    private static func writeBody(_ body: CapturedBody, into writer: inout JSONWriter) {
        writer.field("size", body.size)
        guard !body.bytes.isEmpty else { return }
        if let text = validUTF8Prefix(body.bytes, allowingCutTail: body.isTruncated) {
            writer.key("body")
            writer.string(utf8: text)
            writer.key("body_encoding")
            writer.string(utf8: Array("utf8".utf8))
        } else {
            writer.field("body", Base64.encode(body.bytes))
            writer.key("body_encoding")
            writer.string(utf8: Array("base64".utf8))
        }
        writer.field("body_truncated", body.isTruncated)
        writer.field("body_decoded_from", body.decodedFrom)
    }

    /// The bytes when they are valid UTF-8; for a body cut at the capture
    /// limit, a character split by the cut is left out rather than making the
    /// whole body binary.
    static func validUTF8Prefix(_ bytes: [UInt8], allowingCutTail: Bool) -> ArraySlice<UInt8>? {
        if isValidUTF8(bytes[...]) { return bytes[...] }
        guard allowingCutTail else { return nil }
        for cut in 1...3 where bytes.count > cut {
            let prefix = bytes[..<(bytes.count - cut)]
            if isValidUTF8(prefix) { return prefix }
        }
        return nil
    }

    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }

    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Most bodies are ASCII: check that eight bytes at a time first.
        if JSONWriter.isASCII(bytes) { return true }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
