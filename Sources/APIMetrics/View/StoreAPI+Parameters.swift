import Foundation

extension StoreAPI {
    /// The query's parameters, read and bounded: each value at most
    /// ``maxValueBytes``, the first of a repeated name taken.
    struct Parameters {
        static let maxValueBytes = 1_024
        static let ranges: [String: Int64] = ["1h": 3_600, "24h": 86_400, "7d": 604_800, "30d": 2_592_000]
        /// The longest custom range: a year.
        static let maxRangeSeconds: Int64 = 366 * 86_400

        var range: StoreTimeRange
        var method: String?
        var route: String?
        var consumer: String?
        var consumerID: String?
        var callFilter: StoreCallFilter
        var cursor: StoreCallCursor?
        var limit = 50

        init(_ query: [(name: String, value: String)], now: Int64) throws(ParameterError) {
            var values: [String: String] = [:]
            for (name, value) in query where values[name] == nil {
                guard value.utf8.count <= Self.maxValueBytes else {
                    throw ParameterError(field: name, reason: "is longer than \(Self.maxValueBytes) bytes")
                }
                values[name] = value
            }
            func nonEmpty(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
            var seconds: Int64 = 86_400
            if let range = nonEmpty("range") {
                guard let known = Self.ranges[range] else {
                    throw ParameterError(field: "range", reason: "must be 1h, 24h, 7d or 30d, got \"\(range)\"")
                }
                seconds = known
            }
            let to = try nonEmpty("to").map { text throws(ParameterError) in try Self.instant(text, field: "to") } ?? now
            let from =
                try nonEmpty("from").map { text throws(ParameterError) in try Self.instant(text, field: "from") }
                ?? to - seconds * 1_000_000_000
            guard from < to else { throw ParameterError(field: "from", reason: "must be before to") }
            guard to - from <= Self.maxRangeSeconds * 1_000_000_000 else {
                throw ParameterError(field: "from", reason: "the range must be at most 366 days")
            }
            range = StoreTimeRange(from: from, to: to)
            method = nonEmpty("method")
            route = values["route"]
            consumer = nonEmpty("consumer")
            consumerID = nonEmpty("id")
            var filter = StoreCallFilter(range: range)
            filter.method = method
            filter.route = route.flatMap { $0.isEmpty ? nil : $0 }
            filter.consumer = consumer
            filter.pathContains = nonEmpty("path")
            if let status = nonEmpty("status") {
                let lowered = status.lowercased()
                if lowered.count == 3, lowered.hasSuffix("xx"), let digit = Int(lowered.prefix(1)), (0...5).contains(digit) {
                    filter.statusClass = digit
                } else if let code = Int(status), (0...999).contains(code) {
                    filter.status = code
                } else {
                    throw ParameterError(
                        field: "status", reason: "must be a status such as 404 or a class such as 4xx, got \"\(status)\"")
                }
            }
            if let minimum = nonEmpty("min_ms") {
                guard let value = Double(minimum), value.isFinite, value >= 0, value < 1e9 else {
                    throw ParameterError(field: "min_ms", reason: "must be a number of milliseconds, got \"\(minimum)\"")
                }
                filter.minimumDurationNanoseconds = Int64(value * 1_000_000)
            }
            callFilter = filter
            if let cursor = nonEmpty("cursor") {
                guard let parsed = StoreCallCursor(text: cursor) else {
                    throw ParameterError(field: "cursor", reason: "is not a cursor this API handed out")
                }
                self.cursor = parsed
            }
            if let limit = nonEmpty("limit") {
                guard let value = Int(limit), (1...200).contains(value) else {
                    throw ParameterError(field: "limit", reason: "must be from 1 to 200, got \"\(limit)\"")
                }
                self.limit = value
            }
        }

        /// RFC 3339, or milliseconds since the epoch.
        static func instant(_ text: String, field: String) throws(ParameterError) -> Int64 {
            if let millis = Int64(text), millis >= 0, millis < 9_000_000_000_000 { return millis * 1_000_000 }
            if let nanoseconds = Timestamp.parseRFC3339(text) { return nanoseconds }
            throw ParameterError(
                field: field, reason: "must be an RFC 3339 time or milliseconds since the epoch, got \"\(text)\"")
        }
    }

    // MARK: Writing

    static func writeRange(_ range: StoreTimeRange, into writer: inout JSONWriter) {
        writer.field("from", timestamp: range.from)
        writer.field("to", timestamp: range.to)
    }

    static func milliseconds(_ nanoseconds: Double?, into writer: inout JSONWriter) {
        if let nanoseconds { writer.number((nanoseconds / 1_000).rounded() / 1_000) } else { writer.null() }
    }

    static func writeFigures(_ figures: StoreFigures, into writer: inout JSONWriter) {
        writer.field("requests", figures.requests)
        writer.field("client_errors", figures.clientErrors)
        writer.field("server_errors", figures.serverErrors)
        writer.key("p50_ms")
        milliseconds(figures.latency.percentile(0.5), into: &writer)
        writer.key("p95_ms")
        milliseconds(figures.latency.percentile(0.95), into: &writer)
        writer.key("p99_ms")
        milliseconds(figures.latency.percentile(0.99), into: &writer)
        writer.key("mean_ms")
        milliseconds(figures.latency.meanNanoseconds, into: &writer)
        writer.key("mean_request_bytes")
        if let mean = figures.meanRequestBytes { writer.number(mean.rounded()) } else { writer.null() }
        writer.key("mean_response_bytes")
        if let mean = figures.meanResponseBytes { writer.number(mean.rounded()) } else { writer.null() }
    }

