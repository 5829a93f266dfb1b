/// Reads HTTP/1.1 requests from a byte source: Content-Length and chunked
/// bodies, bounded header section and body.
struct RequestReader {
    enum Failure: Error {
        case closed
        case malformed(String)
        case headersTooLarge
        case bodyTooLarge
    }

    static let maxHeaderBytes = 64 * 1024
    static let maxBodyBytes = 16 * 1024 * 1024

    private var buffer: [UInt8] = []
    private var start = 0
    private let receive: (inout [UInt8]) -> Bool

    /// - Parameter receive: appends the next bytes to its argument; returns
    ///   `false` at end of stream or on error.
    init(receive: @escaping (inout [UInt8]) -> Bool) {
        self.receive = receive
    }

    /// Reads the next request head. `onExpectContinue` is called before the
    /// body is read when the client asked for `100-continue`.
    mutating func next(peer: String, onExpectContinue: () -> Void) throws(Failure) -> SocketRequest {
        let headEnd = try readUntilHeadEnd()
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
        var request = SocketRequest(
            method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
            headers: headers, body: [], clientAddress: peer)
        let transferEncoding = request.header("transfer-encoding")?.lowercased()
        let contentLength = request.header("content-length")
        if request.header("expect")?.lowercased() == "100-continue" {
            onExpectContinue()
        }
        if let transferEncoding, transferEncoding.contains("chunked") {
            request.body = try readChunkedBody()
        } else if let contentLength {
            guard let length = Int(contentLength.trimmingCharacters(in: " \t")), length >= 0 else {
                throw .malformed("bad content-length")
            }
            guard length <= Self.maxBodyBytes else { throw .bodyTooLarge }
            request.body = try readExactly(length)
        }
        return request
    }

    private mutating func fill() throws(Failure) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        guard receive(&buffer) else { throw .closed }
    }

    private mutating func readUntilHeadEnd() throws(Failure) -> Int {
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
            if scanned > Self.maxHeaderBytes { throw .headersTooLarge }
            try fill()
        }
    }

    private mutating func readExactly(_ count: Int) throws(Failure) -> [UInt8] {
        while buffer.count - start < count {
            try fill()
        }
        let body = Array(buffer[start..<start + count])
        start += count
        return body
    }

    private mutating func readLine(limit: Int) throws(Failure) -> String {
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
            try fill()
        }
    }

    private mutating func readChunkedBody() throws(Failure) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try readLine(limit: 4096)
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: " \t") } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformed("bad chunk size") }
            if size == 0 {
                // Trailer fields until the empty line.
                while try !readLine(limit: Self.maxHeaderBytes).isEmpty {}
                return body
            }
            guard body.count + size <= Self.maxBodyBytes else { throw .bodyTooLarge }
            body.append(contentsOf: try readExactly(size))
            guard try readLine(limit: 2).isEmpty else { throw .malformed("chunk not followed by CRLF") }
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
