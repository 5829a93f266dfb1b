/// A request read off a connection.
public struct SocketRequest: Sendable {
    /// The method, such as `GET`.
    public var method: String
    /// The request target as sent.
    public var target: String
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// The header fields in order, as sent.
    public var headers: [(name: String, value: String)]
    /// The body, with chunked framing removed.
    public var body: [UInt8]
    /// The peer's address.
    public var clientAddress: String

    /// The first value of a header, any case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A response to write on a connection.
public struct SocketResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields; `Content-Length` is added unless the body is empty
    /// on a status that has none.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: the status code.
    ///   - headers: the header fields; `Content-Length` is added unless the
    ///     body is empty on a status that has none. None by default.
    ///   - body: the body; empty by default.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int, _ text: String) -> SocketResponse {
        SocketResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
