public import FlyingFox
public import ServiceLifecycle
import Synchronization

/// A FlyingFox server as a service: on graceful shutdown it stops
/// accepting, lets the requests in flight finish (within `drainTimeout`
/// seconds) and returns.
public struct FlyingFoxServerService: Service {
    /// The server this service runs.
    public let server: HTTPServer
    /// How long the requests in flight get to finish.
    public let drainTimeout: Double

    /// A service that runs `server`.
    public init(_ server: HTTPServer, drainTimeout: Double = 3) {
        self.server = server
        self.drainTimeout = drainTimeout
    }

    /// Runs the server until graceful shutdown.
    public func run() async throws {
        let server = self.server, drainTimeout = self.drainTimeout
        let stopping = Mutex(false)
        do {
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                Task { await server.stop(timeout: drainTimeout) }
            }
        } catch  where stopping.withLock({ $0 }) {
            // Once stopped, FlyingFox ends `run()` with an error: a
            // cancellation, or `SocketError.disconnected` when connections
            // were still open. It is the stop asked for, not a failure.
        }
    }
}
