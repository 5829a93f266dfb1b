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

    /// What a response's framing needs to know of the request it answers.
    enum MethodKind {
        case other
        /// `HEAD`: the response has no body, whatever its fields say.
        case head
        /// `CONNECT`: a 2xx response switches the connection to a tunnel.
        case connect
    }

    struct Head {
        /// Request: the method as sent (the common ones are literals).
        var method = ""
        /// Request: whether the method is one that changes how the response
        /// is framed, decided once as the start line is read.
        var methodKind = MethodKind.other
        /// Response: the status code, read once from its three digits.
        var status = 0
        /// The head's fields as read, valid only while its event is handled
        /// (the parser reuses the memory for the next message): the list is
        /// made from them only when asked, so that a head whose exchange is
        /// shed (the queue is full) costs no copy of its fields.
        var fields: HeadScratch?

        /// The fields that decide framing, counted as the head is read.
        var counts = FieldCounts()

        /// Request: the target as sent, made into a string only when asked
        /// (a shed exchange never asks); only while the event is handled.
        func makeTarget() -> String {
            fields?.makeTarget() ?? ""
        }

        /// The fields as the core's list, made in one go (two allocations of
        /// exactly the size needed); only while the event is handled.
        func makeHeaders() -> HeaderFields {
            fields?.makeHeaderFields() ?? HeaderFields()
        }

        /// Every value of the field named `name`; for the rare heads that
        /// need one read (framing past the usual cases, upgrades).
        func values(_ name: String) -> [String] {
            makeHeaders().values(for: name)
        }
    }

    /// What the start line says: the method (requests) or the status
    /// (responses).
    struct StartLine {
        var method: String
        var methodKind: MethodKind
        var status: Int
    }

    /// The fields that decide framing, counted as a head is read, so that
    /// the usual head (none of them, or one plain Content-Length) is framed
    /// without looking anything up. Kept by the parser while the head is
    /// read (plain integers, not fields of the optional head, whose every
    /// change would copy it) and handed over with the head.
    struct FieldCounts {
        /// Every field read, kept or not.
        var fields = 0
        var contentLength = 0
        var transferEncoding = 0
        var upgrade = 0
        /// The first Content-Length, when it is plain digits.
        var plainContentLength: Int?
        /// Whether every field was kept; `false` when the parser was told
        /// not to collect them (the exchange is being shed) and kept only
        /// those that decide framing.
        var hasAllFields = true
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
    /// The start line of the message being read, kept until its head is
    /// whole (small: the head itself is made only to be handed over).
    private var startLine: StartLine?
    /// The fields of the head being read; made on the first message, so
    /// that the empty parser a caller swaps in costs nothing.
    private var scratch: HeadScratch?
    private var counts = FieldCounts()
    /// Whether the fields of the messages that start now are kept. When
    /// `false` (the tap is shedding exchanges), only those that decide
    /// framing are: the head is still read whole, and nothing else copied.
    var collectsFields = true

    /// The head of the message being read, from its start line and what
    /// has been gathered of its fields.
    private func makeHead(_ line: StartLine) -> Head {
        Head(method: line.method, methodKind: line.methodKind, status: line.status, fields: scratch, counts: counts)
    }

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
                if let scratch { scratch.removeAll() } else { scratch = HeadScratch() }
                counts = FieldCounts()
            case .startLine, .headers, .chunkSize, .trailers, .chunkDataEnd:
                if line.isEmpty {
                    // Every whole line in this chunk (the usual case: a head
                    // arrives in one read) is read where it lies, in one pass.
                    let next = feedWholeLines(bytes, from: index, emit: emit)
                    if next != index || !isReadingLines {
                        index = next
                        continue
                    }
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

    /// Whether the parser is between lines (a head, a chunk size, trailers).
    private var isReadingLines: Bool {
        switch state {
        case .startLine, .headers, .chunkSize, .trailers, .chunkDataEnd: return true
        default: return false
        }
    }

    /// Reads every whole line of `bytes` from `start` while the parser is
    /// reading lines, with one pointer into the caller's memory and no copy.
    /// Returns where it stopped: at a line it cannot finish (the partial-line
    /// path takes it), at a body, or where a failure stopped the stream.
    private mutating func feedWholeLines(_ bytes: ArraySlice<UInt8>, from start: Int, emit: Emit) -> Int {
        bytes.withUnsafeBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return start }
            var offset = start - bytes.startIndex
            while offset < buffer.count && isReadingLines {
                guard let found = memchr(base + offset, 0x0A, buffer.count - offset) else { break }
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                if !checkLineLimit(newline - offset, emit: emit) { return bytes.startIndex + newline + 1 }
                let lineEnd = newline > offset && base[newline - 1] == 0x0D ? newline - 1 : newline
                lineCompleted(UnsafeBufferPointer(start: base + offset, count: lineEnd - offset), emit: emit)
                offset = newline + 1
            }
            return bytes.startIndex + offset
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
        let partial = startLine.map(makeHead)
        startLine = nil
        _ = emit(.failure(reason, partial: partial))
    }

    @inline(__always)
    private mutating func lineCompleted(_ bytes: UnsafeBufferPointer<UInt8>, emit: Emit) {
        switch state {
        case .startLine:
            guard let parsed = parseStartLine(bytes) else {
                fail(role == .request ? "malformed request line" : "malformed status line", emit: emit)
                return
            }
            startLine = parsed
            state = .headers
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
                break
            case .contentLength:
                if counts.contentLength == 0 { counts.plainContentLength = Self.plainDecimal(value) }
                counts.contentLength += 1
            case .transferEncoding:
                counts.transferEncoding += 1
            case .upgrade:
                counts.upgrade += 1
            }
            scratch?.append(name: name, value: value)
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

    /// Reads the start line in one pass over its bytes: where the first two
    /// spaces are, and that nothing in it is a control byte but a tab.
    private func parseStartLine(_ bytes: UnsafeBufferPointer<UInt8>) -> StartLine? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let count = bytes.count
        let space = UInt8(ascii: " ")
        var firstSpace = -1
        var secondSpace = -1
        var index = 0
        while index < count {
            // Eight bytes at a time up to the next byte that needs a look (a
            // space, a control byte, DEL): most of the line is skipped whole.
            if index &+ 8 <= count {
                let stops = Self.startLineStops(UnsafeRawPointer(base + index))
                if stops == 0 {
                    index &+= 8
                    continue
                }
                index &+= stops.trailingZeroBitCount &>> 3
            }
            let position = index
            let byte = base[position]
            index &+= 1
            if byte <= space {
                if byte == space {
                    if firstSpace < 0 {
                        firstSpace = position
                    } else if secondSpace < 0 {
                        secondSpace = position
                    } else if role == .request {
                        // A request's version holds no space.
                        return nil
                    }
                } else if byte != 0x09 {
                    return nil
                }
            } else if byte == 0x7F {
                return nil
            }
        }
        guard firstSpace >= 0 else { return nil }
        func isVersion(_ start: UnsafePointer<UInt8>, _ length: Int) -> Bool {
            length >= 7 && memcmp(start, "HTTP/1.", 7) == 0
        }
        switch role {
        case .request:
            guard firstSpace > 0, secondSpace > firstSpace + 1,
                  isVersion(base + secondSpace + 1, count - secondSpace - 1) else { return nil }
            for index in 0..<firstSpace where !HeaderName.isTokenByte(base[index]) { return nil }
            // The target is kept as bytes: a string is made only for an
            // exchange that is captured.
            scratch?.setTarget(UnsafeBufferPointer(start: base + firstSpace + 1, count: secondSpace - firstSpace - 1))
            let method = Self.method(UnsafeBufferPointer(start: base, count: firstSpace))
            return StartLine(method: method.text, methodKind: method.kind, status: 0)
        case .response:
            guard isVersion(base, firstSpace) else { return nil }
            let statusEnd = secondSpace >= 0 ? secondSpace : count
            guard statusEnd - firstSpace - 1 == 3 else { return nil }
            var status = 0
            for index in (firstSpace + 1)..<statusEnd {
                let digit = base[index] &- 0x30
                guard digit <= 9 else { return nil }
                status = status * 10 + Int(digit)
            }
            guard status >= 100 else { return nil }
            return StartLine(method: "", methodKind: .other, status: status)
        }
    }

    /// A method as a string, and its kind; the common ones are literals, so
    /// that no string is decoded or validated for them.
    private static func method(_ buffer: UnsafeBufferPointer<UInt8>) -> (text: String, kind: MethodKind) {
        guard let base = buffer.baseAddress else { return ("", .other) }
        func equals(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == buffer.count && memcmp(base, literal.utf8Start, buffer.count) == 0
        }
        switch buffer.count {
        case 3:
            if equals("GET") { return ("GET", .other) }
            if equals("PUT") { return ("PUT", .other) }
        case 4:
            if equals("POST") { return ("POST", .other) }
            if equals("HEAD") { return ("HEAD", .head) }
        case 5:
            if equals("PATCH") { return ("PATCH", .other) }
        case 6:
            if equals("DELETE") { return ("DELETE", .other) }
        case 7:
            if equals("OPTIONS") { return ("OPTIONS", .other) }
            if equals("CONNECT") { return ("CONNECT", .connect) }
        default:
            break
        }
        return (String(decoding: buffer, as: UTF8.self), .other)
    }

    /// The bytes of the eight at `pointer` that the start line's scan must
    /// look at one by one, as the high bit of each: a space or control byte
    /// (at most 0x20) or DEL. Bytes of 0x80 and above (obs-text) are not
    /// stops. The arithmetic is done on seven bits, so that no byte's sum
    /// carries into its neighbour's.
    @inline(__always)
    static func startLineStops(_ pointer: UnsafeRawPointer) -> UInt64 {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0x8080_8080_8080_8080
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        // ASCII bytes below 0x21: adding 0x5F to the low seven bits leaves the high bit clear.
        let belowBang = ~((word & low) &+ 0x5F5F_5F5F_5F5F_5F5F) & ~word & high
        // DEL: the byte XOR 0x7F is zero.
        let delta = word ^ low
        let isDel = ~(((delta & low) &+ low) | delta) & high
        return belowBang | isDel
    }

    /// How many of the eight bytes at `pointer`, from the first, are
    /// letters, digits or `-` (the bytes of almost every field name): 8 when
    /// all are. The first byte that is not (a colon, a rarer token byte, or
    /// a byte no name may hold) is then looked at one by one. A byte of 0x80
    /// or above can carry into the bytes after it, never into those before,
    /// and is itself not one of these: the count is exact.
    @inline(__always)
    static func commonNameBytes(_ pointer: UnsafeRawPointer) -> Int {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0x8080_8080_8080_8080
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let folded = word | 0x2020_2020_2020_2020
        // a-z once case is folded: at least 0x61 and below 0x7B.
        let letter = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(folded &+ 0x0505_0505_0505_0505)
        // 0-9: at least 0x30 and below 0x3A (on the unfolded byte).
        let digit = (word &+ 0x5050_5050_5050_5050) & ~(word &+ 0x4646_4646_4646_4646)
        let delta = word ^ 0x2D2D_2D2D_2D2D_2D2D
        let dash = ~(((delta & low) &+ low) | delta)
        let common = (letter | digit | dash) & ~word & high
        return (~common & high).trailingZeroBitCount &>> 3
    }

    /// The header names that decide how a body is framed (Connection, with
    /// Upgrade, decides whether the protocol may switch).
    enum FramingName {
        case contentLength, transferEncoding, upgrade, connection
    }

    /// Which framing name `name` is, if any (any case), from its length and
    /// one or two word compares: most names are none, decided at once.
    /// Name bytes are tokens, so that setting the 0x20 bit folds case exactly.
    @inline(__always)
    static func framingName(_ name: UnsafeBufferPointer<UInt8>) -> FramingName? {
        guard let base = name.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) | 0x2020_2020_2020_2020
        }
        func half(_ offset: Int) -> UInt32 {
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) | 0x2020_2020
        }
        switch name.count {
        case 14:
            // "content-" and "t-length"
            return word(0) == 0x2D74_6E65_746E_6F63 && word(6) == 0x6874_676E_656C_2D74 ? .contentLength : nil
        case 17:
            // "transfer", "-encodin" and "encoding"
            return word(0) == 0x7265_6673_6E61_7274 && word(8) == 0x6E69_646F_636E_652D && word(9) == 0x676E_6964_6F63_6E65
                ? .transferEncoding : nil
        case 7:
            // "upgr" and "rade"
            return half(0) == 0x7267_7075 && half(3) == 0x6564_6172 ? .upgrade : nil
        case 10:
            // "connecti" and "nnection"
            return word(0) == 0x6974_6365_6E6E_6F63 && word(2) == 0x6E6F_6974_6365_6E6E ? .connection : nil
        default:
            return nil
        }
    }

    /// Where the name ends (at the colon) and where the value, without the
    /// whitespace around it, starts and ends, as offsets in `buffer`; `nil`
    /// when the name is empty or not a token, or there is no colon.
    @inline(__always)
    private func parseField(_ buffer: UnsafeBufferPointer<UInt8>) -> (nameEnd: Int, valueStart: Int, valueEnd: Int)? {
        guard let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var colon = 0
        // The value follows the name, so that eight bytes are there to read
        // for all but the shortest fields.
        while colon &+ 8 <= count {
            let common = Self.commonNameBytes(UnsafeRawPointer(base + colon))
            colon &+= common
            if common < 8 { break }
        }
        while colon < count && HeaderName.isTokenByte(base[colon]) { colon &+= 1 }
        guard colon > 0, colon < count, base[colon] == UInt8(ascii: ":") else { return nil }
        var start = colon &+ 1
        var end = count
        while start < end, base[start] == 0x20 || base[start] == 0x09 { start &+= 1 }
        while end > start, base[end &- 1] == 0x20 || base[end &- 1] == 0x09 { end &-= 1 }
        return (colon, start, end)
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
        // Most requests carry neither header: counted as they were read.
        if head.counts.transferEncoding == 0 && head.counts.contentLength == 0 {
            return .none
        }
        // The usual body: one Content-Length of plain digits, read with the head.
        if head.counts.contentLength == 1, head.counts.transferEncoding == 0, let length = head.counts.plainContentLength {
            return .length(length)
        }
        if head.counts.transferEncoding > 0 {
            let codings = head.values("transfer-encoding")
            return lastCoding(codings) == "chunked" ? .chunked : .invalid("a request transfer coding other than chunked")
        }
        switch contentLength(head) {
        case let .some(.some(length)): return .length(length)
        case .some(.none): return .none
        case .none: return .invalid("an invalid Content-Length")
        }
    }

    /// The framing of a response body, given the request's method.
    static func responseFraming(_ head: Head, requestMethod: MethodKind) -> Framing {
        let status = head.status
        if status == 101 { return .switched }
        if requestMethod == .connect && (200..<300).contains(status) { return .switched }
        if (100..<200).contains(status) || status == 204 || status == 304 || requestMethod == .head {
            return .none
        }
        // The usual answer, one Content-Length of plain digits, read with the head.
        if head.counts.contentLength == 1, head.counts.transferEncoding == 0, let length = head.counts.plainContentLength {
            return .length(length)
        }
        if head.counts.transferEncoding > 0 {
            let codings = head.values("transfer-encoding")
            return lastCoding(codings) == "chunked" ? .chunked : .untilClose
        }
        switch contentLength(head) {
        case let .some(.some(length)): return .length(length)
        case .some(.none): return .untilClose
        case .none: return .invalid("an invalid Content-Length")
        }
    }

    /// One to fifteen ASCII digits as a number; anything else is `nil`.
    private static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 15 else { return nil }
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
    /// RFC 9110 token characters: a bit per byte of 0-127, in two words, so
    /// that the check is a shift and a mask rather than a chain of comparisons.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        // Bits set for ! # $ % & ' * + - . 0-9 (bytes 0-63) and A-Z ^ _ ` a-z | ~ (64-127).
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let word = byte < 64 ? low : high
        return byte < 128 && (word >> UInt64(byte & 63)) & 1 == 1
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

