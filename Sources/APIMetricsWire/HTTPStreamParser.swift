#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetrics

/// An incremental HTTP/1.1 parser for one direction of a connection.
///
/// Bytes may arrive in any split, down to one at a time; the parser keeps
/// only the line it is in the middle of, never a body. It reports what it
/// reads through `emit` and never touches the bytes themselves.
struct HTTPStreamParser {
    enum Role {
        case request
        case response
    }

    struct Head {
        /// Request: method, target, version. Response: version, status, reason.
        var first: String
        var second: String
        var third: String
        /// Built as the fields are read, in the core's own type, so that
        /// the tap hands them on without another copy.
        var headers: HeaderFields

        /// Response: the status code, read once from its three digits.
        var status = 0

        func header(_ name: String) -> String? {
            headers[name]
        }

        func values(_ name: String) -> [String] {
            headers.values(for: name)
        }
    }

    /// How the body of the message whose head was just read is framed.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
        /// The connection leaves HTTP after this head (101, CONNECT 2xx).
        case switched
        /// The head cannot be framed (bad Content-Length, unknown coding).
        case invalid(String)
    }

    /// What the parser reports; the answer matters only for `.head`, where
    /// it is how the message's body is framed (the caller knows, for a
    /// response, the request's method). Events are handed over as they
    /// happen, so a caller can act on each one without keeping it.
    typealias Emit = (Event) -> Framing

    enum Event {
        /// The first byte of a new message arrived.
        case messageStart
        case head(Head)
        case body(ArraySlice<UInt8>)
        case end
        /// The stream cannot be read further; `partial` is the start line
        /// when it was read before the failure.
        case failure(String, partial: Head?)
    }

    struct Limits {
        var startLine = 8 * 1024
        var headerSection = 64 * 1024
        var headerCount = 100
    }

    private enum State {
        case idle
        case startLine
        case headers
        case lengthBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    let role: Role
    let limits: Limits
    private var state = State.idle
    private var line: [UInt8] = []
    private var headSize = 0
    private var head: Head?
    private var pendingHeaders = HeaderFields()
    /// Whether `pendingHeaders` was sized for this head alone (the head is
    /// given the list itself), or is the scratch list reused across heads
    /// (the head gets an exact copy).
    private var pendingIsExact = false

    /// Whether the parser stopped for good (failure or switched protocols).
    var isStopped: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether a message has started and not yet ended.
    var isInMessage: Bool {
        switch state {
        case .idle, .done: return false
        default: return true
        }
    }

    init(role: Role, limits: Limits = Limits()) {
        self.role = role
        self.limits = limits
    }

    /// The index of the first LF at or after `start`, found with memchr.
    private static func firstNewline(in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            let offset = start - bytes.startIndex
            guard let found = memchr(base + offset, 0x0A, buffer.count - offset) else { return nil }
            return bytes.startIndex + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
        }
    }

    mutating func stop() {
        state = .done
        line = []
    }

    /// Parses `bytes`; returns how many it consumed, which is fewer than all
    /// only when the parser stopped (a failure, or a switch of protocols).
    @discardableResult
    mutating func feed(_ bytes: ArraySlice<UInt8>, emit: Emit) -> Int {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .done:
                return index - bytes.startIndex
            case .idle:
                // Empty lines between messages are tolerated (RFC 9112 §2.2).
                let byte = bytes[index]
                if byte == 0x0D || byte == 0x0A {
                    index += 1
                    continue
                }
                _ = emit(.messageStart)
                state = .startLine
                line.removeAll(keepingCapacity: true)
                headSize = 0
                pendingHeaders.removeAll(keepingCapacity: true)
            case .startLine, .headers, .chunkSize, .trailers, .chunkDataEnd:
                if case .startLine = state, line.isEmpty, let next = feedWholeHead(bytes, from: index, emit: emit) {
                    index = next
                    continue
                }
                guard let newline = Self.firstNewline(in: bytes, from: index) else {
                    line.append(contentsOf: bytes[index...])
                    _ = checkLineLimit(line.count, emit: emit)
                    return bytes.count
                }
                if line.isEmpty {
                    // The whole line is in this chunk (the usual case): it is
                    // read where it lies, never copied.
                    let start = index
                    index = newline + 1
                    if !checkLineLimit(newline - start, emit: emit) { return index - bytes.startIndex }
                    let end = newline > start && bytes[newline - 1] == 0x0D ? newline - 1 : newline
                    bytes[start..<end].withUnsafeBufferPointer { lineCompleted($0, emit: emit) }
                    continue
                }
                line.append(contentsOf: bytes[index..<newline])
                index = newline + 1
                if !checkLineLimit(line.count, emit: emit) { return index - bytes.startIndex }
                if line.last == 0x0D { line.removeLast() }
                // Swap the line out rather than copy it, and take its buffer
                // back afterwards: no allocation per line.
                var completed: [UInt8] = []
                swap(&completed, &line)
                completed.withUnsafeBufferPointer { lineCompleted($0, emit: emit) }
                if line.isEmpty && line.capacity == 0 {
                    completed.removeAll(keepingCapacity: true)
                    line = completed
                }
            case let .lengthBody(remaining):
                let take = min(remaining, bytes.endIndex - index)
                _ = emit(.body(bytes[index..<index + take]))
                index += take
                if remaining - take == 0 {
                    state = .idle
                    _ = emit(.end)
                } else {
                    state = .lengthBody(remaining: remaining - take)
                }
            case let .chunkData(remaining):
                let take = min(remaining, bytes.endIndex - index)
                _ = emit(.body(bytes[index..<index + take]))
                index += take
                state = remaining - take == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .untilClose:
                _ = emit(.body(bytes[index...]))
                index = bytes.endIndex
            }
        }
        return bytes.count
    }

    /// Reads a head that lies whole in `bytes` from `start` (the usual case:
    /// a client sends its head in one write) in one pass over raw memory,
    /// into a header list sized for it. Returns where reading stopped, or
    /// `nil`, having changed nothing, when the blank line that ends the head
    /// is not in `bytes`: the line-by-line path takes over then.
    private mutating func feedWholeHead(_ bytes: ArraySlice<UInt8>, from start: Int, emit: Emit) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            let first = start - bytes.startIndex
            // Find the blank line first, counting lines: nothing is read yet.
            var offset = first
            var lines = 0
            var end = -1
            while offset < buffer.count, let found = memchr(base + offset, 0x0A, buffer.count - offset) {
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                lines += 1
                if lines > 1 && (newline == offset || (newline == offset + 1 && base[offset] == 0x0D)) {
                    end = newline + 1
                    break
                }
                offset = newline + 1
            }
            guard end >= 0 else { return nil }
            // Names and values take less room than the lines that hold them.
            var exact = HeaderFields()
            exact.reserveCapacity(byteCount: end - first, fieldCount: lines - 2)
            swap(&exact, &pendingHeaders)
            pendingIsExact = true
            defer { pendingIsExact = false }
            var lineStart = first
            while lineStart < end, let found = memchr(base + lineStart, 0x0A, end - lineStart) {
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                defer { lineStart = newline + 1 }
                if !checkLineLimit(newline - lineStart, emit: emit) { return bytes.startIndex + newline + 1 }
                let lineEnd = newline > lineStart && base[newline - 1] == 0x0D ? newline - 1 : newline
                lineCompleted(UnsafeBufferPointer(start: base + lineStart, count: lineEnd - lineStart), emit: emit)
                switch state {
                case .startLine, .headers: continue
                default: return bytes.startIndex + newline + 1
                }
            }
            return bytes.startIndex + lineStart
        }
    }

    /// The peer closed: a close-delimited body ends here; any other message
    /// cut short is reported as a failure.
    mutating func finish(emit: Emit) {
        switch state {
        case .untilClose:
            state = .idle
            _ = emit(.end)
        case .idle, .done:
            break
        default:
            fail("the connection closed in the middle of a message", emit: emit)
        }
        state = .done
    }

    /// Whether a line of `length` bytes (so far) is within the limits; fails
    /// the stream when it is not.
    private mutating func checkLineLimit(_ length: Int, emit: Emit) -> Bool {
        switch state {
        case .startLine:
            if length > limits.startLine {
                fail("the start line is longer than \(limits.startLine) bytes", emit: emit)
                return false
            }
        case .headers, .trailers:
            if headSize + length > limits.headerSection {
                fail("the header section is larger than \(limits.headerSection) bytes", emit: emit)
                return false
            }
        default:
            if length > 4096 {
                fail("a chunk line is longer than 4096 bytes", emit: emit)
                return false
            }
        }
        return true
    }

    private mutating func fail(_ reason: String, emit: Emit) {
        state = .done
        line = []
        let partial = head
        head = nil
        _ = emit(.failure(reason, partial: partial))
    }

    private mutating func lineCompleted(_ bytes: UnsafeBufferPointer<UInt8>, emit: Emit) {
        switch state {
        case .startLine:
            guard let parsed = parseStartLine(bytes) else {
                fail(role == .request ? "malformed request line" : "malformed status line", emit: emit)
                return
            }
            head = parsed
            state = .headers
        case .headers:
            headSize += bytes.count + 2
            if bytes.isEmpty {
                guard var head = self.head.take() else { return }
                if pendingIsExact {
                    // Sized for this head: handed over whole.
                    swap(&head.headers, &pendingHeaders)
                } else {
                    // The scratch list keeps its buffers for the next message;
                    // the head gets an exact copy (two allocations).
                    head.headers = pendingHeaders.compacted()
                }
                let framing = emit(.head(head))
                if case .done = state { return }
                begin(framing, emit: emit)
                return
            }
            guard let field = parseField(bytes) else {
                fail("malformed header field", emit: emit)
                return
            }
            pendingHeaders.append(nameBytes: UnsafeBufferPointer(rebasing: bytes[field.name]),
                                  valueBytes: UnsafeBufferPointer(rebasing: bytes[field.value]))
            if pendingHeaders.count > limits.headerCount {
                fail("more than \(limits.headerCount) header fields", emit: emit)
            }
        case .chunkSize:
            let sizeEnd = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            guard let size = parseHex(UnsafeBufferPointer(rebasing: bytes[..<sizeEnd])) else {
                fail("malformed chunk size", emit: emit)
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
                state = .idle
                _ = emit(.end)
            } else if parseField(bytes) == nil {
                fail("malformed trailer field", emit: emit)
            }
        default:
            break
        }
    }

    private mutating func begin(_ framing: Framing, emit: Emit) {
        switch framing {
        case .none:
            state = .idle
            _ = emit(.end)
        case let .length(count):
            if count == 0 {
                state = .idle
                _ = emit(.end)
            } else {
                state = .lengthBody(remaining: count)
            }
        case .chunked:
            state = .chunkSize
        case .untilClose:
            state = .untilClose
        case .switched:
            state = .done
            _ = emit(.end)
        case let .invalid(reason):
            fail(reason, emit: emit)
        }
    }

    /// Splits the start line on bytes: no Character (grapheme) walking.
    private func parseStartLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Head? {
        guard !bytes.isEmpty else { return nil }
        for byte in bytes where !((byte >= 0x20 && byte != 0x7F) || byte == 0x09) { return nil }
        let space = UInt8(ascii: " ")
        guard let firstSpace = bytes.firstIndex(of: space) else { return nil }
        let first = UnsafeBufferPointer(rebasing: bytes[..<firstSpace])
        let afterFirst = firstSpace + 1
        func isVersion(_ slice: UnsafeBufferPointer<UInt8>) -> Bool {
            slice.count >= 7 && slice.baseAddress.map { memcmp($0, "HTTP/1.", 7) == 0 } ?? false
        }
        switch role {
        case .request:
            guard let secondSpace = bytes[afterFirst...].firstIndex(of: space) else { return nil }
            let target = UnsafeBufferPointer(rebasing: bytes[afterFirst..<secondSpace])
            let version = UnsafeBufferPointer(rebasing: bytes[(secondSpace + 1)...])
            guard !first.isEmpty, !target.isEmpty, !version.contains(space),
                  first.allSatisfy(HeaderName.isTokenByte), isVersion(version) else { return nil }
            return Head(first: Self.text(first), second: Self.text(target), third: Self.text(version), headers: HeaderFields())
        case .response:
            guard isVersion(first) else { return nil }
            let statusEnd = bytes[afterFirst...].firstIndex(of: space) ?? bytes.count
            let status = UnsafeBufferPointer(rebasing: bytes[afterFirst..<statusEnd])
            guard status.count == 3, status.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), status[0] != 0x30 else { return nil }
            let reason = statusEnd < bytes.count ? Self.text(UnsafeBufferPointer(rebasing: bytes[(statusEnd + 1)...])) : ""
            var head = Head(first: Self.text(first), second: Self.text(status), third: reason, headers: HeaderFields())
            head.status = status.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return head
        }
    }

    /// The start line's words as strings; the common ones (methods,
    /// versions, the usual reasons) are literals, so that no string is
    /// decoded or validated for them.
    private static func text(_ buffer: UnsafeBufferPointer<UInt8>) -> String {
        do {
            guard let base = buffer.baseAddress else { return "" }
            func equals(_ literal: StaticString) -> Bool {
                literal.utf8CodeUnitCount == buffer.count && memcmp(base, literal.utf8Start, buffer.count) == 0
            }
            switch buffer.count {
            case 2:
                if equals("OK") { return "OK" }
            case 3:
                if equals("GET") { return "GET" }
                if equals("PUT") { return "PUT" }
                if equals("200") { return "200" }
                if equals("201") { return "201" }
            case 4:
                if equals("POST") { return "POST" }
                if equals("HEAD") { return "HEAD" }
            case 6:
                if equals("DELETE") { return "DELETE" }
            case 8:
                if equals("HTTP/1.1") { return "HTTP/1.1" }
                if equals("HTTP/1.0") { return "HTTP/1.0" }
            default:
                break
            }
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    /// Where the name and the value (without surrounding whitespace) lie,
    /// as offsets in `buffer`.
    private func parseField(_ buffer: UnsafeBufferPointer<UInt8>) -> (name: Range<Int>, value: Range<Int>)? {
        let count = buffer.count
        var colon = 0
        while colon < count && buffer[colon] != UInt8(ascii: ":") {
            guard HeaderName.isTokenByte(buffer[colon]) else { return nil }
            colon += 1
        }
        guard colon > 0, colon < count else { return nil }
        var start = colon + 1
        var end = count
        while start < end, buffer[start] == 0x20 || buffer[start] == 0x09 { start += 1 }
        while end > start, buffer[end - 1] == 0x20 || buffer[end - 1] == 0x09 { end -= 1 }
        return (0..<colon, start..<end)
    }

    private func parseHex(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var count = bytes.count
        while count > 0, bytes[count - 1] == 0x20 || bytes[count - 1] == 0x09 { count -= 1 }
        guard count > 0, count <= 15 else { return nil }
        var value = 0
        for byte in bytes[..<count] {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    /// The framing of a request body (RFC 9112 §6.3).
    static func requestFraming(_ head: Head) -> Framing {
        // Most requests carry neither header: answer without making strings.
        if head.headers.count(named: "transfer-encoding") == 0 && head.headers.count(named: "content-length") == 0 {
            return .none
        }
        let codings = head.values("transfer-encoding")
        if !codings.isEmpty {
            return lastCoding(codings) == "chunked" ? .chunked : .invalid("a request transfer coding other than chunked")
        }
        switch contentLength(head) {
        case let .some(.some(length)): return .length(length)
        case .some(.none): return .none
        case .none: return .invalid("an invalid Content-Length")
        }
    }

    /// The framing of a response body, given the request's method.
    static func responseFraming(_ head: Head, requestMethod: String?) -> Framing {
        let status = head.status
        if status == 101 { return .switched }
        if requestMethod == "CONNECT" && (200..<300).contains(status) { return .switched }
        if (100..<200).contains(status) || status == 204 || status == 304 || requestMethod == "HEAD" {
            return .none
        }
        // The usual answer, one Content-Length of plain digits, read from its bytes.
        if head.headers.count(named: "content-length") == 1, head.headers.count(named: "transfer-encoding") == 0,
           let length = head.headers.withFirstValue(named: "content-length", Self.plainDecimal) {
            return .length(length)
        }
        let codings = head.values("transfer-encoding")
        if !codings.isEmpty {
            return lastCoding(codings) == "chunked" ? .chunked : .untilClose
        }
        switch contentLength(head) {
        case let .some(.some(length)): return .length(length)
        case .some(.none): return .untilClose
        case .none: return .invalid("an invalid Content-Length")
        }
    }

    /// One to fifteen ASCII digits as a number; anything else is `nil`.
    private static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>?) -> Int? {
        guard let bytes, !bytes.isEmpty, bytes.count <= 15 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func lastCoding(_ values: [String]) -> String? {
        values.joined(separator: ",").split(separator: ",").last.map { String($0).trimmed.lowercased() }
    }

    /// `.some(nil)` when absent, `.some(n)` when valid, `nil` when invalid
    /// (differing or malformed values).
    private static func contentLength(_ head: Head) -> Int?? {
        let values = head.values("content-length").flatMap { $0.split(separator: ",").map { String($0).trimmed } }
        guard let first = values.first else { return .some(nil) }
        guard values.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              first.count <= 15, let length = Int(first) else { return nil }
        return .some(length)
    }
}

enum HeaderName {
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && lhs.lowercased() == rhs.lowercased()
    }

    /// RFC 9110 token characters: a bit per byte, in four words, so that
    /// the check is a shift and a mask rather than a chain of comparisons.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        // Bits set for ! # $ % & ' * + - . 0-9 (bytes 0-63) and A-Z ^ _ ` a-z | ~ (64-127).
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        switch byte >> 6 {
        case 0: return (low >> UInt64(byte & 63)) & 1 == 1
        case 1: return (high >> UInt64(byte & 63)) & 1 == 1
        default: return false
        }
    }
}

extension String {
    var trimmed: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
