public import APIMetrics
public import FlyingFox
import Foundation
import Synchronization

/// Records every call a FlyingFox server answers, and serves the metrics'
/// view (the dashboard, its API, `/metrics`) when it is on: wrap the
/// server's routes in it and hand it to the server as its handler. The
/// view's paths are answered before anything is recorded (the view never
/// records itself), to this machine only unless
/// `LocalViewOptions.bearerToken` is set.
///
/// ```swift
/// let server = HTTPServer(address: .loopback(port: 8080), handler: APIMetricsHandler(metrics, routes: routes))
/// ```
///
/// It records the route that matched, as a template (`/orders/:id` becomes
/// `/orders/{id}`; a call no route matched goes to the metrics' one
/// unmatched series per method), the request's headers and client address,
/// a request body of known length as the handler reads it and a response
/// body of known length as it is written (up to the capture limit, with
/// the same length), and the status FlyingFox answers a thrown error with
/// (404 for `HTTPUnhandledError`, else 500). While the handler runs,
/// `ActiveExchange.current` is its exchange.
///
/// FlyingFox gives no public way to pass a chunked body through
/// unchanged: such bodies are left as they are, uncaptured (their size is
/// unknown), and the call ends when the handler returns.
public struct APIMetricsHandler: HTTPHandler {
    /// Where the calls are recorded.
    public let recorder: Recorder
    /// The statuses of thrown errors.
    public let errorStatuses: ErrorStatusMapping
    /// The view it serves; `nil` when it is off.
    public let view: MetricsView?
    private let routes: RoutedHTTPHandler

    /// Records the calls `routes` answer into `metrics`, and serves its view.
    ///
    /// - Parameters:
    ///   - metrics: the service whose recorder takes the calls and whose view
    ///     is served, when it is on.
    ///   - routes: the server's routes; each is wrapped so that the call is
    ///     recorded under its template.
    ///   - errorStatuses: the status of an error the routes throw;
    ///     FlyingFox's own by default (404 for `HTTPUnhandledError`, then
    ///     `ResponseStatusProviding`, else 500).
    public init(_ metrics: APIMetricsService, routes: RoutedHTTPHandler, errorStatuses: ErrorStatusMapping = .flyingFox) {
        recorder = metrics.recorder
        view = metrics.view.options.isEnabled ? metrics.view : nil
        self.errorStatuses = errorStatuses
        var named = RoutedHTTPHandler()
        for (route, handler) in routes {
            named.appendRoute(route, to: RouteNamingHandler(template: Self.template(of: route), next: handler))
        }
        self.routes = named
    }

    /// `/orders/:id` → `/orders/{id}`; a wildcard stays `*`.
    static func template(of route: HTTPRoute) -> String {
        "/"
            + route.path.map { component in
                switch component {
                case let .parameter(name): return "{\(name)}"
                case .wildcard: return "*"
                case let .caseInsensitive(text): return text
                }
            }.joined(separator: "/")
    }

