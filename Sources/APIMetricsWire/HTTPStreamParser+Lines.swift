#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetrics

/// A completed line of a head, a chunk-size line or a trailer: what it
/// means in the state the parser is in.
extension HTTPStreamParser {
    mutating func lineCompleted(_ bytes: UnsafeBufferPointer<UInt8>, bareLF: Bool, emit: Emit) {
        var isStartLine = false
        if case .startLine = state { isStartLine = true }
        if !isStartLine, bytes.count > 0, let base = bytes.baseAddress, memchr(base, 0x0D, bytes.count) != nil {
            fail("a bare CR inside a line", emit: emit)
            return
        }
        switch state {
        case .startLine:
            guard let parsed = parseStartLine(bytes) else {
                fail(role == .request ? "malformed request line" : "malformed status line", emit: emit)
                return
            }
            startLine = parsed
            state = .headers
            if bareLF { fail("a line ended by a bare LF", emit: emit) }
            return
        default:
            if bareLF {
                fail("a line ended by a bare LF", emit: emit)
                return
            }
        }
        switch state {
        case .headers:
            headSize += bytes.count + 2
            if bytes.isEmpty {
                guard let line = startLine.take() else { return }
                let framing = emit(.head(makeHead(line)))
                if case .done = state { return }
                begin(framing, emit: emit)
                return
            }
            guard let field = parseField(bytes), let base = bytes.baseAddress else {
                fail("malformed header field", emit: emit)
                return
            }
            // Every field counts against the limit, kept or not: a shedding
            // parser stops where a capturing one does.
            if counts.fields >= limits.headerCount {
                fail("more than \(limits.headerCount) header fields", emit: emit)
                return
            }
            counts.fields += 1
            let name = UnsafeBufferPointer(start: base, count: field.nameEnd)
            let value = UnsafeBufferPointer(start: base + field.valueStart, count: field.valueEnd - field.valueStart)
            let framingName = Self.framingName(name)
            switch framingName {
            case .none:
                guard collectsFields else {
                    counts.hasAllFields = false
                    return
                }
            case .connection:
                Self.readConnectionOptions(value, into: &counts)
            case .contentLength:
                if role == .request {
                    // Refused at once, as a strict server refuses it: a second
                    // field (equal or not), or a value that is not one to
                    // fifteen digits (a sign, a list, a number past any body).
                    guard counts.contentLength == 0 else {
                        fail("a second Content-Length field", emit: emit)
                        return
                    }
                    guard let length = Self.plainDecimal(value) else {
                        fail("an invalid Content-Length", emit: emit)
                        return
                    }
                    counts.plainContentLength = length
                } else if counts.contentLength == 0 {
                    counts.plainContentLength = Self.plainDecimal(value)
                }
                counts.contentLength += 1
            case .transferEncoding:
                counts.transferEncoding += 1
            case .upgrade:
                counts.upgrade += 1
            }
            scratch?.append(name: name, value: value)
        case .chunkSize:
            // The size's hex digits end at the line's end or at `;`: no
            // space before either (a lenient reader and a strict server
            // would part ways there).
            let sizeEnd = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            guard let size = parseHex(UnsafeBufferPointer(rebasing: bytes[..<sizeEnd])) else {
                fail("malformed chunk size", emit: emit)
                return
            }
            if sizeEnd < bytes.count, !Self.isChunkExtension(UnsafeBufferPointer(rebasing: bytes[sizeEnd...])) {
                fail("malformed chunk extension", emit: emit)
                return
            }
            if size == 0 {
                headSize = 0
                state = .trailers
            } else {
                state = .chunkData(remaining: size)
            }
        case .chunkDataEnd:
            guard bytes.isEmpty else {
                fail("chunk data not followed by CRLF", emit: emit)
                return
            }
            state = .chunkSize
        case .trailers:
            headSize += bytes.count + 2
            if bytes.isEmpty {
                endMessage(emit: emit)
            } else if parseField(bytes) == nil {
                fail("malformed trailer field", emit: emit)
            }
        default:
            break
        }
    }
}
