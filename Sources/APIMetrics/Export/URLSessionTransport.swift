import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

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
        let (data, response) = try await data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else {
            throw ExportError.retryable("the response to \(request.url) was not HTTP")
        }
        var headers = HeaderFields()
        for (name, value) in http.allHeaderFields {
            headers.append(name: String(describing: name), value: String(describing: value))
        }
        return TransportResponse(status: http.statusCode, headers: headers, body: Array(data))
    }

    /// `URLSession.data(for:)`, cancelled safely.
    ///
    /// The async `data(for:)` of swift-corelibs-foundation cancels its task
    /// from the cancellation handler, which the runtime calls holding the
    /// cancelled task's status lock, and `URLSessionTask.cancel()` waits for
    /// the session's work queue; when that queue is at that moment delivering
    /// the response (resuming the same task, which needs the same lock), both
    /// wait for ever: a shutdown deadline that cancels an export as its
    /// answer arrives hung the process. Here the cancel is sent from another
    /// queue, so the handler returns at once.
    private func data(for request: URLRequest) async throws -> (Data, URLResponse) {
        let pending = PendingTask()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
                let task = session.dataTask(with: request) { data, response, error in
                    if let response {
                        continuation.resume(returning: (data ?? Data(), response))
                    } else {
                        continuation.resume(throwing: error ?? URLError(.badServerResponse))
                    }
                }
                pending.start(task)
            }
        } onCancel: {
            DispatchQueue.global().async { pending.cancel() }
        }
    }

    /// The data task of one send, and whether it was cancelled before it
    /// started.
    private final class PendingTask: Sendable {
        private let state = Mutex<(task: URLSessionDataTask?, isCancelled: Bool)>((nil, false))

        func start(_ task: URLSessionDataTask) {
            let cancelled = state.withLock { state -> Bool in
                state.task = task
                return state.isCancelled
            }
            task.resume()
            if cancelled { task.cancel() }
        }

        func cancel() {
            let task = state.withLock { state -> URLSessionDataTask? in
                state.isCancelled = true
                return state.task
            }
            task?.cancel()
        }
    }
}
