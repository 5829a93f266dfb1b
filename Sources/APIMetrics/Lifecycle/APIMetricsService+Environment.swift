public import Foundation

extension APIMetricsService {
    /// The shortest setup: a service named `service`, consumers identified
    /// by `identifyConsumer`, the view as `view` says, and everything else
    /// from the `APIMETRICS_*` and `OTEL_*` variables (which also override
    /// these three), as ``APIMetricsConfiguration/fromEnvironment(_:base:)``
    /// reads them: with none set, calls go to the local store
    /// (`apimetrics.sqlite` in the working directory).
    ///
    /// ```swift
    /// let metrics = try APIMetricsService(
    ///     service: "orders-api", identifyConsumer: .firstMatch([.jwtClaim("sub"), .apiKey(header: "x-api-key")]),
    ///     view: .dashboardAndPrometheus)
    /// ```
    ///
    /// - Parameters:
    ///   - service: the service's name, written in every event, unless a
    ///     variable (`APIMETRICS_SERVICE`, `OTEL_SERVICE_NAME`) names
    ///     another.
    ///   - identifyConsumer: names the consumer behind each request; `nil`
    ///     (the default) leaves calls anonymous unless the server names the
    ///     consumer itself.
    ///   - view: the metrics' local view; off by default.
    ///   - environment: the variables read; the process's own by default.
    /// - Throws: ``ConfigurationError`` naming the variable or field that cannot be used.
    public convenience init(
        service: String, identifyConsumer: ConsumerIdentifier? = nil, view: LocalViewOptions = .off,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) {
        var base = APIMetricsConfiguration.default
        base.service = service
        base.identifyConsumer = identifyConsumer
        base.view = view
        try self.init(configuration: .fromEnvironment(environment, base: base))
    }
}
