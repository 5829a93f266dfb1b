/// What the aggregator hands to its readers: the totals since start, the
/// recent windows and calls.
extension Aggregator {
    /// The calls of one past window, for the chart.
    struct WindowTotals: Sendable {
        var startNanoseconds: Int64
        var endNanoseconds: Int64
        var requests: Int
        var clientErrors: Int
        var serverErrors: Int
    }

    /// A processed call as the logs have it (redacted), for the recent list.
    struct RecentCall: Sendable {
        var timeNanoseconds: Int64
        var method: String
        var target: String
        var route: String?
        var status: Int
        var durationNanoseconds: Int64
        var consumer: String?

        /// The most bytes of a target the recent list keeps.
        static let maxTargetBytes = 1_024
    }

    /// Everything since start, with the current window's counts so far.
    struct Totals: Sendable {
        var startedAtNanoseconds: Int64
        var series: [SeriesMetrics]
        /// Most calls first; the ``ConsumerMetrics/otherConsumersID`` row
        /// among them when consumers were folded.
        var consumers: [ConsumerMetrics]
        var anonymousRequests: Double
        var unattributedRequests: Double
        /// Calls left out of the logs on purpose by an exclusion (health
        /// checks, probes, the view): counted in the series, never attributed.
        var excludedRequests: Double
        var serverErrors: [ServerErrorGroup]
        var validationErrors: [ValidationErrorGroup]
        /// Calls counted in ``SeriesKey/otherRoute`` past the series limit.
        var foldedRequests: Int
        /// Calls whose method was counted as ``SeriesKey/otherMethod``.
        var otherMethodRequests: Int
        /// Calls, weighted, of consumers past the consumer limit.
        var foldedConsumerRequests: Double
        /// The limits the folds above follow, to show beside them.
        var limits: Options
        var windows: [WindowTotals]
        var recentCalls: [RecentCall]

        var requests: Int { series.reduce(0) { $0 + $1.requests } }
    }
}
