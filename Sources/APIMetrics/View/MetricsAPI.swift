/// The view's JSON (`/_apimetrics/api`): what the dashboard shows, since start.
///
/// Bounded whatever the traffic: every list and every text in it has a
/// limit (``limits``), so that an answer stays under about 1 MB with the
/// default limits. What was folded to stay there is counted: `folded`
/// (calls past the series limit), `folded_methods` (calls counted as
/// `_OTHER`), `folded_consumers` (calls of consumers past the consumer
/// limit, in the `(other consumers)` row); the limits themselves are
/// under `limits`.
///
/// ```json
/// {"service":"orders-api","env":"prod","started_at":"…","uptime_s":3600.5,"requests":1200,
///  "endpoints":[{"method":"GET","route":"/orders/{id}","requests":900,"client_errors":12,
///                "server_errors":3,"p50_ms":4.1,"p95_ms":18.2,"p99_ms":40.9,"mean_ms":6.0,
///                "mean_request_bytes":0,"mean_response_bytes":512,"statuses":{"200":885,…}}],
///  "consumers":[{"id":"acme","requests":700,…}],"anonymous":0,"unattributed":500,
///  "server_errors":[…],"validation_errors":[…],"timeline":[…],"recent":[…],"pipeline":{…}}
/// ```
enum MetricsAPI {
    static func render(_ snapshot: MetricsSnapshot) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        snapshot.identity.writeFields(into: &writer, includingEventFields: false)
        writer.field("started_at", timestamp: snapshot.totals.startedAtNanoseconds)
        writer.field("uptime_s", (snapshot.uptimeSeconds * 1000).rounded() / 1000)
        writer.field("requests", snapshot.totals.requests)
        writer.key("endpoints")
        writer.beginArray()
        for endpoint in snapshot.endpoints { write(endpoint, into: &writer) }
        writer.endArray()
        writer.key("consumers")
        writer.beginArray()
        for consumer in snapshot.totals.consumers { MetricsJSON.write(consumer, into: &writer) }
        writer.endArray()
        writer.field("anonymous", snapshot.totals.anonymousRequests)
        writer.field("unattributed", snapshot.totals.unattributedRequests)
        writer.field("excluded", snapshot.totals.excludedRequests)
        writer.field("folded", snapshot.totals.foldedRequests)
        writer.field("folded_methods", snapshot.totals.otherMethodRequests)
        writer.field("folded_consumers", snapshot.totals.foldedConsumerRequests)
        writer.key("server_errors")
        writer.beginArray()
        for group in snapshot.totals.serverErrors.prefix(maxListedGroups) { MetricsJSON.write(group, into: &writer) }
        writer.endArray()
        writer.key("validation_errors")
        writer.beginArray()
        for group in snapshot.totals.validationErrors.prefix(maxListedGroups) { MetricsJSON.write(group, into: &writer) }
        writer.endArray()
        writer.key("limits")
        writeLimits(snapshot.totals.limits, into: &writer)
        writer.key("timeline")
        writer.beginArray()
        for window in snapshot.totals.windows {
            writer.beginObject()
            writer.field("start", timestamp: window.startNanoseconds)
            writer.field("end", timestamp: window.endNanoseconds)
            writer.field("requests", window.requests)
            writer.field("client_errors", window.clientErrors)
            writer.field("server_errors", window.serverErrors)
            writer.endObject()
        }
        writer.endArray()
        writer.key("recent")
        writer.beginArray()
        for call in snapshot.totals.recentCalls.reversed() {
            writer.beginObject()
            writer.field("time", timestamp: call.timeNanoseconds)
            writer.field("method", call.method)
            writer.field("url", call.target)
            writer.field("route", call.route)
            writer.field("status", call.status)
            writer.key("duration_ms")
            writer.milliseconds(fromNanoseconds: call.durationNanoseconds)
            writer.field("consumer", call.consumer)
            writer.endObject()
        }
        writer.endArray()
        writer.key("pipeline")
        MetricsJSON.writePipeline(snapshot.statistics, into: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// The most error groups of each kind listed, busiest first (a server
    /// error group can hold about 5 KB of texts and causes).
    static let maxListedGroups = 50

    /// The byte budget of an answer under the attacks the limits are for
    /// (a method, a path or a consumer per request): the end-to-end check
    /// (`Tests/EndToEnd/attack_cardinality.py`) holds it.
    static let budgetBytes = 1 << 20

    private static func writeLimits(_ limits: Aggregator.Options, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("max_series", limits.maxSeries)
        writer.field("max_consumers", limits.maxConsumers)
        writer.field("max_groups", limits.maxGroups)
        writer.field("max_listed_groups", maxListedGroups)
        writer.field("max_route_bytes", SeriesKey.maxRouteBytes)
        writer.field("max_method_bytes", HTTPMethods.maxRecordedBytes)
        writer.field("max_target_bytes", URLTarget.maxRecordedBytes)
        writer.field("budget_bytes", budgetBytes)
        writer.endObject()
    }

    private static func write(_ endpoint: MetricsSnapshot.Endpoint, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("method", endpoint.method)
        writer.field("route", endpoint.route)
        writer.field("requests", endpoint.requests)
        writer.field("client_errors", endpoint.clientErrors)
        writer.field("server_errors", endpoint.serverErrors)
        for (name, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] as [(StaticString, Double)] {
            writer.key(name)
            writer.number(endpoint.percentileMilliseconds(quantile))
        }
        writer.field("mean_ms", (((endpoint.latency.meanNanoseconds ?? 0) / 1_000).rounded()) / 1_000)
        writer.field("mean_request_bytes", (endpoint.requestSizes.meanBytes ?? 0).rounded())
        writer.field("mean_response_bytes", (endpoint.responseSizes.meanBytes ?? 0).rounded())
        writer.key("statuses")
        writer.beginObject()
        for (status, requests) in endpoint.statuses.sorted(by: { $0.status < $1.status }) {
            writer.key(escaping: String(status))
            writer.int(requests)
        }
        writer.endObject()
        writer.endObject()
    }
}
