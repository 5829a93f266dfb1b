import APIMetrics
import Vapor

extension APIMetricsMiddleware {
    /// The view's answer when the request is for one of its paths (and that
    /// part is on), before anything is recorded: the view never records
    /// itself. `nil` for every other request, after a check of the path's
    /// first bytes.
    func viewResponse(to request: Request) async -> Response? {
        guard let view else { return nil }
        let path = request.url.path
        guard view.serves(path: path) else {
            return nil
        }
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
