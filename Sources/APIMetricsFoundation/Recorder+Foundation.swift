public import APIMetrics
public import Foundation
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

extension HeaderFields {
    /// The fields of a `URLRequest`.
    public init(_ request: URLRequest) {
        self.init()
        for (name, value) in (request.allHTTPHeaderFields ?? [:]).sorted(by: { $0.key < $1.key }) {
            append(name: name, value: value)
        }
    }

    /// The fields of an `HTTPURLResponse`.
    public init(_ response: HTTPURLResponse) {
        self.init()
        for (name, value) in response.allHeaderFields {
            append(name: String(describing: name), value: String(describing: value))
        }
    }
}

extension RequestHead {
    /// The head of a `URLRequest`; the target is the whole URL for outgoing
    /// calls, or its path and query for requests a server received.
    ///
    /// - Parameters:
    ///   - request: the request; its method (`GET` when it has none), URL and
    ///     header fields are read.
    ///   - direction: `.outgoing` (the default) for a call made, whose target
    ///     is the whole URL; `.incoming` for a request a server received,
    ///     whose target is the URL's path and query.
    ///   - route: the route template that matched; `nil` (the default) when
    ///     unknown.
    ///   - clientAddress: the client's address; `nil` (the default) when
    ///     unknown.
    public init(
        _ request: URLRequest, direction: ExchangeDirection = .outgoing, route: String? = nil, clientAddress: String? = nil
    ) {
        let url = request.url
        let target: String
        if direction == .outgoing {
            target = url?.absoluteString ?? ""
        } else {
            let path = url.map { $0.path.isEmpty ? "/" : $0.path } ?? "/"
            target = url?.query.map { "\(path)?\($0)" } ?? path
        }
        self.init(
            method: request.httpMethod ?? "GET", target: target, headers: HeaderFields(request),
            route: route, clientAddress: clientAddress)
    }
}

extension Recorder {
    /// Records a whole exchange from the URL loading system's types: for a
    /// server built on them, or for a call you made and timed yourself.
    ///
    /// - Parameters:
    ///   - request: the request; its `httpBody` is the request body.
    ///   - response: the response, or `nil` when none came.
    ///   - responseBody: the response body.
    ///   - error: what went wrong, if anything.
    ///   - direction: `.incoming` for requests this server answered.
    ///   - route: the route template, when known.
    ///   - startedAt: when the request started; the duration ends now.
    /// - Returns: the recorded exchange's id.
    @discardableResult
    public func record(
        request: URLRequest,
        response: HTTPURLResponse?,
        responseBody: Data? = nil,
        error: (any Error)? = nil,
        direction: ExchangeDirection = .incoming,
        route: String? = nil,
        startedAt: CaptureInstant
    ) -> EventID {
        let exchange = begin(RequestHead(request, direction: direction, route: route), direction: direction, startedAt: startedAt)
        if let body = request.httpBody { exchange.recordRequestBody(body) }
        if let response {
            exchange.recordResponseHead(ResponseHead(status: response.statusCode, headers: HeaderFields(response)))
        }
        if let responseBody { exchange.recordResponseBody(responseBody) }
        if let error { exchange.reportError(error, location: nil) }
        exchange.finish()
        return exchange.id
    }
}
