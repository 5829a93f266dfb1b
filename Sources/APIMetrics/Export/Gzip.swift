import CZlib

/// gzip (RFC 1952) through the system's zlib.
package enum Gzip {
    package struct Failure: Error, CustomStringConvertible {
        var code: Int32
        package var description: String { "zlib error \(code)" }
    }

    package static func compress(_ input: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip header and trailer.
        let initialized = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { throw Failure(code: initialized) }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var mutableInput = input
        let result: Int32 = mutableInput.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { throw Failure(code: result) }
        output.removeLast(bound - Int(stream.total_out))
        return output
    }

    /// Decompresses a gzip or zlib stream; used by tests and by whoever reads
    /// a compressed spool.
    package static func decompress(_ input: [UInt8], maxOutput: Int = 256 * 1024 * 1024) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 + 32 detects gzip or zlib headers automatically.
        let initialized = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { throw Failure(code: initialized) }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var mutableInput = input
        var status: Int32 = Z_OK
        mutableInput.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { destination in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = uInt(destination.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return destination.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[..<produced])
                if output.count > maxOutput { status = Z_BUF_ERROR; return }
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END else { throw Failure(code: status) }
        return output
    }

    /// The framings a compressed body can come in.
    package enum Framing: Sendable {
        /// RFC 1952, `Content-Encoding: gzip` (and `x-gzip`).
        case gzip
        /// RFC 1950, what `Content-Encoding: deflate` means.
        case zlib
        /// RFC 1951 with no wrapper, what some clients send as `deflate`.
        case raw

        var windowBits: Int32 {
            switch self {
            case .gzip: 15 + 16
            case .zlib: 15
            case .raw: -15
            }
        }
    }

    /// Why a body could not be inflated.
    package enum InflateFailure: Error, Sendable, Equatable {
        /// Not a stream in the framing asked for, or bytes after its end.
        case invalid
        /// It would inflate past the limit (a compression bomb, or a body
        /// bigger than we keep).
        case tooLarge
    }

    /// Inflates one compressed stream into at most `maxOutput` bytes. A
    /// stream that stops before its end (a body cut at the capture limit)
    /// gives what it held with `isComplete` false; anything after the end
    /// of the stream is refused, so nothing can hide behind it.
    package static func inflate(
        _ input: [UInt8], framing: Framing, maxOutput: Int
    ) throws(InflateFailure) -> (bytes: [UInt8], isComplete: Bool) {
        var stream = z_stream()
        guard inflateInit2_(&stream, framing.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalid
        }
        defer { inflateEnd(&stream) }
        // Room for one byte past the limit: producing it proves the limit is passed.
        let capacity = maxOutput + 1
        var output = [UInt8](repeating: 0, count: min(capacity, max(4096, input.count * 4)))
        var produced = 0
        var status: Int32 = Z_OK
        var mutableInput = input
        mutableInput.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                if produced == output.count {
                    guard output.count < capacity else { return }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, capacity - output.count)))
                }
                status = output.withUnsafeMutableBufferPointer { destination -> Int32 in
                    stream.next_out = destination.baseAddress.map { $0 + produced }
                    stream.avail_out = uInt(destination.count - produced)
                    let result = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = destination.count - Int(stream.avail_out)
                    return result
                }
                if status != Z_OK { return }
                if stream.avail_in == 0 && produced < output.count { return }
            }
        }
        if produced > maxOutput { throw .tooLarge }
        output.removeLast(output.count - produced)
        switch status {
        case Z_STREAM_END:
            guard stream.avail_in == 0 else { throw .invalid }
            return (output, true)
        case Z_OK, Z_BUF_ERROR:
            guard stream.avail_in == 0 else { throw .invalid }
            return (output, false)
        default:
            throw .invalid
        }
    }
}
