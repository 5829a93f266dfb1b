internal import SocketServer

/// The view's own listener, for servers that cannot mount ``MetricsView``
/// in their router: a small HTTP/1.1 server on its own threads, bound to
/// ``LocalViewOptions/address``, that answers the view's paths and 404
/// for anything else.
final class MetricsListener: Sendable {
    private let server: SocketHTTPServer
    /// The bound port (the one picked, for port 0).
    let port: UInt16

    /// - Parameter maxConnections: `nil` for the server's default (a
    ///   quarter of the open-file limit).
    init(address: HostAndPort, view: MetricsView, maxConnections: Int? = nil) throws(ConfigurationError) {
        // Scrapers come back every few seconds; an idle connection waits
        // 5 s, so that idle ones give way quickly.
        let limits = SocketServerLimits(
            maxConnections: maxConnections ?? SocketServerLimits.defaultMaxConnections(), idleTimeout: .seconds(5))
        // Every answer is made from the head alone: a body is never read, so
        // a client cannot make the listener hold one before it is refused.
        let answer: SocketHTTPServer.HeadHandler = { request, writer in
            let answer =
                view.response(
                    method: request.method, target: request.target, headers: HeaderFields(request.headers),
                    peerAddress: request.clientAddress)
                ?? view.text(404, "not found\n", extra: [])
            writer.write(
                SocketResponse(
                    status: answer.status, headers: answer.headers.map { (String($0.name), String($0.value)) }, body: answer.body)
            )
        }
        let server = SocketHTTPServer(host: address.host, port: address.port, limits: limits, headHandler: answer) { _, writer in
            // Not reached: the head handler answers every request.
            writer.write(.json(500, #"{"error":"no response"}"#))
        }
        do {
            port = try server.start()
        } catch {
            throw ConfigurationError(field: "view.address", reason: "cannot listen on \(address.host):\(address.port): \(error)")
        }
        self.server = server
    }

    func stop() {
        server.stop()
    }
}
