import APIMetrics
import FlyingFox
import Foundation

extension APIMetricsHandler {
    /// The view's answer to a request for one of its paths (which `view`
    /// serves: the caller checks, without an `await`), before anything is
    /// recorded: the view never records itself. `nil` when that part of the
    /// view is off.
    func viewResponse(to request: HTTPRequest, view: MetricsView) async -> HTTPResponse? {
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
