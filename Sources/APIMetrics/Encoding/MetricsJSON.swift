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
        writer.key("start")
        writer.timestamp(nanosecondsSinceEpoch: window.startNanoseconds)
        writer.key("end")
        writer.timestamp(nanosecondsSinceEpoch: window.endNanoseconds)
        if window.isFinal {
            writer.key("final")
            writer.bool(true)
        }
        writer.key("requests")
        writer.int(window.requests)
        writer.key("series")
        writer.beginArray()
        for series in window.series { write(series, into: &writer) }
        writer.endArray()
        writer.key("consumers")
        writer.beginArray()
        for consumer in window.consumers { write(consumer, into: &writer) }
        writer.endArray()
        writer.key("anonymous")
        writer.number(window.anonymousRequests)
        writer.key("unattributed")
        writer.number(window.unattributedRequests)
        writer.key("excluded")
        writer.number(window.excludedRequests)
        writer.key("folded")
        writer.int(window.foldedRequests)
        writer.key("folded_methods")
        writer.int(window.otherMethodRequests)
        writer.key("folded_consumers")
        writer.number(window.foldedConsumerRequests)
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
        writer.key("method")
        writer.string(series.key.method)
        writer.key("route")
        writer.string(series.key.route)
        writer.key("status")
        writer.int(series.key.status)
        writer.key("requests")
        writer.int(series.requests)
        writer.key("client_errors")
        writer.int(series.clientErrors)
        writer.key("server_errors")
        writer.int(series.serverErrors)
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
        writer.key("count")
        writer.int(Int(clamping: sketch.count))
        writer.key("sum_ns")
        writer.int(Int(sketch.sumNanoseconds))
        writer.key("min_ns")
        writer.int(Int(sketch.minNanoseconds))
        writer.key("max_ns")
        writer.int(Int(sketch.maxNanoseconds))
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
        writer.key("sum")
        writer.int(Int(histogram.sumBytes))
        writer.key("counts")
        writer.beginArray()
        for count in histogram.counts { writer.int(Int(clamping: count)) }
        writer.endArray()
        writer.endObject()
    }

    static func write(_ consumer: ConsumerMetrics, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(consumer.id)
        if let name = consumer.name {
            writer.key("name")
            writer.string(name)
        }
        writer.key("requests")
        writer.number(consumer.requests)
        writer.key("client_errors")
        writer.number(consumer.clientErrors)
        writer.key("server_errors")
        writer.number(consumer.serverErrors)
        writer.endObject()
    }

    static func write(_ group: ServerErrorGroup, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("method")
        writer.string(group.method)
        writer.key("route")
        writer.string(group.route)
        writer.key("type")
        writer.string(group.type)
        writer.key("message")
        writer.string(group.message)
        if let location = group.location {
            writer.key("location")
            writer.string(location)
        }
        if !group.causes.isEmpty {
            writer.key("causes")
            writer.beginArray()
            for cause in group.causes {
                writer.beginObject()
                writer.key("type")
                writer.string(cause.type)
                writer.key("message")
                writer.string(cause.message)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.key("count")
        writer.number(group.count)
        writer.key("first_seen")
        writer.timestamp(nanosecondsSinceEpoch: group.firstSeenNanoseconds)
        writer.key("last_seen")
        writer.timestamp(nanosecondsSinceEpoch: group.lastSeenNanoseconds)
        writer.endObject()
    }

    static func write(_ group: ValidationErrorGroup, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("method")
        writer.string(group.method)
        writer.key("route")
        writer.string(group.route)
        writer.key("field")
        writer.string(group.field)
        writer.key("type")
        writer.string(group.type)
        writer.key("message")
        writer.string(group.message)
        writer.key("count")
        writer.number(group.count)
        writer.endObject()
    }

    static func writeMembers(of heartbeat: Heartbeat, into writer: inout JSONWriter) {
        writer.key("time")
        writer.timestamp(nanosecondsSinceEpoch: heartbeat.timeNanoseconds)
        writer.key("started_at")
        writer.timestamp(nanosecondsSinceEpoch: heartbeat.startedAtNanoseconds)
        writer.key("uptime_s")
        writer.number((heartbeat.uptimeSeconds * 1000).rounded() / 1000)
        if let cpu = heartbeat.cpuShare {
            writer.key("cpu")
            writer.number((cpu * 10_000).rounded() / 10_000)
        }
        if let resident = heartbeat.residentBytes {
            writer.key("resident_bytes")
            writer.int(resident)
        }
        writer.key("pipeline")
        writePipeline(heartbeat.statistics, into: &writer)
        if let discovery = heartbeat.discovery {
            writer.key("discovery")
            writer.beginObject()
            writer.key("operations")
            writer.int(discovery.operations)
            writer.key("changes")
            writer.int(discovery.changes)
            writer.key("learnt_calls")
            writer.int(discovery.learntCalls)
            writer.endObject()
        }
    }

    static func writeMembers(of startup: StartupRecord, into writer: inout JSONWriter) {
        writer.key("started_at")
        writer.timestamp(nanosecondsSinceEpoch: startup.startedAtNanoseconds)
        writer.key("routes")
        writer.beginArray()
        for route in startup.routes { writer.string(route) }
        writer.endArray()
        writer.key("swift_version")
        writer.string(startup.swiftVersion)
        writer.key("library_version")
        writer.string(startup.libraryVersion)
        writer.key("platform")
        writer.string(startup.platform)
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
            writer.key("last_export_error")
            writer.string(message)
            if let at = statistics.lastExportErrorAtNanoseconds {
                writer.key("last_export_error_at")
                writer.timestamp(nanosecondsSinceEpoch: at)
            }
        }
        writer.endObject()
    }
}
