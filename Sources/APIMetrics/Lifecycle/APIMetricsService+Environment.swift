import Foundation

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
