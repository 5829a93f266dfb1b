import APIMetrics
import HTTPTypes
import Hummingbird
import NIOCore

/// Hands each chunk of a response body to the exchange as it goes to the
/// client, and finishes the exchange once the last byte is written.
struct RecordingBodyWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let exchange: ActiveExchange

    /// `body`, recorded as it is written: the same length (so the same
    /// `Content-Length` or chunked framing), the same bytes.
    static func tap(_ body: ResponseBody, exchange: ActiveExchange) -> ResponseBody {
        ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(RecordingBodyWriter(base: writer, exchange: exchange))
            } catch {
                // The client went away, or the body's own code threw:
                // recorded with the status already sent.
                exchange.fail(error, location: nil)
                throw error
            }
        }
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        buffer.withUnsafeReadableBytes { exchange.recordResponseBody($0) }
        try await base.write(buffer)
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { buffer.withUnsafeReadableBytes { exchange.recordResponseBody($0) } }
        try await base.write(contentsOf: buffers)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
        exchange.finish()
    }
}

/// Takes a body of known length as the handler hands it over, so that it
/// can be recorded and given back to Hummingbird as one buffer.
final class GatheringBodyWriter: ResponseBodyWriter {
    private var gathered: ByteBuffer?
    private var trailingHeaders: HTTPFields?

    /// `body`'s bytes, recorded, as a body Hummingbird writes with its head
    /// in one piece (or, with trailing headers, as a body that writes them).
    static func gather(_ body: ResponseBody, length: Int, into exchange: ActiveExchange) async throws -> ResponseBody {
        let writer = GatheringBodyWriter()
        do {
            try await body.write(writer)
        } catch {
            exchange.fail(error, location: nil)
            throw error
        }
        let bytes = writer.gathered ?? ByteBuffer()
        bytes.withUnsafeReadableBytes { exchange.recordResponseBody($0) }
        guard let trailingHeaders = writer.trailingHeaders else { return ResponseBody(byteBuffer: bytes) }
        return ResponseBody(contentLength: length) { writer in
            try await writer.write(bytes)
            try await writer.finish(trailingHeaders)
        }
    }

    func write(_ buffer: ByteBuffer) async throws {
        if gathered == nil {
            gathered = buffer
        } else {
            var buffer = buffer
            gathered?.writeBuffer(&buffer)
        }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {
        self.trailingHeaders = trailingHeaders
    }
}

/// Counts a shed call's response body as it is written and hands its
/// figures to the metrics once the last byte is.
struct ShedBodyWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    var call: CallSummary
    let start: CaptureInstant
    let recorder: Recorder

    static func tap(_ body: ResponseBody, call: CallSummary, start: CaptureInstant, recorder: Recorder) -> ResponseBody {
        ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(ShedBodyWriter(base: writer, call: call, start: start, recorder: recorder))
        }
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        call.responseBodyBytes += buffer.readableBytes
        try await base.write(buffer)
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { call.responseBodyBytes += buffer.readableBytes }
        try await base.write(contentsOf: buffers)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
        call.durationNanoseconds = start.elapsedNanoseconds
        recorder.recordShedCall(call)
    }
}

/// Where an error response's body goes when the middleware records it:
/// the router writes its own copy to the client.
struct DiscardingBodyWriter: ResponseBodyWriter {
    mutating func write(_ buffer: ByteBuffer) async throws {}
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A request body that hands each chunk to the exchange as the handler
/// reads it: never collected by the middleware.
struct RecordingRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let exchange: ActiveExchange

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let exchange: ActiveExchange

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            buffer.withUnsafeReadableBytes { exchange.recordRequestBody($0) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), exchange: exchange)
    }
}
