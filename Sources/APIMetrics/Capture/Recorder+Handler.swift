/// A request as a server hands it to a handler, in the core's neutral types.
public struct ServerRequest: Sendable {
    /// The request method, such as `POST`.
    public var method: String
    /// The request target, such as `/orders?page=2`.
    public var target: String
    /// The header fields.
    public var headers: HeaderFields
    /// The whole body.
    public var body: [UInt8]
    /// The peer's address, when known.
    public var clientAddress: String?

    /// Creates a request.
    public init(method: String, target: String, headers: HeaderFields = HeaderFields(), body: [UInt8] = [], clientAddress: String? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }
}

/// A handler's answer, in the core's neutral types.
public struct ServerResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields.
    public var headers: HeaderFields
    /// The whole body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HeaderFields = HeaderFields(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

extension ActiveExchange {
    /// The exchange being served by the current task, inside a handler
    /// wrapped by ``Recorder/instrument(route:_:)``; use it to name the route
    /// or the consumer, or to report an error, from deep in the handler.
    @TaskLocal public static var current: ActiveExchange?
}

extension Recorder {
    /// A handler of the shape `(ServerRequest) async throws -> ServerResponse`
    /// is all a server needs: this wraps it so that every call is recorded.
    ///
    /// The wrapper behaves exactly as `handler` does: same response, same
    /// error. A thrown error is recorded with the status from
    /// ``ResponseStatusProviding`` (500 otherwise) and the latency up to the
    /// throw, then rethrown for the server to answer as it always does.
    ///
    /// ```swift
    /// let handle = metrics.recorder.instrument(route: "/orders/{id}") { request in
    ///     ServerResponse(status: 200, body: Array(#"{"id":1}"#.utf8))
    /// }
    /// ```
    public func instrument(
        route: String? = nil,
        _ handler: @escaping @Sendable (ServerRequest) async throws -> ServerResponse
    ) -> @Sendable (ServerRequest) async throws -> ServerResponse {
        { request in
            let exchange = self.begin(RequestHead(
                method: request.method, target: request.target, headers: request.headers,
                route: route, clientAddress: request.clientAddress))
            exchange.recordRequestBody(request.body)
            do {
                let response = try await ActiveExchange.$current.withValue(exchange) {
                    try await handler(request)
                }
                exchange.recordResponseHead(ResponseHead(status: response.status, headers: response.headers))
                exchange.recordResponseBody(response.body)
                exchange.finish()
                return response
            } catch {
                exchange.fail(error)
                throw error
            }
        }
    }
}
