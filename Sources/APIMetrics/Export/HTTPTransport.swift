/// An HTTP request the HTTP exporter wants sent.
public struct TransportRequest: Sendable {
    /// The absolute URL.
    public var url: String
    /// The method, `POST` for batches.
    public var method: String
    /// The header fields.
    public var headers: HeaderFields
    /// The body bytes.
    public var body: [UInt8]
    /// How long to wait for the whole response.
    public var timeout: Duration

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - url: the absolute URL.
    ///   - method: the method, `POST` for batches.
    ///   - headers: the header fields.
    ///   - body: the body bytes.
    ///   - timeout: how long to wait for the whole response.
    public init(url: String, method: String, headers: HeaderFields, body: [UInt8], timeout: Duration) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What came back from the collector.
public struct TransportResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields.
    public var headers: HeaderFields
    /// The body bytes, for error messages.
    public var body: [UInt8]

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: the status code.
    ///   - headers: the header fields; none by default.
    ///   - body: the body bytes, for error messages; empty by default.
    public init(status: Int, headers: HeaderFields = HeaderFields(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends one HTTP request; the HTTP exporter's only view of the network.
///
/// The default is ``URLSessionTransport``. Supply your own to send through
/// an HTTP client your server already has.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response, or throws when no response
    /// came (connection refused, timeout, cancellation).
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

extension HTTPTransport {
    /// Sends `request` for an exporter: when no answer came at all
    /// (refused, reset, timed out), a retryable ``ExportError`` naming the
    /// request; an ``ExportError`` the transport threw stays as it is.
    func sendForExport(_ request: TransportRequest) async throws(ExportError) -> TransportResponse {
        do {
            return try await send(request)
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError.retryable("\(request.method) \(ConfiguredSecrets.shown(request.url)) failed: \(error)")
        }
    }
}