    /// Records the call the routes answer.
    public func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        // The path is checked here, synchronously: an `await` of the view on
        // every request cost an async frame a call.
        if let view, view.serves(path: request.path), let answer = await viewResponse(to: request, view: view) {
            return answer
        }
        guard recorder.isRecording else { return try await routes.handleRequest(request) }
        let start = CaptureInstant.now()
        let matched = MatchedRoute()
        if recorder.isQueueFull {
            return try await shed(request, start: start, matched: matched)
        }
        let exchange = recorder.begin(Self.head(of: request), startedAt: start)
        var request = request
        Self.tapRequestBody(of: &request, into: exchange)
        var response: HTTPResponse
        do {
            response = try await MatchedRoute.$current.withValue(matched) {
                try await ActiveExchange.$current.withValue(exchange) {
                    try await routes.handleRequest(request)
                }
            }
        } catch {
            if let route = matched.template { exchange.setRoute(route) }
            exchange.fail(error, status: errorStatuses.status(of: error) ?? 500, location: nil)
            throw error
        }
        if let route = matched.template { exchange.setRoute(route) }
        exchange.recordResponseHead(
            ResponseHead(
                status: response.statusCode.code,
                headers: HeaderFields(response.headers, name: \.key.rawValue, value: \.value)))
        guard case let .httpBody(body) = response.payload, let count = body.count, count > 0 else {
            // No body, a WebSocket, or a chunked body left as it is, and
            // said so: its size is unknown, not zero.
            if case let .httpBody(body) = response.payload, body.count == nil {
                exchange.markResponseBody(.streamedOfUnknownSize)
            }
            exchange.finish()
            return response
        }
        response.payload = .httpBody(
            HTTPBodySequence(
                from: RecordingBytes(
                    base: body, count: count,
                    onChunk: { chunk in
                        chunk.withUnsafeBytes { exchange.recordResponseBody($0) }
                    }, onEnd: { exchange.finish() }),
                count: count))
        return response
    }

    static func head(of request: HTTPRequest) -> RequestHead {
        RequestHead(
            method: request.method.rawValue, target: request.target.rawValue,
            headers: HeaderFields(request.headers, name: \.key.rawValue, value: \.value),
            clientAddress: request.remoteAddress.flatMap(Self.address))
    }

    static func address(_ address: HTTPRequest.Address) -> String? {
        switch address {
        case let .ip4(ip, port: _), let .ip6(ip, port: _): return ip
        case .unix: return nil
        }
    }

    /// A body of known length that the exchange keeps is read as the
    /// handler reads it; one it does not keep is counted by its length.
    static func tapRequestBody(of request: inout HTTPRequest, into exchange: ActiveExchange) {
        guard let count = request.bodySequence.count else {
            exchange.markRequestBody(.streamedOfUnknownSize)
            return
        }
        guard count > 0 else { return }
        guard exchange.isCapturingRequestBody else {
            exchange.countRequestBody(byteCount: count)
            return
        }
        request.bodySequence = HTTPBodySequence(
            from: RecordingBytes(
                base: request.bodySequence, count: count,
                onChunk: { chunk in
                    chunk.withUnsafeBytes { exchange.recordRequestBody($0) }
                }, onEnd: {}),
            count: count)
    }

    /// A call served while the queue is full: no capture, its figures only.
    private func shed(_ request: HTTPRequest, start: CaptureInstant, matched: MatchedRoute) async throws -> HTTPResponse {
        let method = request.method.rawValue
        let requestBytes = request.bodySequence.count ?? 0
        func summary(status: Int, responseBytes: Int) -> CallSummary {
            CallSummary(
                method: method, route: matched.template, target: matched.template == nil ? request.target.rawValue : nil,
                status: status, durationNanoseconds: start.elapsedNanoseconds,
                requestBodyBytes: requestBytes, responseBodyBytes: responseBytes)
        }
        let response: HTTPResponse
        do {
            response = try await MatchedRoute.$current.withValue(matched) { try await routes.handleRequest(request) }
        } catch {
            recorder.recordShedCall(summary(status: errorStatuses.status(of: error) ?? 500, responseBytes: 0))
            throw error
        }
        var bytes = 0
        if case let .httpBody(body) = response.payload { bytes = body.count ?? 0 }
        recorder.recordShedCall(summary(status: response.statusCode.code, responseBytes: bytes))
        return response
    }
}

extension ErrorStatusMapping {
    /// FlyingFox's answers: 404 for `HTTPUnhandledError` (no route took the
    /// request), then errors that are `ResponseStatusProviding`.
    public static let flyingFox = ErrorStatusMapping { error in
        error is HTTPUnhandledError ? 404 : nil
    }.then(.responseStatusProviding)
}

/// The route that took the request, set by the route's own wrapper while
/// the routes run.
final class MatchedRoute: Sendable {
    @TaskLocal static var current: MatchedRoute?
    private let value = Mutex<String?>(nil)

    var template: String? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// Names the route before its handler runs; unnames it when the handler
/// passes the request on (`HTTPUnhandledError`) to the next route.
struct RouteNamingHandler: HTTPHandler {
    let template: String
    let next: any HTTPHandler

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        MatchedRoute.current?.template = template
        do {
            return try await next.handleRequest(request)
        } catch let error as HTTPUnhandledError {
            MatchedRoute.current?.template = nil
            throw error
        }
    }
}
