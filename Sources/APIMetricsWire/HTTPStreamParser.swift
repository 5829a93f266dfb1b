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
    enum State {
        case idle
        /// Requests: a CR between messages, which only an LF may follow.
        case blankLineCR
        case startLine
        case headers
        case lengthBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// Bytes of a body the message's framing said it would not have.
        case strayBody(remaining: Int)
        /// A request stream that failed: each line is looked at for a
        /// request line, where reading starts again (`skipping`: the rest of
        /// a line too long to be one is passed over).
        case resync(skipping: Bool)
        case done
    }

    let role: Role
    let limits: Limits
    var state = State.idle
    var line: [UInt8] = []
    var headSize = 0
    /// The start line of the message being read, kept until its head is
    /// whole (small: the head itself is made only to be handed over).
    var startLine: StartLine?
    /// The fields of the head being read; made on the first message, so
    /// that the empty parser a caller swaps in costs nothing.
    var scratch: HeadScratch?
    var counts = FieldCounts()
    /// The body the last message may carry after all (``Framing/noneUnlessSent(_:)``).
    var possibleStrayBody = 0
    /// Whether the fields of the messages that start now are kept. When
    /// `false` (the tap is shedding exchanges), only those that decide
    /// framing are: the head is still read whole, and nothing else copied.
    var collectsFields = true

    /// The head of the message being read, from its start line and what
    /// has been gathered of its fields.
    func makeHead(_ line: StartLine) -> Head {
        Head(
            method: line.method, methodKind: line.methodKind, status: line.status, version: line.version, fields: scratch,
            counts: counts)
    }

    /// Whether the parser stopped for good (failure or switched protocols).
    var isStopped: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether a message's head has started and not yet ended.
    var isInHead: Bool {
        switch state {
        case .startLine, .headers: return true
        default: return false
        }
    }

    /// Whether the parser is looking for a request line after a failure.
    var isResynchronising: Bool {
        if case .resync = state { return true }
        return false
    }

    init(role: Role, limits: Limits = Limits()) {
        self.role = role
        self.limits = limits
    }

    /// The index of the first LF at or after `start`, found with memchr.
    static func firstNewline(in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
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
                if role == .request && byte == 0x0D {
                    index += 1
                    state = .blankLineCR
                    continue
                }
                if byte == 0x0D || byte == 0x0A {
                    if role == .request {
                        // Only empty lines (CRLF) are passed over before a
                        // request line: a server reads a bare LF as part of it.
                        startAndFail("a bare LF before the request line", emit: emit)
                        index += 1
                        if isStopped { return index - bytes.startIndex }
                        continue
                    }
                    index += 1
                    continue
                }
                if possibleStrayBody > 0 {
                    let stray = possibleStrayBody
                    possibleStrayBody = 0
                    if byte != UInt8(ascii: "H") {
                        state = .strayBody(remaining: stray)
                        continue
                    }
                }
                if case .switched = emit(.messageStart) {
                    state = .done
                    return index - bytes.startIndex
                }
                state = .startLine
                line.removeAll(keepingCapacity: true)
                startMessage()
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
                    if !checkLineLimit(line.count, emit: emit), isResynchronising {
                        // The failure came mid-line: the rest of it is no request line.
                        state = .resync(skipping: true)
                    }
                    return bytes.count
                }
                if line.isEmpty {
                    // The whole line is in this chunk (the usual case): it is
                    // read where it lies, never copied.
                    let start = index
                    index = newline + 1
                    if !checkLineLimit(newline - start, emit: emit) {
                        if isStopped { return index - bytes.startIndex }
                        continue
                    }
                    let hasCR = newline > start && bytes[newline - 1] == 0x0D
                    let end = hasCR ? newline - 1 : newline
                    bytes[start..<end].withUnsafeBufferPointer { lineCompleted($0, bareLF: !hasCR, emit: emit) }
                    continue
                }
                line.append(contentsOf: bytes[index..<newline])
                index = newline + 1
                if !checkLineLimit(line.count, emit: emit) {
                    if isStopped { return index - bytes.startIndex }
                    continue
                }
                let hasCR = line.last == 0x0D
                if hasCR { line.removeLast() }
                // Swap the line out rather than copy it, and take its buffer
                // back afterwards: no allocation per line.
                var completed: [UInt8] = []
                swap(&completed, &line)
                completed.withUnsafeBufferPointer { lineCompleted($0, bareLF: !hasCR, emit: emit) }
                if line.isEmpty && line.capacity == 0 {
                    completed.removeAll(keepingCapacity: true)
                    line = completed
                }
            case let .lengthBody(remaining):
                let take = min(remaining, bytes.endIndex - index)
                _ = emit(.body(bytes[index..<index + take]))
                index += take
                if remaining - take == 0 {
                    endMessage(emit: emit)
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
            case .blankLineCR:
                if bytes[index] == 0x0A {
                    index += 1
                    state = .idle
                } else {
                    startAndFail("a bare CR before the request line", emit: emit)
                    if isStopped { return index - bytes.startIndex }
                }
            case let .strayBody(remaining):
                let take = min(remaining, bytes.endIndex - index)
                index += take
                state = remaining == take ? .idle : .strayBody(remaining: remaining - take)
            case let .resync(skipping):
                guard let newline = Self.firstNewline(in: bytes, from: index) else {
                    if !skipping {
                        line.append(contentsOf: bytes[index...])
                        if line.count > limits.startLine + 1 {
                            line.removeAll(keepingCapacity: true)
                            state = .resync(skipping: true)
                        }
                    }
                    return bytes.count
                }
                let start = index
                index = newline + 1
                if skipping {
                    state = .resync(skipping: false)
                    continue
                }
                if line.isEmpty {
                    bytes[start..<newline].withUnsafeBufferPointer { resynchronise(at: $0, emit: emit) }
                } else {
                    line.append(contentsOf: bytes[start..<newline])
                    var candidate: [UInt8] = []
                    swap(&candidate, &line)
                    candidate.withUnsafeBufferPointer { resynchronise(at: $0, emit: emit) }
                    if line.isEmpty && line.capacity == 0 {
                        candidate.removeAll(keepingCapacity: true)
                        line = candidate
                    }
                }
                if isStopped { return index - bytes.startIndex }
            }
        }
        return bytes.count
    }

    /// A request starts with a bare CR or LF, as a server reads it: it
    /// fails, and the rest of its line is passed over (the server read it
    /// as this request's start line).
    mutating func startAndFail(_ reason: String, emit: Emit) {
        if case .switched = emit(.messageStart) {
            state = .done
            return
        }
        startMessage()
        fail(reason, emit: emit)
        state = .resync(skipping: true)
    }

    /// A new message's head starts: the fields of the last one are let go.
    mutating func startMessage() {
        headSize = 0
        if let scratch { scratch.removeAll() } else { scratch = HeadScratch() }
        counts = FieldCounts()
    }

    /// A whole line (its LF taken off) read while looking for a request
    /// after a failure: reading starts again at a line that is a request
    /// line by the same strict rules as any (CRLF-ended, no bare CR, within
    /// the limit). Where the failed message's bytes end cannot be known;
    /// the caller pairs what is found here with the responses that come.
    mutating func resynchronise(at bytes: UnsafeBufferPointer<UInt8>, emit: Emit) {
        guard let base = bytes.baseAddress, bytes.count > 1, bytes.count <= limits.startLine + 1,
            base[bytes.count - 1] == 0x0D
        else { return }
        let content = UnsafeBufferPointer(start: base, count: bytes.count - 1)
        if memchr(base, 0x0D, content.count) != nil { return }
        startMessage()
        guard let parsed = parseStartLine(content) else { return }
        if case .switched = emit(.messageStart) {
            state = .done
            return
        }
        startLine = parsed
        state = .headers
    }

    /// Whether the parser is between lines (a head, a chunk size, trailers).
    var isReadingLines: Bool {
        switch state {
        case .startLine, .headers, .chunkSize, .trailers, .chunkDataEnd: return true
        default: return false
        }
    }

    /// Reads every whole line of `bytes` from `start` while the parser is
    /// reading lines, with one pointer into the caller's memory and no copy.
    /// Returns where it stopped: at a line it cannot finish (the partial-line
    /// path takes it), at a body, or where a failure stopped the stream.
    mutating func feedWholeLines(_ bytes: ArraySlice<UInt8>, from start: Int, emit: Emit) -> Int {
        bytes.withUnsafeBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return start }
            var offset = start - bytes.startIndex
            while offset < buffer.count && isReadingLines {
                guard let found = memchr(base + offset, 0x0A, buffer.count - offset) else { break }
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                if !checkLineLimit(newline - offset, emit: emit) { return bytes.startIndex + newline + 1 }
                let hasCR = newline > offset && base[newline - 1] == 0x0D
                let lineEnd = hasCR ? newline - 1 : newline
                lineCompleted(UnsafeBufferPointer(start: base + offset, count: lineEnd - offset), bareLF: !hasCR, emit: emit)
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
        case .idle, .blankLineCR, .done, .resync, .strayBody:
            break
        default:
            fail("the connection closed in the middle of a message", emit: emit)
        }
        state = .done
    }

    /// Whether a line of `length` bytes (so far) is within the limits; fails
    /// the stream when it is not.
    mutating func checkLineLimit(_ length: Int, emit: Emit) -> Bool {
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

    /// The server answered while this message's head was still arriving:
    /// it read the head differently, and the message fails here.
    mutating func abandonHead(_ reason: String, emit: Emit) {
        guard isInHead else { return }
        fail(reason, emit: emit)
    }

    /// A request stream that fails looks for the next request line (the
    /// server may well keep reading); a response stream stops.
    mutating func fail(_ reason: String, emit: Emit) {
        state = role == .request ? .resync(skipping: false) : .done
        line.removeAll(keepingCapacity: true)
        let partial = startLine.map(makeHead)
        startLine = nil
        _ = emit(.failure(reason, partial: partial))
    }

    /// A line read whole, its CRLF taken off. A line ended by a bare LF,
    /// or holding a bare CR, is refused as a strict server refuses it
    /// (RFC 9112 §2.2): a tap that read it differently from the server
    /// would record another message than the one served.
    @inline(__always)
    /// Ends the message: the parser waits for the next one, unless the
    /// caller answers the end with `.switched`, which stops it here (an
    /// Upgrade request whose body was read: what follows may not be HTTP).
    mutating func endMessage(emit: Emit) {
        state = .idle
        if case .switched = emit(.end) { state = .done }
    }

    mutating func begin(_ framing: Framing, emit: Emit) {
        switch framing {
        case .none:
            endMessage(emit: emit)
        case let .length(count):
            if count == 0 {
                endMessage(emit: emit)
            } else {
                state = .lengthBody(remaining: count)
            }
        case .chunked:
            state = .chunkSize
        case .untilClose:
            state = .untilClose
        case let .noneUnlessSent(count):
            endMessage(emit: emit)
            if case .idle = state { possibleStrayBody = count }
        case .switched:
            state = .done
            _ = emit(.end)
        case let .invalid(reason):
            fail(reason, emit: emit)
        }
    }
}
