import APIMetrics
import FlyingFox
import Foundation

extension APIMetricsHandler {
    /// The view's answer when the request is for one of its paths (and that
    /// part is on), before anything is recorded: the view never records
    /// itself. `nil` for every other request, after a check of the path's
    /// first bytes.
    func viewResponse(to request: HTTPRequest) async -> HTTPResponse? {
        guard let view else { return nil }
        let path = request.path
        guard view.serves(path: path) else {
            return nil
        }
        guard
            let answer = await view.respond(
                method: request.method.rawValue, target: request.target.rawValue,
                headers: HeaderFields(request.headers, name: \.key.rawValue, value: \.value),
                peerAddress: request.remoteAddress.flatMap(Self.address))
        else {
            return nil
        }
        var headers = HTTPHeaders()
        for field in answer.headers.fields { headers.addValue(field.value, for: HTTPHeader(field.name)) }
        return HTTPResponse(statusCode: HTTPStatusCode(answer.status, phrase: ""), headers: headers, body: Data(answer.body))
    }
}