/// The names and values of the head being read, back to back, and where
/// each lies, in raw memory kept from message to message: a field costs a
/// copy of its bytes, and the head's list is made in one go at its end (two
/// allocations of exactly the size needed).
final class HeadScratch {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity: Int
    private var byteCount = 0
    private var spans: UnsafeMutablePointer<HeaderFields.Span>
    private var spanCapacity: Int
    /// The number of fields held.
    private(set) var count = 0
    /// A request's target, kept until its head is handled.
    private var target: UnsafeMutablePointer<UInt8>
    private var targetCapacity = 256
    private var targetCount = 0

    init(byteCapacity: Int = 1024, spanCapacity: Int = 16) {
        self.byteCapacity = byteCapacity
        self.spanCapacity = spanCapacity
        bytes = .allocate(capacity: byteCapacity)
        spans = .allocate(capacity: spanCapacity)
        target = .allocate(capacity: targetCapacity)
    }

    deinit {
        bytes.deallocate()
        spans.deallocate()
        target.deallocate()
    }

    func removeAll() {
        byteCount = 0
        count = 0
        targetCount = 0
    }

    func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let needed = byteCount + name.count + value.count
        if needed > byteCapacity { growBytes(to: needed) }
        if count == spanCapacity { growSpans() }
        if let source = name.baseAddress { (bytes + byteCount).initialize(from: source, count: name.count) }
        if let source = value.baseAddress { (bytes + byteCount + name.count).initialize(from: source, count: value.count) }
        (spans + count).initialize(to: HeaderFields.Span(
            start: UInt32(truncatingIfNeeded: byteCount), nameLength: UInt32(truncatingIfNeeded: name.count),
            valueLength: UInt32(truncatingIfNeeded: value.count)))
        byteCount = needed
        count += 1
    }

    func setTarget(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.count > targetCapacity {
            target.deallocate()
            targetCapacity = max(bytes.count, targetCapacity * 2)
            target = .allocate(capacity: targetCapacity)
        }
        if let source = bytes.baseAddress { target.initialize(from: source, count: bytes.count) }
        targetCount = bytes.count
    }

    func makeTarget() -> String {
        String(decoding: UnsafeBufferPointer(start: target, count: targetCount), as: UTF8.self)
    }

    func makeHeaderFields() -> HeaderFields {
        HeaderFields(copyingBytes: UnsafeBufferPointer(start: bytes, count: byteCount),
                     spans: UnsafeBufferPointer(start: spans, count: count))
    }

    private func growBytes(to needed: Int) {
        let capacity = max(needed, byteCapacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: bytes, count: byteCount)
        bytes.deallocate()
        bytes = grown
        byteCapacity = capacity
    }

    private func growSpans() {
        let capacity = spanCapacity * 2
        let grown = UnsafeMutablePointer<HeaderFields.Span>.allocate(capacity: capacity)
        grown.initialize(from: spans, count: count)
        spans.deallocate()
        spans = grown
        spanCapacity = capacity
    }
}
