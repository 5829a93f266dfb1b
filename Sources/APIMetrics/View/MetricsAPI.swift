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
        writer.key("started_at")
        writer.timestamp(nanosecondsSinceEpoch: snapshot.totals.startedAtNanoseconds)
        writer.key("uptime_s")
        writer.number((snapshot.uptimeSeconds * 1000).rounded() / 1000)
        writer.key("requests")
        writer.int(snapshot.totals.requests)
        writer.key("endpoints")
        writer.beginArray()
        for endpoint in snapshot.endpoints { write(endpoint, into: &writer) }
        writer.endArray()
        writer.key("consumers")
        writer.beginArray()
        for consumer in snapshot.totals.consumers { MetricsJSON.write(consumer, into: &writer) }
        writer.endArray()
        writer.key("anonymous")
        writer.number(snapshot.totals.anonymousRequests)
        writer.key("unattributed")
        writer.number(snapshot.totals.unattributedRequests)
        writer.key("excluded")
        writer.number(snapshot.totals.excludedRequests)
        writer.key("folded")
        writer.int(snapshot.totals.foldedRequests)
        writer.key("folded_methods")
        writer.int(snapshot.totals.otherMethodRequests)
        writer.key("folded_consumers")
        writer.number(snapshot.totals.foldedConsumerRequests)
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
            writer.key("start")
            writer.timestamp(nanosecondsSinceEpoch: window.startNanoseconds)
            writer.key("end")
            writer.timestamp(nanosecondsSinceEpoch: window.endNanoseconds)
            writer.key("requests")
            writer.int(window.requests)
            writer.key("client_errors")
            writer.int(window.clientErrors)
            writer.key("server_errors")
            writer.int(window.serverErrors)
            writer.endObject()
        }
        writer.endArray()
        writer.key("recent")
        writer.beginArray()
        for call in snapshot.totals.recentCalls.reversed() {
            writer.beginObject()
            writer.key("time")
            writer.timestamp(nanosecondsSinceEpoch: call.timeNanoseconds)
            writer.key("method")
            writer.string(call.method)
            writer.key("url")
            writer.string(call.target)
            if let route = call.route {
                writer.key("route")
                writer.string(route)
            }
            writer.key("status")
            writer.int(call.status)
            writer.key("duration_ms")
            writer.milliseconds(fromNanoseconds: call.durationNanoseconds)
            if let consumer = call.consumer {
                writer.key("consumer")
                writer.string(consumer)
            }
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
        writer.key("max_series")
        writer.int(limits.maxSeries)
        writer.key("max_consumers")
        writer.int(limits.maxConsumers)
        writer.key("max_groups")
        writer.int(limits.maxGroups)
        writer.key("max_listed_groups")
        writer.int(maxListedGroups)
        writer.key("max_route_bytes")
        writer.int(SeriesKey.maxRouteBytes)
        writer.key("max_method_bytes")
        writer.int(HTTPMethods.maxRecordedBytes)
        writer.key("max_target_bytes")
        writer.int(URLTarget.maxRecordedBytes)
        writer.key("budget_bytes")
        writer.int(budgetBytes)
        writer.endObject()
    }

    private static func write(_ endpoint: MetricsSnapshot.Endpoint, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("method")
        writer.string(endpoint.method)
        writer.key("route")
        writer.string(endpoint.route)
        writer.key("requests")
        writer.int(endpoint.requests)
        writer.key("client_errors")
        writer.int(endpoint.clientErrors)
        writer.key("server_errors")
        writer.int(endpoint.serverErrors)
        for (name, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] as [(StaticString, Double)] {
            writer.key(name)
            writer.number(endpoint.percentileMilliseconds(quantile))
        }
        writer.key("mean_ms")
        writer.number((((endpoint.latency.meanNanoseconds ?? 0) / 1_000).rounded()) / 1_000)
        writer.key("mean_request_bytes")
        writer.number((endpoint.requestSizes.meanBytes ?? 0).rounded())
        writer.key("mean_response_bytes")
        writer.number((endpoint.responseSizes.meanBytes ?? 0).rounded())
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
