/// The JSON of the metrics records: a window, a heartbeat, a startup
/// record. Each is a line of its own `kind` in a file, and an object
/// (`metrics`, `heartbeat`, `startup`) of an HTTP batch.
///
/// Times are RFC 3339; durations in the series are milliseconds
/// (`p50_ms`…) with the exact sketch beside them (`latency.buckets`,
/// `[index, count]` pairs, see ``LatencySketch``).
enum MetricsJSON {
    /// A whole line: `{"v":1,"kind":"metrics",<identity>,…}`.
    static func line(_ kind: StaticString, identity: ServiceIdentity, body: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("v")
        writer.int(1)
        writer.key("kind")
        kind.withUTF8Buffer { writer.string(unvalidated: $0) }
        identity.writeFields(into: &writer, includingEventFields: false)
        body(&writer)
        writer.endObject()
        return writer.bytes
    }

    /// A window's members, written into the object being written.
    static func writeMembers(of window: MetricsWindow, into writer: inout JSONWriter) {
        writer.field("start", timestamp: window.startNanoseconds)
        writer.field("end", timestamp: window.endNanoseconds)
        if window.isFinal {
            writer.field("final", true)
        }
        writer.field("requests", window.requests)
        writer.key("series")
        writer.beginArray()
        for series in window.series { write(series, into: &writer) }
        writer.endArray()
        writer.key("consumers")
        writer.beginArray()
        for consumer in window.consumers { write(consumer, into: &writer) }
        writer.endArray()
        writer.field("anonymous", window.anonymousRequests)
        writer.field("unattributed", window.unattributedRequests)
        writer.field("excluded", window.excludedRequests)
        writer.field("folded", window.foldedRequests)
        writer.field("folded_methods", window.otherMethodRequests)
        writer.field("folded_consumers", window.foldedConsumerRequests)
        writer.key("server_errors")
        writer.beginArray()
        for group in window.serverErrors { write(group, into: &writer) }
        writer.endArray()
        writer.key("validation_errors")
        writer.beginArray()
        for group in window.validationErrors { write(group, into: &writer) }
        writer.endArray()
    }

    static func write(_ series: SeriesMetrics, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("method", series.key.method)
        writer.field("route", series.key.route)
        writer.field("status", series.key.status)
        writer.field("requests", series.requests)
        writer.field("client_errors", series.clientErrors)
        writer.field("server_errors", series.serverErrors)
        writer.key("latency")
        write(series.latency, into: &writer)
        writer.key("duration_buckets")
        writer.beginArray()
        for count in series.durationBuckets { writer.int(Int(clamping: count)) }
        writer.endArray()
        writer.key("request_size")
        write(series.requestSizes, into: &writer)
        writer.key("response_size")
        write(series.responseSizes, into: &writer)
        writer.endObject()
    }

    static func write(_ sketch: LatencySketch, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("count", Int(clamping: sketch.count))
        writer.field("sum_ns", Int(sketch.sumNanoseconds))
        writer.field("min_ns", Int(sketch.minNanoseconds))
        writer.field("max_ns", Int(sketch.maxNanoseconds))
        for (name, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] as [(StaticString, Double)] {
            writer.key(name)
            writer.number(((sketch.percentile(quantile) ?? 0) / 1_000).rounded() / 1_000)
        }
        writer.key("buckets")
        writer.beginArray()
        for (index, count) in zip(sketch.bucketIndices, sketch.bucketCounts) {
            writer.beginArray()
            writer.int(Int(index))
            writer.int(Int(clamping: count))
            writer.endArray()
        }
        writer.endArray()
        writer.endObject()
    }

    static func write(_ histogram: SizeHistogram, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("sum", Int(histogram.sumBytes))
        writer.key("counts")
        writer.beginArray()
        for count in histogram.counts { writer.int(Int(clamping: count)) }
        writer.endArray()
        writer.endObject()
    }

    static func write(_ consumer: ConsumerMetrics, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", consumer.id)
        writer.field("name", consumer.name)
        writer.field("requests", consumer.requests)
        writer.field("client_errors", consumer.clientErrors)
        writer.field("server_errors", consumer.serverErrors)
        writer.endObject()
    }

