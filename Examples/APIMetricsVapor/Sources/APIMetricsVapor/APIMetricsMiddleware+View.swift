import APIMetrics
import Vapor

extension APIMetricsMiddleware {
    /// The view's answer to a request for one of its paths (which `view`
    /// serves: the caller checks, without an `await`), before anything is
    /// recorded: the view never records itself. `nil` when that part of the
    /// view is off.
    func viewResponse(to request: Request, view: MetricsView) async -> Response? {
        guard
            let answer = await view.respond(
                method: request.method.rawValue, target: request.url.string,
                headers: HeaderFields(request.headers, name: \.name, value: \.value),
                peerAddress: request.remoteAddress?.ipAddress)
        else {
            return nil
        }
        var headers = HTTPHeaders()
        for field in answer.headers.fields { headers.add(name: field.name, value: field.value) }
        return Response(
            status: HTTPResponseStatus(statusCode: answer.status), headers: headers,
            body: .init(buffer: ByteBuffer(bytes: answer.body)))
    }
}
