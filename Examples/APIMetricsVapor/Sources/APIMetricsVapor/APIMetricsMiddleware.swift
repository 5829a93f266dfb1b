public import APIMetrics
public import Vapor

/// Records every call a Vapor 4 application serves, and serves the
/// metrics' view (the dashboard, its API, `/metrics`) when it is on: add it
/// at the beginning of the application's middleware, outside Vapor's
/// `ErrorMiddleware`, so that it sees what the client receives.
///
/// ```swift
/// app.middleware.use(APIMetricsMiddleware(metrics), at: .beginning)
/// ```
///
/// The view's paths are answered before anything is recorded (the view
/// never records itself), to this machine only unless
/// `LocalViewOptions.bearerToken` is set.
///
/// It records the route Vapor matched as a template (`/orders/{id}`; a call
/// no route matched goes to the metrics' one unmatched series per method),
/// every request header (`Host` is one of them), the client's socket
/// address, the request body Vapor collected for the handler (a route that
/// streams its body, `body: .stream`, is counted by its `Content-Length`,
/// or marked when it has none), and the response body as it is written, up
/// to the capture limit, with the response's length and framing untouched
/// (a streamed body when it is made with `Response.Body(recordingFor:…)`;
/// another one is counted by its declared length and marked). Latency runs
/// to the last byte handed to the connection, or, for a body of up to
/// 16 KiB held in memory (nearly every API response, which Vapor writes
/// with its head in one piece), to the moment the response leaves the
/// middleware. A thrown error is
/// recorded as the response Vapor's `ErrorMiddleware` made of it — the
/// status and body the client got; an error that no middleware answers is
/// recorded with the status of ``errorStatuses``.
///
/// While the handler runs, `ActiveExchange.current` is its
/// exchange (for `async` handlers; Vapor runs a synchronous handler whose
/// body it had to collect on an event loop, outside the task), and
/// `Request.apiMetrics` is the exchange in every handler.
///
/// While the queue is full the call is not captured at all: only its
/// figures go to the metrics, and the event is counted as dropped.
public struct APIMetricsMiddleware: AsyncMiddleware {
    /// Where the calls are recorded.
    public let recorder: Recorder
    /// The statuses of errors thrown past every middleware.
    public let errorStatuses: ErrorStatusMapping
    /// The view it serves; `nil` for none.
    public let view: MetricsView?

    /// Records into `metrics` and serves its view; errors thrown past every
    /// middleware get their status from `errorStatuses` (Vapor's own by default).
    public init(_ metrics: APIMetricsService, errorStatuses: ErrorStatusMapping = .vapor) {
        self.init(recorder: metrics.recorder, view: metrics.view, errorStatuses: errorStatuses)
    }

    /// Records into `recorder`, and serves `view` when given.
    ///
    /// - Parameters:
    ///   - recorder: where the calls are recorded.
    ///   - view: the metrics' view to serve; `nil` (the default), or a view
    ///     that is off, serves none.
    ///   - errorStatuses: the status of an error thrown past every
    ///     middleware; Vapor's own by default (an `AbortError`'s status, then
    ///     `ResponseStatusProviding`).
    public init(recorder: Recorder, view: MetricsView? = nil, errorStatuses: ErrorStatusMapping = .vapor) {
        self.recorder = recorder
        self.view = view.flatMap { $0.options.isEnabled ? $0 : nil }
        self.errorStatuses = errorStatuses
    }