    static func write(_ group: ServerErrorGroup, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("method", group.method)
        writer.field("route", group.route)
        writer.field("type", group.type)
        writer.field("message", group.message)
        writer.field("location", group.location)
        if !group.causes.isEmpty {
            writer.key("causes")
            writer.beginArray()
            for cause in group.causes {
                writer.beginObject()
                writer.field("type", cause.type)
                writer.field("message", cause.message)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.field("count", group.count)
        writer.field("first_seen", timestamp: group.firstSeenNanoseconds)
        writer.field("last_seen", timestamp: group.lastSeenNanoseconds)
        writer.endObject()
    }

    static func write(_ group: ValidationErrorGroup, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("method", group.method)
        writer.field("route", group.route)
        writer.field("field", group.field)
        writer.field("type", group.type)
        writer.field("message", group.message)
        writer.field("count", group.count)
        writer.endObject()
    }

    static func writeMembers(of heartbeat: Heartbeat, into writer: inout JSONWriter) {
        writer.field("time", timestamp: heartbeat.timeNanoseconds)
        writer.field("started_at", timestamp: heartbeat.startedAtNanoseconds)
        writer.field("uptime_s", (heartbeat.uptimeSeconds * 1000).rounded() / 1000)
        if let cpu = heartbeat.cpuShare {
            writer.field("cpu", (cpu * 10_000).rounded() / 10_000)
        }
        writer.field("resident_bytes", heartbeat.residentBytes)
        writer.key("pipeline")
        writePipeline(heartbeat.statistics, into: &writer)
        if let discovery = heartbeat.discovery {
            writer.key("discovery")
            writer.beginObject()
            writer.field("operations", discovery.operations)
            writer.field("changes", discovery.changes)
            writer.field("learnt_calls", discovery.learntCalls)
            writer.endObject()
        }
    }

    static func writeMembers(of startup: StartupRecord, into writer: inout JSONWriter) {
        writer.field("started_at", timestamp: startup.startedAtNanoseconds)
        writer.key("routes")
        writer.beginArray()
        for route in startup.routes { writer.string(route) }
        writer.endArray()
        writer.field("swift_version", startup.swiftVersion)
        writer.field("library_version", startup.libraryVersion)
        writer.field("platform", startup.platform)
    }

    /// The three as an HTTP batch's members: `"metrics":{…}` and so on.
    static func writeBatchMembers(
        metrics: MetricsWindow?, heartbeat: Heartbeat?, startup: StartupRecord?, into writer: inout JSONWriter
    ) {
        if let startup {
            writer.key("startup")
            writer.beginObject()
            writeMembers(of: startup, into: &writer)
            writer.endObject()
        }
        if let metrics {
            writer.key("metrics")
            writer.beginObject()
            writeMembers(of: metrics, into: &writer)
            writer.endObject()
        }
        if let heartbeat {
            writer.key("heartbeat")
            writer.beginObject()
            writeMembers(of: heartbeat, into: &writer)
            writer.endObject()
        }
    }

    /// The three as file lines, in that order.
    static func lines(
        identity: ServiceIdentity, metrics: MetricsWindow?, heartbeat: Heartbeat?, startup: StartupRecord?
    ) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        if let startup { lines.append(line("startup", identity: identity) { writeMembers(of: startup, into: &$0) }) }
        if let metrics { lines.append(line("metrics", identity: identity) { writeMembers(of: metrics, into: &$0) }) }
        if let heartbeat { lines.append(line("heartbeat", identity: identity) { writeMembers(of: heartbeat, into: &$0) }) }
        return lines
    }

    /// The pipeline's counters as an object.
    static func writePipeline(_ statistics: Statistics, into writer: inout JSONWriter) {
        writer.beginObject()
        for (name, value) in [
            ("recorded", statistics.recorded), ("skipped", statistics.skipped), ("dropped", statistics.dropped),
            ("dropped_queue_full", statistics.droppedQueueFull), ("dropped_shed", statistics.droppedShed),
            ("dropped_processing", statistics.droppedProcessing), ("queued", statistics.queued),
            ("exported", statistics.exported), ("failed", statistics.failed), ("rejected", statistics.rejected),
            ("sampled_out", statistics.sampledOut),
            ("destination_left_out", statistics.destinationLeftOut), ("destination_paused", statistics.destinationPaused),
            ("retried", statistics.retried), ("spooled", statistics.spooled), ("spool_pending", statistics.spoolPending),
            ("spool_bytes", statistics.spoolBytes), ("dropped_spool_full", statistics.droppedSpoolFull),
            ("spool_corrupt", statistics.spoolCorrupt), ("alerts_lost", statistics.alertsLost),
        ] as [(StaticString, Int)] {
            writer.key(name)
            writer.int(value)
        }
        if let message = statistics.lastExportError {
            writer.field("last_export_error", message)
            writer.field("last_export_error_at", timestamp: statistics.lastExportErrorAtNanoseconds)
        }
        writer.endObject()
    }
}
