/// What a server sent back, without the body.
public struct ResponseHead: Sendable, Hashable {
    /// The status code, such as `201`.
    public var status: Int
    /// The response's header fields.
    public var headers: HeaderFields

    /// Creates a response head.
    public init(status: Int, headers: HeaderFields = HeaderFields()) {
        self.status = status
        self.headers = headers
    }
}
