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
            let exchange = self.begin(
                RequestHead(
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
