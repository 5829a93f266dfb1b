public import APIMetrics
public import ServiceLifecycle

/// APIMetrics as a service of swift-service-lifecycle: runs the sender
/// beside the server and, on graceful shutdown (SIGTERM), stops intake,
/// flushes within `APIMetricsConfiguration.shutdownTimeout`
/// and returns.
///
/// Put it before the server's own service, so that the server stops first
/// (a service group shuts down in reverse order) and every call it served
/// is flushed. With Hummingbird:
///
/// ```swift
/// var app = Application(router: router)
/// app.addServices(APIMetricsLifecycleService(metrics))
/// try await app.runService()
/// ```
///
/// With FlyingFox, in a `ServiceGroup` of its own:
///
/// ```swift
/// let group = ServiceGroup(
///     services: [APIMetricsLifecycleService(metrics), FlyingFoxServerService(server)],
///     gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// One file shared by both packages (Examples/Shared).
public struct APIMetricsLifecycleService: Service {
    /// The library this service runs.
    public let metrics: APIMetricsService

    /// A service that runs `metrics`.
    public init(_ metrics: APIMetricsService) {
        self.metrics = metrics
    }

    /// Runs the sender until graceful shutdown or cancellation, then
    /// flushes and returns.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await metrics.run()
        }
    }
}
