public import APIMetrics
public import Hummingbird
import HTTPTypes
import NIOCore

/// Records every call a Hummingbird 2 router serves, and serves the
/// metrics' view (the dashboard, its API, `/metrics`) when it is on: add it
/// first, so that it sees what the client receives.
///
/// ```swift
/// let router = Router(context: APIMetricsRequestContext.self)
/// router.add(middleware: APIMetricsMiddleware(metrics))
/// ```
///
/// The view's paths are answered before anything is recorded (the view
/// never records itself), to this machine only unless
/// `LocalViewOptions.bearerToken` is set: the peer's address
/// comes from a context that knows it (``APIMetricsRequestContext``, or any
/// `RemoteAddressRequestContext`); with one that does not,
/// the view answers 403 until a token is set.
///
/// It records the route the router matched (a call no route matched goes to
/// the metrics' one unmatched series per method), every request header,
/// `Host` included, the client's address when the context knows it
/// (`RemoteAddressRequestContext`), the request body as the
/// handler reads it and the response body as it is written, up to the
/// capture limit, with the response's length and framing untouched, and
/// the latency to the last byte written. A body of known length up to
/// 16 KiB (nearly every API response) is recorded as the handler hands it
/// over, so that Hummingbird still writes it with its head in one piece;
/// its latency ends there. A thrown error is recorded with the
/// status and body the router answers with. While the handler runs,
/// `ActiveExchange.current` is its exchange, so that
/// `reportError` and instrumented outgoing calls link to it.
///
/// While the queue is full the call is not captured at all: only its
/// figures go to the metrics, and the event is counted as dropped.
public struct APIMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where the calls are recorded.
    public let recorder: Recorder
    /// The statuses of errors thrown past the middleware.
    public let errorStatuses: ErrorStatusMapping
    /// The view it serves; `nil` for none.
    public let view: MetricsView?

    /// Records into `metrics` and serves its view; errors thrown past the
    /// middleware get their status from `errorStatuses` (Hummingbird's own
    /// by default).
    public init(_ metrics: APIMetricsService, errorStatuses: ErrorStatusMapping = .hummingbird) {
        self.init(recorder: metrics.recorder, view: metrics.view, errorStatuses: errorStatuses)
    }

    /// Records into `recorder`, and serves `view` when given.
    ///
    /// - Parameters:
    ///   - recorder: where the calls are recorded.
    ///   - view: the metrics' view to serve; `nil` (the default), or a view
    ///     that is off, serves none.
    ///   - errorStatuses: the status of an error thrown past the middleware;
    ///     Hummingbird's own by default (an `HTTPResponseError`'s status,
    ///     then `ResponseStatusProviding`).
    public init(recorder: Recorder, view: MetricsView? = nil, errorStatuses: ErrorStatusMapping = .hummingbird) {
        self.recorder = recorder
        self.view = view.flatMap { $0.options.isEnabled ? $0 : nil }
        self.errorStatuses = errorStatuses
        self.clientAddress = Self.clientAddressReader()
    }

    /// The client's address from a context, read without a cast to a
    /// protocol on every call.
    let clientAddress: @Sendable (Context) -> String?

    /// Reads the address when `Context` knows it: the conformance is
    /// looked up once, here.
    static func clientAddressReader() -> @Sendable (Context) -> String? {
        guard let known = Context.self as? any RemoteAddressRequestContext.Type else { return { _ in nil } }
        func reader<Known: RemoteAddressRequestContext>(_: Known.Type) -> @Sendable (Context) -> String? {
            // `Known` is `Context`, opened from its own metatype: a value of
            // one is a value of the other. `as? Known` would ask the runtime
            // on every call (a fifth of a microsecond in the load test's
            // profile).
            guard Known.self == Context.self else { return { _ in nil } }
            return { context in unsafeBitCast(context, to: Known.self).remoteAddress.flatMap(Self.text(of:)) }
        }
        return reader(known)
    }

    /// An address as text. IPv4 is written here, digit by digit: NIO's
    /// `ipAddress` goes through `inet_ntop` and a C string, most of a
    /// microsecond on every call. Other addresses are NIO's.
    static func text(of address: SocketAddress) -> String? {
        guard case let .v4(v4) = address else { return address.ipAddress }
        // `sin_addr` is at byte 4 of a `sockaddr_in` on Linux (after the
        // family and the port) and on Darwin (after the length, the family
        // and the port), in network order: the first
        // octet first. Read as bytes: its members are declared by a module
        // of NIO's that is not a product.
        return withUnsafeBytes(of: v4.address) { address in
            String(unsafeUninitializedCapacity: 15) { text in
                var count = 0
                for (index, octet) in address[4..<8].enumerated() {
                    if index > 0 {
                        text[count] = UInt8(ascii: ".")
                        count += 1
                    }
                    if octet >= 100 {
                        text[count] = UInt8(ascii: "0") + octet / 100
                        count += 1
                    }
                    if octet >= 10 {
                        text[count] = UInt8(ascii: "0") + octet / 10 % 10
                        count += 1
                    }
                    text[count] = UInt8(ascii: "0") + octet % 10
                    count += 1
                }
                return count
            }
        }
    }

    /// Records the call that `next` serves.
    ///
    /// - Parameters:
    ///   - request: the request, whose body is recorded as the handler reads
    ///     it.
    ///   - context: the request's context; the route the router matched and,
    ///     when the context knows it, the client's address are read from it.
    ///   - next: the rest of the chain, run with
    ///     `ActiveExchange.current` set to the call's exchange.
    /// - Returns: the view's answer for one of its paths; otherwise the
    ///   response `next` made, its body recorded as it is written.
    /// - Throws: whatever `next` throws, once the call is recorded with the
    ///   response the router makes of the error.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // The path is checked here, synchronously: an `await` of the view on
        // every request cost an async frame a call.
        if let view, let target = request.head.path, view.serves(target: target),
            let answer = await viewResponse(to: request, target: target, view: view, context: context)
        {
            return answer
        }
        guard recorder.isRecording else { return try await next(request, context) }
        let start = CaptureInstant.now()
        if recorder.isQueueFull { return try await shed(request, context: context, start: start, next: next) }
        let (head, framing) = head(of: request, context: context)
        let exchange = recorder.begin(head, startedAt: start)
        // A request is copied (each of its fields retained) only when its
        // body is tapped; most are passed on as they came.
        let tapped = Self.tappingRequestBody(of: request, framing: framing, into: exchange)
        var response: Response
        do {
            response = try await ActiveExchange.$current.withValue(exchange) {
                if let tapped { return try await next(tapped, context) }
                return try await next(request, context)
            }
        } catch {
            await recordFailure(error, request: tapped ?? request, context: context, exchange: exchange)
            throw error
        }
        exchange.recordResponseHead(Self.head(of: response))
        if let length = response.body.contentLength, length <= ActiveExchange.maxGatheredResponseBodyBytes {
            // Small and of known length, as nearly every API response is:
            // Hummingbird writes a body of one buffer with its head in one
            // piece, and a wrapped body in three. Recorded here, the body
            // keeps that path.
            if exchange.isCapturingResponseBody {
                response.body = try await GatheringBodyWriter.gather(response.body, length: length, into: exchange)
            } else {
                exchange.countResponseBody(byteCount: length)
            }
            exchange.finish()
            return response
        }
        response.body = RecordingBodyWriter.tap(response.body, exchange: exchange)
        return response
    }

    /// How the request body is framed, as its head declares it.
    struct RequestFraming {
        var declaredLength: Int?
        var isChunked = false
    }

    /// The request head as the recorder takes it: `Host` (which HTTP types
    /// keep apart, as the authority) first, then the other fields; and the
    /// body's framing, read in the same pass (a lookup by name would join
    /// every value of that name into a new string).
    func head(of request: Request, context: Context) -> (RequestHead, RequestFraming) {
        var headers = HeaderFields()
        var framing = RequestFraming()
        headers.reserveCapacity(byteCount: (request.headers.count + 1) * 32, fieldCount: request.headers.count + 1)
        if let authority = request.head.authority { headers.append(name: "Host", value: authority) }
        for field in request.headers {
            headers.append(name: field.name.rawName, value: field.value)
            if field.name == .contentLength {
                framing.declaredLength = Int(field.value)
            } else if field.name == .transferEncoding {
                framing.isChunked = true
            }
        }
        let head = RequestHead(
            method: request.method.rawValue, target: request.head.path ?? "/", headers: headers,
            route: context.endpointPath,
            clientAddress: clientAddress(context))
        return (head, framing)
    }

    static func head(of response: Response) -> ResponseHead {
        var headers = HeaderFields()
        headers.reserveCapacity(byteCount: response.headers.count * 32, fieldCount: response.headers.count)
        for field in response.headers { headers.append(name: field.name.rawName, value: field.value) }
        return ResponseHead(status: response.status.code, headers: headers)
    }

    /// A body the exchange keeps, or one of unknown length, is read as the
    /// handler streams it: the request with its body tapped. Otherwise its
    /// declared length is all there is to count, and `nil`: the request
    /// goes on as it is.
    static func tappingRequestBody(
        of request: Request, framing: RequestFraming, into exchange: ActiveExchange
    ) -> Request? {
        if framing.declaredLength == nil && !framing.isChunked { return nil }
        if let declared = framing.declaredLength, !framing.isChunked, !exchange.isCapturingRequestBody {
            exchange.countRequestBody(byteCount: declared)
            return nil
        }
        var tapped = request
        tapped.body = RequestBody(asyncSequence: RecordingRequestBody(base: request.body, exchange: exchange))
        return tapped
    }

    /// The response the router makes of `error` (Hummingbird's own errors
    /// carry their status, headers and body), recorded as the client gets
    /// it; any other error is answered 500 with no body.
    private func recordFailure(_ error: any Error, request: Request, context: Context, exchange: ActiveExchange) async {
        guard let responseError = error as? any HTTPResponseError,
            let response = try? responseError.response(from: request, context: context)
        else {
            exchange.fail(error, status: errorStatuses.status(of: error) ?? 500, location: nil)
            return
        }
        exchange.recordResponseHead(Self.head(of: response))
        if response.status.code >= 500 { exchange.reportError(error, location: nil) }
        try? await response.body.write(RecordingBodyWriter(base: DiscardingBodyWriter(), exchange: exchange))
        exchange.finish()  // in case the body's own code threw before its end
    }

    /// A call served while the queue is full: no capture, its figures only.
    private func shed(
        _ request: Request, context: Context, start: CaptureInstant, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // The figures the metrics need; status, duration and the response's
        // size are filled in once known.
        var call = CallSummary(
            method: request.method.rawValue, route: context.endpointPath,
            target: context.endpointPath == nil ? request.head.path : nil, status: 0, durationNanoseconds: 0,
            requestBodyBytes: request.headers[.contentLength].flatMap { Int($0) } ?? 0)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            call.status = errorStatuses.status(of: error) ?? 500
            call.durationNanoseconds = start.elapsedNanoseconds
            recorder.recordShedCall(call)
            throw error
        }
        call.status = response.status.code
        if let length = response.body.contentLength, length <= ActiveExchange.maxGatheredResponseBodyBytes {
            call.responseBodyBytes = length
            call.durationNanoseconds = start.elapsedNanoseconds
            recorder.recordShedCall(call)
            return response
        }
        response.body = ShedBodyWriter.tap(response.body, call: call, start: start, recorder: recorder)
        return response
    }
}

extension ErrorStatusMapping {
    /// Hummingbird's `HTTPResponseError`s give their status, then errors
    /// that are `ResponseStatusProviding`.
    public static let hummingbird = ErrorStatusMapping { error in
        (error as? any HTTPResponseError)?.status.code
    }.then(.responseStatusProviding)
}