    /// Records the call that `next` serves.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // The path is checked here, synchronously: an `await` of the view on
        // every request cost an async frame a call.
        if let view, view.serves(path: request.url.path), let answer = await viewResponse(to: request, view: view) {
            return answer
        }
        guard recorder.isRecording else { return try await next.respond(to: request) }
        let start = CaptureInstant.now()
        if recorder.isQueueFull { return try await shed(request, start: start, next: next) }
        let exchange = recorder.begin(Self.head(of: request), startedAt: start)
        request.storage[ExchangeKey.self] = exchange
        let response: Response
        do {
            response = try await ActiveExchange.$current.withValue(exchange) {
                try await next.respond(to: request)
            }
        } catch {
            Self.recordRequestBody(of: request, into: exchange)
            exchange.fail(error, status: errorStatuses.status(of: error) ?? 500, location: nil)
            throw error
        }
        Self.recordRequestBody(of: request, into: exchange)
        exchange.recordResponseHead(
            ResponseHead(
                status: Int(response.status.code), headers: HeaderFields(response.headers, name: \.name, value: \.value)))
        ResponseBodyTap.tap(response, of: request, exchange: exchange)
        return response
    }

    /// The request head as the recorder takes it.
    static func head(of request: Request) -> RequestHead {
        RequestHead(
            method: request.method.rawValue, target: request.url.string,
            headers: HeaderFields(request.headers, name: \.name, value: \.value),
            route: request.route.map { routeTemplate($0.path) },
            clientAddress: request.remoteAddress?.ipAddress)
    }

    /// A route's path as a template: `orders/:id` is `/orders/{id}`.
    static func routeTemplate(_ path: [PathComponent]) -> String {
        var template = ""
        for component in path {
            template += "/"
            switch component {
            case .constant(let name): template += name
            case .parameter(let name): template += "{\(name)}"
            case .anything: template += "*"
            case .catchall: template += "**"
            }
        }
        return template.isEmpty ? "/" : template
    }

    /// The body Vapor collected for the handler, as the handler read it;
    /// a body the handler streamed itself is counted by its declared
    /// length, or marked when it has none.
    static func recordRequestBody(of request: Request, into exchange: ActiveExchange) {
        if let body = request.body.data {
            if exchange.isCapturingRequestBody {
                body.withUnsafeReadableBytes { exchange.recordRequestBody($0) }
            } else {
                exchange.countRequestBody(byteCount: body.readableBytes)
            }
        } else if let declared = request.headers.first(name: .contentLength).flatMap({ Int($0) }) {
            exchange.countRequestBody(byteCount: declared)
        } else if request.headers.contains(name: .transferEncoding) {
            exchange.markRequestBody(.streamedOfUnknownSize)
        }
    }

    /// A call served while the queue is full: no capture, its figures only.
    private func shed(_ request: Request, start: CaptureInstant, next: any AsyncResponder) async throws -> Response {
        let route = request.route.map { Self.routeTemplate($0.path) }
        var call = CallSummary(
            method: request.method.rawValue, route: route, target: route == nil ? request.url.path : nil,
            status: 0, durationNanoseconds: 0,
            requestBodyBytes: request.headers.first(name: .contentLength).flatMap { Int($0) } ?? 0)
        do {
            let response = try await next.respond(to: request)
            call.status = Int(response.status.code)
            call.responseBodyBytes = max(0, response.body.count)
            call.durationNanoseconds = start.elapsedNanoseconds
            recorder.recordShedCall(call)
            return response
        } catch {
            call.status = errorStatuses.status(of: error) ?? 500
            call.durationNanoseconds = start.elapsedNanoseconds
            recorder.recordShedCall(call)
            throw error
        }
    }
}

/// Where the exchange of a call is kept on its request.
struct ExchangeKey: StorageKey {
    typealias Value = ActiveExchange
}

extension Request {
    /// The exchange ``APIMetricsMiddleware`` records this call in, or `nil`
    /// when the call is not recorded: report errors and validation problems
    /// to it from any handler, synchronous or not.
    public var apiMetrics: ActiveExchange? {
        storage[ExchangeKey.self]
    }
}

extension ErrorStatusMapping {
    /// Vapor's `AbortError`s give their status, then errors that are
    /// `ResponseStatusProviding`.
    public static let vapor = ErrorStatusMapping { error in
        (error as? any AbortError).map { Int($0.status.code) }
    }.then(.responseStatusProviding)
}
