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
    ///
    /// - Parameters:
    ///   - method: the request method, such as `POST`.
    ///   - target: the request target, such as `/orders?page=2`.
    ///   - headers: the header fields; none by default.
    ///   - body: the whole body; empty by default.
    ///   - clientAddress: the peer's address; `nil` (the default) when
    ///     unknown.
    public init(
        method: String, target: String, headers: HeaderFields = HeaderFields(), body: [UInt8] = [], clientAddress: String? = nil
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }
}
