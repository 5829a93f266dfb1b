public import FlyingFox
public import ServiceLifecycle
import Synchronization

/// A FlyingFox server as a service: on graceful shutdown it stops
/// accepting, lets the requests in flight finish (within `drainTimeout`)
/// and returns.
public struct FlyingFoxServerService: Service {
    /// The server this service runs.
    public let server: HTTPServer
    /// How long the requests in flight get to finish.
    public let drainTimeout: Duration

    /// A service that runs `server`.
    ///
    /// - Parameters:
    ///   - server: The FlyingFox server to run.
    ///   - drainTimeout: How long the requests in flight get to finish
    ///     once graceful shutdown begins; 3 seconds by default.
    public init(_ server: HTTPServer, drainTimeout: Duration = .seconds(3)) {
        self.server = server
        self.drainTimeout = drainTimeout
    }

    /// Runs the server until graceful shutdown.
    public func run() async throws {
        let server = self.server
        // FlyingFox takes seconds.
        let drainSeconds = Double(drainTimeout.components.seconds) + Double(drainTimeout.components.attoseconds) / 1e18
        let stopping = Mutex(false)
        do {
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                Task { await server.stop(timeout: drainSeconds) }
            }
        } catch  where stopping.withLock({ $0 }) {
            // Once stopped, FlyingFox ends `run()` with an error: a
            // cancellation, or `SocketError.disconnected` when connections
            // were still open. It is the stop asked for, not a failure.
        }
    }
}
