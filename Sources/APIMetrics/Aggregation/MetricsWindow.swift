/// The metrics of one window of time (delta temporality): what happened
/// between ``startNanoseconds`` and ``endNanoseconds``, delivered to every
/// exporter once per ``MetricsOptions/interval``.
///
/// The series count every call the recorder saw, whatever became of its
/// event (shed, dropped from a full queue, sampled out, filtered out of the
/// logs). Consumers, server errors and validation errors come from the
/// events that reached identification, with their sampling weights; calls
/// left out of the logs on purpose by an exclusion are ``excludedRequests``;
/// calls whose event did not reach identification (dropped, or still queued
/// at the window's end) are ``unattributedRequests``.
public struct MetricsWindow: Sendable {
    /// When the window began, in nanoseconds since the Unix epoch.
    public var startNanoseconds: Int64
    /// When it ended.
    public var endNanoseconds: Int64
    /// Every series with calls in the window, by route, method and status.
    public var series: [SeriesMetrics]
    /// The consumers identified in the window, most calls first; past
    /// ``MetricsOptions/maxConsumers``, one row with the id
    /// ``ConsumerMetrics/otherConsumersID`` counts the rest.
    public var consumers: [ConsumerMetrics]
    /// Identified calls with no consumer, weighted.
    public var anonymousRequests: Double
    /// The window's calls not attributed to a consumer, to
    /// ``anonymousRequests`` or to ``excludedRequests``: their events were
    /// dropped, or are not yet identified. Consumers + anonymous + excluded +
    /// unattributed = the series' total,
    /// unless events of an earlier window were identified in this one (the
    /// figure is then 0, not negative). Over many windows, take every call
    /// less the consumers' and anonymous ones.
    public var unattributedRequests: Double
    /// The window's calls left out of the logs on purpose by an exclusion
    /// (``EventFilterOptions/excludedPaths``, user agents, hosts: health
    /// checks, probes, `/metrics`); sampled-out calls are not among them
    /// (the calls logged carry their weight).
    public var excludedRequests: Double
    /// Server errors seen in the window, grouped.
    public var serverErrors: [ServerErrorGroup]
    /// Validation errors seen in the window, grouped.
    public var validationErrors: [ValidationErrorGroup]
    /// Calls counted in ``SeriesKey/otherRoute`` because the series limit
    /// was reached.
    public var foldedRequests: Int
    /// Calls whose method is not in the IANA HTTP Method Registry, counted
    /// as ``SeriesKey/otherMethod``.
    public var otherMethodRequests: Int
    /// Calls, weighted, of consumers past ``MetricsOptions/maxConsumers``,
    /// counted in the ``ConsumerMetrics/otherConsumersID`` row.
    public var foldedConsumerRequests: Double
    /// Whether this is the last window, cut short at shutdown.
    public var isFinal: Bool

    /// Creates a window.
    ///
    /// - Parameters:
    ///   - startNanoseconds: when the window began, in nanoseconds since the
    ///     Unix epoch.
    ///   - endNanoseconds: when it ended, in nanoseconds since the Unix
    ///     epoch.
    ///   - series: every series with calls in the window; none by default.
    ///   - consumers: the consumers identified in the window, most calls
    ///     first.
    ///   - anonymousRequests: identified calls with no consumer, weighted.
    ///   - unattributedRequests: the window's calls not attributed to a
    ///     consumer, to `anonymousRequests` or to `excludedRequests`.
    ///   - excludedRequests: the window's calls left out of the logs on
    ///     purpose by an exclusion.
    ///   - serverErrors: server errors seen in the window, grouped.
    ///   - validationErrors: validation errors seen in the window, grouped.
    ///   - foldedRequests: calls counted in ``SeriesKey/otherRoute`` because
    ///     the series limit was reached.
    ///   - otherMethodRequests: calls whose method is not in the IANA HTTP
    ///     Method Registry, counted as ``SeriesKey/otherMethod``.
    ///   - foldedConsumerRequests: calls, weighted, of consumers past
    ///     ``MetricsOptions/maxConsumers``.
    ///   - isFinal: whether this is the last window, cut short at shutdown;
    ///     `false` by default.
    public init(
        startNanoseconds: Int64, endNanoseconds: Int64, series: [SeriesMetrics] = [],
        consumers: [ConsumerMetrics] = [], anonymousRequests: Double = 0, unattributedRequests: Double = 0,
        excludedRequests: Double = 0, serverErrors: [ServerErrorGroup] = [], validationErrors: [ValidationErrorGroup] = [],
        foldedRequests: Int = 0, otherMethodRequests: Int = 0, foldedConsumerRequests: Double = 0,
        isFinal: Bool = false
    ) {
        self.otherMethodRequests = otherMethodRequests
        self.foldedConsumerRequests = foldedConsumerRequests
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.series = series
        self.consumers = consumers
        self.anonymousRequests = anonymousRequests
        self.unattributedRequests = unattributedRequests
        self.excludedRequests = excludedRequests
        self.serverErrors = serverErrors
        self.validationErrors = validationErrors
        self.foldedRequests = foldedRequests
        self.isFinal = isFinal
    }

    /// Every call in the window.
    public var requests: Int { series.reduce(0) { $0 + $1.requests } }
}
