public import APIMetrics
public import Vapor
import Synchronization

/// APIMetrics in a Vapor application's lifecycle: the sender runs from
/// boot; at shutdown (SIGTERM or SIGINT under `app.execute()`) the server
/// stops taking requests and finishes the ones it has, then the library
/// flushes within `APIMetricsConfiguration.shutdownTimeout`.
///
/// ```swift
/// app.lifecycle.use(APIMetricsLifecycleHandler(metrics))
/// try await app.execute()
/// try await app.asyncShutdown()
/// ```
///
/// Vapor shuts its lifecycle handlers down before its server; this handler
/// stops the server first (Vapor's own stop later finds it stopped), so
/// that every call it served is recorded before the flush.
public final class APIMetricsLifecycleHandler: LifecycleHandler, Sendable {
    /// The library this handler runs.
    public let metrics: APIMetricsService
    private let sender = Mutex<Task<Void, Never>?>(nil)

    /// A handler that runs `metrics`.
    public init(_ metrics: APIMetricsService) {
        self.metrics = metrics
    }

    /// Starts the background sender.
    public func willBootAsync(_ application: Application) async throws {
        let metrics = metrics
        sender.withLock { task in
            guard task == nil else { return }
            task = Task { try? await metrics.run() }
        }
    }

    /// Stops the server, then flushes and waits for the sender to end.
    public func shutdownAsync(_ application: Application) async {
        await application.server.shutdown()
        await metrics.shutdown(timeout: metrics.configuration.shutdownTimeout)
        await sender.withLock { $0 }?.value
    }
}
