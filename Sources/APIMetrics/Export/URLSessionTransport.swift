import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends the HTTP exporter's requests with the toolchain's `URLSession`.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// Creates a transport on an ephemeral session (no cookies, no cache).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        self.session = URLSession(configuration: configuration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// Sends the request and reads the whole response.
    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard let url = URL(string: request.url) else {
            throw ExportError.rejected("invalid URL \(request.url)")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = max(0.001, request.timeout.seconds)
        for field in request.headers {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        urlRequest.httpBody = Data(request.body)
        let (data, response) = try await session.data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else {
            throw ExportError.retryable("the response to \(request.url) was not HTTP")
        }
        var headers = HeaderFields()
        for (name, value) in http.allHeaderFields {
            headers.append(name: String(describing: name), value: String(describing: value))
        }
        return TransportResponse(status: http.statusCode, headers: headers, body: Array(data))
    }
}
