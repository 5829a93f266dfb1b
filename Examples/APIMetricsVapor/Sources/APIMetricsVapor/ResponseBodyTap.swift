import APIMetrics
import NIOCore
public import Vapor

/// Records a Vapor response body as the server writes it, and finishes the
/// exchange once its last byte is handed to the connection.
///
/// A body held in memory is recorded at once; up to 16 KiB it is left as it
/// is (Vapor writes it with its head in one piece) and the exchange ends
/// there; a longer one is replaced by a stream of the same length that
/// writes the same bytes, so that the exchange ends when they are written;
/// `Content-Length` stays as it was. A streamed body made with
/// `Response.Body(recordingFor:…)` records itself. Any other streamed body
/// is left alone: Vapor keeps its callback internal, so there is no public
/// way to see its bytes pass. Its event is marked (`response_body: streamed:
/// not captured`), counted by its declared length when it has one, and
/// finished when the response leaves the middleware.
enum ResponseBodyTap {
    static func tap(_ response: Response, of request: Request, exchange: ActiveExchange) {
        let body = response.body
        // Vapor writes no body for these: nothing will call a stream.
        if request.method == .HEAD || response.status == .noContent || response.upgrader != nil {
            exchange.finish()
            return
        }
        if let buffer = body.buffer {
            buffer.withUnsafeReadableBytes { exchange.recordResponseBody($0) }
            // Small, as nearly every API response is: Vapor writes it with
            // its head in one piece right after; left as it is, it keeps
            // that path, and the call ends here.
            guard buffer.readableBytes > ActiveExchange.maxGatheredResponseBodyBytes else {
                exchange.finish()
                return
            }
            response.body = Response.Body(
                stream: { writer in
                    writer.write(.buffer(buffer), promise: nil)
                    writer.write(.end, promise: nil)
                    exchange.finish()
                }, count: buffer.readableBytes)
            return
        }
        if request.storage[RecordingStreamKey.self] == true { return }
        if body.count >= 0 {
            exchange.countResponseBody(byteCount: body.count)
            exchange.markResponseBody(.streamed)
        } else {
            exchange.markResponseBody(.streamedOfUnknownSize)
        }
        exchange.finish()
    }
}

/// Set on a request whose response body records itself.
struct RecordingStreamKey: StorageKey {
    typealias Value = Bool
}

extension Response.Body {
    /// A body written from async code that ``APIMetricsMiddleware`` records
    /// as it goes out: the bytes up to the capture limit, the size, and the
    /// latency to the last byte. `count` is the body's length, or -1 for a
    /// chunked body; it is otherwise `Response.Body(asyncStream:count:)`.
    ///
    /// ```swift
    /// Response(body: .init(recordingFor: request) { writer in
    ///     try await writer.writeBuffer(ByteBuffer(string: "chunk\n"))
    ///     try await writer.write(.end)
    /// })
    /// ```
    ///
    /// - Parameters:
    ///   - request: the request the body answers; without
    ///     ``APIMetricsMiddleware`` recording it, the body is a plain one.
    ///   - count: the body's length in bytes; -1 (the default) for a chunked
    ///     body.
    ///   - asyncStream: writes the body, ending it with `.end`; an error it
    ///     throws ends the body with that error and the call is recorded as
    ///     failed.
    public init(
        recordingFor request: Request, count: Int = -1,
        asyncStream: @escaping @Sendable (any AsyncBodyStreamWriter) async throws -> Void
    ) {
        guard let exchange = request.apiMetrics else {
            self.init(asyncStream: asyncStream, count: count)
            return
        }
        request.storage[RecordingStreamKey.self] = true
        self.init(
            asyncStream: { writer in
                let recording = RecordingAsyncStreamWriter(base: writer, exchange: exchange)
                do {
                    try await asyncStream(recording)
                } catch {
                    // Vapor's contract: a stream ends with .end or .error. A
                    // callback that throws (the client went away mid-body, say)
                    // ends it with its error, and the call is recorded as failed.
                    try? await recording.write(.error(error))
                    throw error
                }
            }, count: count)
    }

    /// A body written by a callback on the event loop that
    /// ``APIMetricsMiddleware`` records as it goes out; it is otherwise
    /// `Response.Body(stream:count:)`.
    ///
    /// - Parameters:
    ///   - request: the request the body answers; without
    ///     ``APIMetricsMiddleware`` recording it, the body is a plain one.
    ///   - count: the body's length in bytes; -1 (the default) for a chunked
    ///     body.
    ///   - stream: writes the body on the event loop, ending it with `.end`
    ///     or `.error`.
    public init(
        recordingFor request: Request, count: Int = -1,
        stream: @escaping @Sendable (any BodyStreamWriter) -> Void
    ) {
        guard let exchange = request.apiMetrics else {
            self.init(stream: stream, count: count)
            return
        }
        request.storage[RecordingStreamKey.self] = true
        self.init(
            stream: { writer in
                stream(RecordingStreamWriter(base: writer, exchange: exchange))
            }, count: count)
    }
}

/// Hands each buffer of a streamed body to the exchange on its way to the
/// connection; the end finishes the exchange, an error fails it.
struct RecordingStreamWriter: BodyStreamWriter {
    let base: any BodyStreamWriter
    let exchange: ActiveExchange

    var eventLoop: any EventLoop { base.eventLoop }

    func write(_ result: BodyStreamResult, promise: EventLoopPromise<Void>?) {
        switch result {
        case .buffer(let buffer):
            buffer.withUnsafeReadableBytes { exchange.recordResponseBody($0) }
            base.write(result, promise: promise)
        case .end:
            base.write(result, promise: promise)
            exchange.finish()
        case .error(let error):
            base.write(result, promise: promise)
            exchange.fail(error, location: nil)
        }
    }
}

/// ``RecordingStreamWriter`` for a body written from async code.
struct RecordingAsyncStreamWriter: AsyncBodyStreamWriter {
    let base: any AsyncBodyStreamWriter
    let exchange: ActiveExchange

    func write(_ result: BodyStreamResult) async throws {
        switch result {
        case .buffer(let buffer):
            buffer.withUnsafeReadableBytes { exchange.recordResponseBody($0) }
            try await base.write(result)
        case .end:
            do {
                try await base.write(result)
            } catch {
                exchange.fail(error, location: nil)
                throw error
            }
            exchange.finish()
        case .error(let error):
            exchange.fail(error, location: nil)
            try await base.write(result)
        }
    }
}
