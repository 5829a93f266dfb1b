/// The metrics in Prometheus's text exposition format (version 0.0.4),
/// cumulative since start as Prometheus expects:
///
/// - `http_server_request_duration_seconds` (histogram, OpenTelemetry's
///   recommended buckets), `http_server_request_body_size_bytes` and
///   `http_server_response_body_size_bytes` (histograms), labelled
///   `method`, `route`, `status`;
/// - `apimetrics_consumer_requests_total` (`consumer`), when the consumer
///   label is enabled: identified calls, weighted;
/// - the pipeline's own counters: `apimetrics_events_recorded_total`,
///   `apimetrics_events_dropped_total` by `reason`, `…_skipped_total`,
///   `…_exported_total`, `…_failed_total`, `…_rejected_total`,
///   `…_spooled_total`, `apimetrics_export_retries_total`,
///   `apimetrics_spool_events`, `apimetrics_spool_bytes`, `apimetrics_events_queued`,
///   `apimetrics_series_folded_total`, `apimetrics_methods_folded_total`,
///   `apimetrics_consumers_folded_total`, `apimetrics_uptime_seconds`;
/// - with a spec to check calls against (``DiscoveryOptions/specPath``):
///   `apimetrics_spec_calls_total` by `result` (conforming, violating,
///   unmatched), `apimetrics_spec_violations_total` by `method`, `route`
///   (the spec's path) and `rule`, and `apimetrics_spec_differences` by
///   `kind` (undocumented operations, statuses, fields; never called).
///
/// Its size is bounded whatever clients send: a series' labels are a
/// registered method or `_OTHER`, a route of at most
/// ``SeriesKey/maxRouteBytes`` and a status, so that a series takes at most
/// about 15 KB (typically 5 KB) and there are at most
/// ``MetricsOptions/maxSeries`` of them; a consumer label is at most
/// ``Consumer/maxIDBytes`` and there are at most
/// ``MetricsOptions/maxConsumers`` and the `(other consumers)` row. Under
/// the attacks these limits are for (a new method, path or consumer on
/// every request) the exposition stays under ``budgetBytes``.
enum PrometheusExposition {
    /// The byte budget of the exposition under a client's attack on
    /// cardinality; `Tests/EndToEnd/attack_cardinality.py` holds it.
    static let budgetBytes = 1 << 20

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ snapshot: MetricsSnapshot, includingConsumers: Bool, spec: SpecReport? = nil) -> String {
        var text = ""
        text.reserveCapacity(4096 + snapshot.totals.series.count * 2048)
        let series = snapshot.totals.series
        histogram(
            &text, name: "http_server_request_duration_seconds", help: "Duration of HTTP server requests.",
            bounds: PrometheusBuckets.durationSeconds.map(format), series: series,
            counts: { $0.durationBuckets }, sum: { format(Double($0.latency.sumNanoseconds) / 1e9) })
        histogram(
            &text, name: "http_server_request_body_size_bytes", help: "Size of HTTP server request bodies.",
            bounds: SizeHistogram.upperBounds.map(String.init), series: series,
            counts: { $0.requestSizes.counts }, sum: { String($0.requestSizes.sumBytes) })
        histogram(
            &text, name: "http_server_response_body_size_bytes", help: "Size of HTTP server response bodies.",
            bounds: SizeHistogram.upperBounds.map(String.init), series: series,
            counts: { $0.responseSizes.counts }, sum: { String($0.responseSizes.sumBytes) })
        if includingConsumers {
            header(
                &text, "apimetrics_consumer_requests_total", "counter",
                "Calls per consumer, from identified events with their sampling weights.")
            for consumer in snapshot.totals.consumers {
                sample(&text, "apimetrics_consumer_requests_total", [("consumer", consumer.id)], format(consumer.requests))
            }
            sample(
                &text, "apimetrics_consumer_requests_total", [("consumer", "(anonymous)")],
                format(snapshot.totals.anonymousRequests))
            sample(
                &text, "apimetrics_consumer_requests_total", [("consumer", "(unattributed)")],
                format(snapshot.totals.unattributedRequests))
            sample(
                &text, "apimetrics_consumer_requests_total", [("consumer", "(excluded)")],
                format(snapshot.totals.excludedRequests))
        }
        counter(
            &text, "apimetrics_consumers_folded_total",
            "Calls, weighted, of consumers past the consumer limit, counted as (other consumers).",
            format(snapshot.totals.foldedConsumerRequests))
        let statistics = snapshot.statistics
        counter(&text, "apimetrics_events_recorded_total", "Calls recorded (and profile updates sent).", statistics.recorded)
        header(&text, "apimetrics_events_dropped_total", "counter", "Events lost before any exporter saw them, by reason.")
        sample(&text, "apimetrics_events_dropped_total", [("reason", "queue_full")], String(statistics.droppedQueueFull))
        sample(&text, "apimetrics_events_dropped_total", [("reason", "shed")], String(statistics.droppedShed))
        sample(&text, "apimetrics_events_dropped_total", [("reason", "processing")], String(statistics.droppedProcessing))
        sample(&text, "apimetrics_events_dropped_total", [("reason", "spool_full")], String(statistics.droppedSpoolFull))
        counter(
            &text, "apimetrics_events_skipped_total", "Calls left out of the logs on purpose (still counted in the metrics).",
            statistics.skipped)
        counter(&text, "apimetrics_events_exported_total", "Event deliveries exporters accepted.", statistics.exported)
        counter(&text, "apimetrics_events_failed_total", "Event deliveries given up.", statistics.failed)
        counter(
            &text, "apimetrics_alerts_lost_total", "Alert transitions given up by an exporter and not kept in the spool.",
            statistics.alertsLost)
        counter(
            &text, "apimetrics_events_sampled_out_total", "Of the skipped calls, those sampling left out.", statistics.sampledOut)
        counter(
            &text, "apimetrics_events_rejected_total", "Items a collector took the request for but refused.", statistics.rejected)
        counter(
            &text, "apimetrics_events_destination_left_out_total",
            "Event deliveries a destination's own rules left out (its sampling, its required fields).",
            statistics.destinationLeftOut)
        counter(
            &text, "apimetrics_events_destination_paused_total",
            "Event deliveries not made while a destination asked for a pause.", statistics.destinationPaused)
        counter(&text, "apimetrics_export_retries_total", "Attempts after a batch's first.", statistics.retried)
        counter(&text, "apimetrics_events_spooled_total", "Events written to the disk spool.", statistics.spooled)
        header(&text, "apimetrics_spool_events", "gauge", "Events waiting in the disk spool.")
        sample(&text, "apimetrics_spool_events", [], String(statistics.spoolPending))
        header(&text, "apimetrics_spool_bytes", "gauge", "The disk spool's size.")
        sample(&text, "apimetrics_spool_bytes", [], String(statistics.spoolBytes))
        counter(
            &text, "apimetrics_series_folded_total", "Calls counted in the (other) route past the series limit.",
            snapshot.totals.foldedRequests)
        counter(
            &text, "apimetrics_methods_folded_total", "Calls whose method is not a registered HTTP method, counted as _OTHER.",
            snapshot.totals.otherMethodRequests)
        header(&text, "apimetrics_events_queued", "gauge", "Events waiting in the queue.")
        sample(&text, "apimetrics_events_queued", [], String(statistics.queued))
        header(&text, "apimetrics_uptime_seconds", "gauge", "Seconds since recording started.")
        sample(&text, "apimetrics_uptime_seconds", [], format(snapshot.uptimeSeconds))
        if let spec { write(spec, into: &text) }
        return text
    }

    /// The spec check's counters: calls by result, broken rules by
    /// operation (at most ``SpecConformance/maxFindings`` places summed),
    /// differences by kind.
    private static func write(_ spec: SpecReport, into text: inout String) {
        if let totals = spec.totals {
            header(&text, "apimetrics_spec_calls_total", "counter", "Calls checked against your OpenAPI spec, by result.")
            sample(&text, "apimetrics_spec_calls_total", [("result", "conforming")], String(totals.conforming))
            sample(&text, "apimetrics_spec_calls_total", [("result", "violating")], String(totals.violating))
            sample(&text, "apimetrics_spec_calls_total", [("result", "unmatched")], String(totals.unmatched))
        }
        header(
            &text, "apimetrics_spec_violations_total", "counter",
            "Rules of your OpenAPI spec broken, by operation and rule (each place a call broke it counts).")
        var byRule: [[String]: Int] = [:]
        for finding in spec.findings {
            byRule[[finding.key.method, finding.key.path, finding.key.rule], default: 0] += finding.finding.count
        }
        for (key, count) in byRule.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            sample(
                &text, "apimetrics_spec_violations_total", [("method", key[0]), ("route", key[1]), ("rule", key[2])],
                String(count))
        }
        header(
            &text, "apimetrics_spec_differences", "gauge",
            "Differences between the API learnt from the traffic and your OpenAPI spec, by kind.")
        var byKind: [String: Int] = [:]
        for entry in spec.differences { byKind[entry.kind.rawValue, default: 0] += 1 }
        for kind in SpecDiff.Entry.Kind.allCases {
            sample(&text, "apimetrics_spec_differences", [("kind", kind.rawValue)], String(byKind[kind.rawValue] ?? 0))
        }
    }

    private static func histogram(
        _ text: inout String, name: String, help: String, bounds: [String], series: [SeriesMetrics],
        counts: (SeriesMetrics) -> [UInt64], sum: (SeriesMetrics) -> String
    ) {
        header(&text, name, "histogram", help)
        for one in series {
            let labels = [("method", one.key.method), ("route", one.key.route), ("status", String(one.key.status))]
            var cumulative: UInt64 = 0
            let perBucket = counts(one)
            for (index, bound) in bounds.enumerated() {
                cumulative &+= index < perBucket.count ? perBucket[index] : 0
                sample(&text, name + "_bucket", labels + [("le", bound)], String(cumulative))
            }
            cumulative &+= perBucket.count > bounds.count ? perBucket[bounds.count] : 0
            sample(&text, name + "_bucket", labels + [("le", "+Inf")], String(cumulative))
            sample(&text, name + "_sum", labels, sum(one))
            sample(&text, name + "_count", labels, String(cumulative))
        }
    }

    private static func counter(_ text: inout String, _ name: String, _ help: String, _ value: Int) {
        counter(&text, name, help, String(value))
    }

    private static func counter(_ text: inout String, _ name: String, _ help: String, _ value: String) {
        header(&text, name, "counter", help)
        sample(&text, name, [], value)
    }

    private static func header(_ text: inout String, _ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    private static func sample(_ text: inout String, _ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, (label, labelValue)) in labels.enumerated() {
                if index > 0 { text += "," }
                text += label
                text += "=\""
                text += escapeLabel(labelValue)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += value
        text += "\n"
    }

    /// A number as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, or decimal.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return value.description
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabel(_ value: String) -> String {
        escape(value, quotes: true)
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ value: String) -> String {
        escape(value, quotes: false)
    }

    private static func escape(_ value: String, quotes: Bool) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 0x0A || (quotes && $0 == UInt8(ascii: "\"")) })
        else {
            return value
        }
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"" where quotes: escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
