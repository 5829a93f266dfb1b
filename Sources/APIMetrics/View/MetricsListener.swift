internal import SocketServer

/// The view's own listener, for servers that cannot mount ``MetricsView``
/// in their router: a small HTTP/1.1 server on its own threads, bound to
/// ``LocalViewOptions/address``, that answers the view's paths and 404
/// for anything else.
final class MetricsListener: Sendable {
    private let server: SocketHTTPServer
    /// The bound port (the one picked, for port 0).
    let port: UInt16

    init(address: HostAndPort, view: MetricsView) throws(ConfigurationError) {
        let server = SocketHTTPServer(host: address.host, port: address.port) { request, writer in
            let authorization = request.header("authorization")
            let answer = view.response(method: request.method, target: request.target, authorization: authorization)
                ?? ServerResponse(status: 404, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array("not found\n".utf8))
            writer.write(SocketResponse(
                status: answer.status, headers: answer.headers.map { (String($0.name), String($0.value)) }, body: answer.body))
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
