/// What the view shows, read once per request: the totals since start
/// (the current window included), the pipeline's counters, who is running.
struct MetricsSnapshot: Sendable {
    /// One endpoint: a method and route, every status together.
    struct Endpoint: Sendable {
        var method: String
        var route: String
        var requests: Int
        var clientErrors: Int
        var serverErrors: Int
        var latency: LatencySketch
        var requestSizes: SizeHistogram
        var responseSizes: SizeHistogram
        var statuses: [(status: Int, requests: Int)]

        func percentileMilliseconds(_ quantile: Double) -> Double {
            ((latency.percentile(quantile) ?? 0) / 1_000).rounded() / 1_000
        }
    }

    var identity: ServiceIdentity
    var totals: Aggregator.Totals
    var statistics: Statistics
    var nowNanoseconds: Int64

    var uptimeSeconds: Double {
        Double(max(0, nowNanoseconds - totals.startedAtNanoseconds)) / 1e9
    }

    /// The series grouped per method and route, busiest first.
    var endpoints: [Endpoint] {
        var byRoute: [[String]: Endpoint] = [:]
        var order: [[String]] = []
        for series in totals.series {
            let key = [series.key.method, series.key.route]
            if byRoute[key] == nil {
                order.append(key)
                byRoute[key] = Endpoint(
                    method: series.key.method, route: series.key.route, requests: 0, clientErrors: 0, serverErrors: 0,
                    latency: LatencySketch(), requestSizes: SizeHistogram(), responseSizes: SizeHistogram(), statuses: [])
            }
            byRoute[key]?.requests += series.requests
            byRoute[key]?.clientErrors += series.clientErrors
            byRoute[key]?.serverErrors += series.serverErrors
            byRoute[key]?.latency.merge(series.latency)
            byRoute[key]?.requestSizes.merge(series.requestSizes)
            byRoute[key]?.responseSizes.merge(series.responseSizes)
            byRoute[key]?.statuses.append((series.key.status, series.requests))
        }
        return order.compactMap { byRoute[$0] }.sorted {
            $0.requests != $1.requests ? $0.requests > $1.requests : ($0.route, $0.method) < ($1.route, $1.method)
        }
    }
}
