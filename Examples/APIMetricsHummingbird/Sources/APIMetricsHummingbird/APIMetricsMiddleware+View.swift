import APIMetrics
import HTTPTypes
public import Hummingbird
public import NIOCore

extension APIMetricsMiddleware {
    /// The view's answer to a request for one of its paths (`target`, which
    /// `view` serves), before anything is recorded: the view never records
    /// itself. `nil` when that part of the view is off.
    func viewResponse(to request: Request, target: String, view: MetricsView, context: Context) async -> Response? {
        var fields = HeaderFields(request.headers, name: \.name.rawName, value: \.value)
        if let authority = request.head.authority { fields.append(name: "Host", value: authority) }
        guard
            let answer = await view.respond(
                method: request.method.rawValue, target: target, headers: fields, peerAddress: clientAddress(context))
        else { return nil }
        var headers = HTTPFields()
        for field in answer.headers.fields {
            if let name = HTTPField.Name(field.name) { headers.append(HTTPField(name: name, value: field.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// A request context that knows the client's address, so that the
/// middleware records it and the view can tell this machine from others:
/// Hummingbird's `BasicRequestContext` with the channel's remote address.
///
/// ```swift
/// let router = Router(context: APIMetricsRequestContext.self)
/// ```
public struct APIMetricsRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's storage for the context.
    public var coreContext: CoreRequestContextStorage
    /// The peer's address.
    public let remoteAddress: SocketAddress?

    /// The context of one request on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