    static func writePoints(_ points: [StorePoint], withLatency: Bool, into writer: inout JSONWriter) {
        writer.beginArray()
        for point in points {
            writer.beginObject()
            writer.field("t", timestamp: point.start * 1_000_000_000)
            writer.field("requests", point.figures.requests)
            writer.field("client_errors", point.figures.clientErrors)
            writer.field("server_errors", point.figures.serverErrors)
            if withLatency {
                writer.key("p50_ms")
                milliseconds(point.figures.latency.percentile(0.5), into: &writer)
                writer.key("p95_ms")
                milliseconds(point.figures.latency.percentile(0.95), into: &writer)
                writer.key("p99_ms")
                milliseconds(point.figures.latency.percentile(0.99), into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
    }

    /// At most 40 bars between the fastest and the slowest call, spaced
    /// evenly on a log scale; each of the sketch's buckets counts in the
    /// bar holding its midpoint.
    static func writeHistogram(_ sketch: LatencySketch, into writer: inout JSONWriter) {
        writer.beginArray()
        defer { writer.endArray() }
        guard sketch.count > 0 else { return }
        let low = max(1_000, Double(sketch.minNanoseconds)), high = max(low * 1.0001, Double(sketch.maxNanoseconds))
        let bars = 40
        let step = log(high / low) / Double(bars)
        var counts = [UInt64](repeating: 0, count: bars)
        for (index, count) in zip(sketch.bucketIndices, sketch.bucketCounts) {
            let (lower, upper) = LatencySketch.bounds(ofIndex: index)
            let middle = min(high, max(low, (Double(lower) + Double(upper)) / 2))
            let bar = min(bars - 1, max(0, Int(log(middle / low) / step)))
            counts[bar] += count
        }
        for (bar, count) in counts.enumerated() where count > 0 {
            writer.beginObject()
            writer.field("from_ms", (low * exp(step * Double(bar)) / 1_000).rounded() / 1_000)
            writer.field("to_ms", (low * exp(step * Double(bar + 1)) / 1_000).rounded() / 1_000)
            writer.field("count", Int(clamping: count))
            writer.endObject()
        }
    }

    static func writeCalls(_ calls: [StoreCall], into writer: inout JSONWriter) {
        writer.beginArray()
        for call in calls { writeCall(call, into: &writer) }
        writer.endArray()
    }

    static func writeCall(_ call: StoreCall, into writer: inout JSONWriter) {
        writer.beginObject()
        writeCallFields(call, into: &writer)
        writer.endObject()
    }

    static func writeCallFields(_ call: StoreCall, into writer: inout JSONWriter) {
        writer.field("id", call.id)
        writer.field("time", timestamp: call.time)
        writer.field("method", call.method)
        writer.key("route")
        if let route = call.route { writer.string(route) } else { writer.null() }
        writer.field("path", call.path)
        writer.field("status", call.status)
        writer.key("duration_ms")
        milliseconds(Double(call.durationNanoseconds), into: &writer)
        writer.key("consumer")
        if let consumer = call.consumer { writer.string(consumer) } else { writer.null() }
        writer.field("request_bytes", call.requestBytes)
        writer.field("response_bytes", call.responseBytes)
        writer.field("direction", call.isOutgoing ? "outgoing" : "incoming")
        writer.key("error")
        if let type = call.errorType {
            writer.string(call.errorMessage.map { "\(type): \($0)" } ?? type)
        } else {
            writer.null()
        }
    }

    static func writeConsumer(_ consumer: StoreConsumer, withProfile: Bool, into writer: inout JSONWriter) {
        writer.beginObject()
        writeConsumerFields(consumer, withProfile: withProfile, into: &writer)
        writer.endObject()
    }

    static func writeConsumerFields(_ consumer: StoreConsumer, withProfile: Bool, into writer: inout JSONWriter) {
        writer.field("id", consumer.id)
        writer.key("name")
        if let name = consumer.name { writer.string(name) } else { writer.null() }
        if withProfile {
            for (key, value) in [("email", consumer.email), ("company", consumer.company), ("group", consumer.group)] {
                writer.key(escaping: key)
                if let value { writer.string(value) } else { writer.null() }
            }
            writer.key("metadata")
            writer.beginObject()
            for (key, value) in consumer.metadata.sorted(by: { $0.key < $1.key }) {
                writer.key(escaping: key)
                writer.string(value)
            }
            writer.endObject()
        }
        writer.field("requests", consumer.requests)
        writer.field("client_errors", consumer.clientErrors)
        writer.field("server_errors", consumer.serverErrors)
        writer.field("first_seen", timestamp: consumer.firstSeen)
        writer.field("last_seen", timestamp: consumer.lastSeen)
    }

    static func writeErrorGroups(_ groups: [StoreErrorGroup], into writer: inout JSONWriter) {
        writer.beginArray()
        for group in groups {
            writer.beginObject()
            writer.field("method", group.method)
            writer.field("route", group.route)
            if group.isValidation {
                writer.field("field", group.field)
            }
            writer.field("type", group.type)
            writer.field("message", group.message)
            if !group.isValidation {
                writer.key("location")
                if let location = group.location { writer.string(location) } else { writer.null() }
                writer.field("consumers_affected", group.consumersAffected)
            }
            writer.field("count", group.count)
            writer.field("first_seen", timestamp: group.firstSeen)
            writer.field("last_seen", timestamp: group.lastSeen)
            writer.endObject()
        }
        writer.endArray()
    }
}
