/// Reads HTTP/1.1 requests from a byte source: the head first, then the body
/// (Content-Length or chunked) only when the server asks for it, so that a
/// request can be refused on its head before a body byte is read. Every read
/// has a deadline: one for a whole head, one for a whole body, one for the
/// idle wait between requests.
struct RequestReader {
    enum Failure: Error {
        /// The peer closed, or reading failed.
        case closed
        /// No byte of a next request came before the idle deadline.
        case idle
        /// A head or a body was not complete by its deadline.
        case timedOut
        case malformed(String)
        case headersTooLarge
        case bodyTooLarge
    }

    /// What a receive call came back with.
    enum Received {
        case bytes
        case closed
        case timedOut
    }

    /// How a request's body is framed, read from its head.
    enum BodyFraming: Equatable {
        case none
        case length(Int)
        case chunked

        var hasBody: Bool {
            switch self {
            case .none: false
            case .length(let count): count > 0
            case .chunked: true
            }
        }
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private let maxHeadBytes: Int
    private let maxBodyBytes: Int
    private let receive: (inout [UInt8], ContinuousClock.Instant) -> Received

    /// - Parameter receive: appends the next bytes to its argument, waiting
    ///   no later than the deadline given.
    init(maxHeadBytes: Int, maxBodyBytes: Int, receive: @escaping (inout [UInt8], ContinuousClock.Instant) -> Received) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.receive = receive
    }

    /// Whether bytes of a next request are already read (pipelined).
    var hasPendingBytes: Bool { start < buffer.count }

    /// Reads the next request head. The wait for its first byte ends at
    /// `idleDeadline`; the whole head must then arrive within `headTimeout`
    /// of that byte, and never later than `headDeadline` when one is given.
    mutating func nextHead(
        peer: String, idleDeadline: ContinuousClock.Instant, headTimeout: Duration, headDeadline: ContinuousClock.Instant?
    ) throws(Failure) -> (SocketRequest, BodyFraming) {
        while !hasPendingBytes {
            try fill(until: idleDeadline, timeout: .idle)
        }
        var deadline = ContinuousClock.now + headTimeout
        if let headDeadline, headDeadline < deadline { deadline = headDeadline }
        let headEnd = try readUntilHeadEnd(deadline: deadline)
        let head = Array(buffer[start..<headEnd])
        start = headEnd + 4
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        // Tolerate empty lines before the request line (RFC 9112 §2.2).
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { throw .malformed("missing request line") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            throw .malformed("bad request line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header without colon") }
            let name = String(line[..<colon])
            guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw .malformed("bad header name")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            headers.append((name, value))
        }
        let request = SocketRequest(
            method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
            headers: headers, body: [], clientAddress: peer)
        let framing: BodyFraming
        if let transferEncoding = request.header("transfer-encoding")?.lowercased(), transferEncoding.contains("chunked") {
            framing = .chunked
        } else if let contentLength = request.header("content-length") {
            guard let length = Int(contentLength.trimmingCharacters(in: " \t")), length >= 0 else {
                throw .malformed("bad content-length")
            }
            guard length <= maxBodyBytes else { throw .bodyTooLarge }
            framing = .length(length)
        } else {
            framing = .none
        }
        return (request, framing)
    }

    /// Reads the body the head announced; all of it must arrive within
    /// `timeout`.
    mutating func body(_ framing: BodyFraming, timeout: Duration) throws(Failure) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        switch framing {
        case .none: return []
        case .length(let count): return try readExactly(count, deadline: deadline)
        case .chunked: return try readChunkedBody(deadline: deadline)
        }
    }

    private mutating func fill(until deadline: ContinuousClock.Instant, timeout: Failure = .timedOut) throws(Failure) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        switch receive(&buffer, deadline) {
        case .bytes: return
        case .closed: throw .closed
        case .timedOut: throw timeout
        }
    }

    private mutating func readUntilHeadEnd(deadline: ContinuousClock.Instant) throws(Failure) -> Int {
        var scanned = 0  // bytes after `start` already searched
        while true {
            var index = start + max(0, scanned - 3)
            while index + 3 < buffer.count {
                if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
                    return index
                }
                index += 1
            }
            scanned = buffer.count - start
            if scanned > maxHeadBytes { throw .headersTooLarge }
            try fill(until: deadline)
        }
    }

    private mutating func readExactly(_ count: Int, deadline: ContinuousClock.Instant) throws(Failure) -> [UInt8] {
        while buffer.count - start < count {
            try fill(until: deadline)
        }
        let body = Array(buffer[start..<start + count])
        start += count
        return body
    }

    private mutating func readLine(limit: Int, deadline: ContinuousClock.Instant) throws(Failure) -> String {
        while true {
            var index = start
            while index + 1 < buffer.count {
                if buffer[index] == 13 && buffer[index + 1] == 10 {
                    let line = String(decoding: buffer[start..<index], as: UTF8.self)
                    start = index + 2
                    return line
                }
                index += 1
            }
            if buffer.count - start > limit { throw .malformed("line too long") }
            try fill(until: deadline)
        }
    }

    private mutating func readChunkedBody(deadline: ContinuousClock.Instant) throws(Failure) -> [UInt8] {
        var body: [UInt8] = []
        var trailerBytes = 0
        while true {
            let sizeLine = try readLine(limit: 4096, deadline: deadline)
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: " \t") } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformed("bad chunk size") }
            if size == 0 {
                // Trailer fields until the empty line, bounded as a head is.
                while true {
                    let line = try readLine(limit: maxHeadBytes, deadline: deadline)
                    if line.isEmpty { return body }
                    trailerBytes += line.utf8.count + 2
                    if trailerBytes > maxHeadBytes { throw .headersTooLarge }
                }
            }
            guard size <= maxBodyBytes - body.count else { throw .bodyTooLarge }
            body.append(contentsOf: try readExactly(size, deadline: deadline))
            guard try readLine(limit: 2, deadline: deadline).isEmpty else { throw .malformed("chunk not followed by CRLF") }
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
