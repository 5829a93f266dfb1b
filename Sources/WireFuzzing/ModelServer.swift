// A server for fuzzed client bytes: it reads requests as leniently as the
// demo's server (Sources/SocketServer/RequestReader.swift) and answers each,
// so that a fuzzed stream comes with the responses a real server would have
// sent, and the tap's calls can be checked against them.

/// What a lenient server made of a client's bytes: the traffic as a tap on
/// that server sees it, and how many final responses the server sent.
public struct AnsweredStream: Sendable {
    /// What the server read and wrote, in order, ending with the close.
    public var steps: [WireStep]
    /// The final responses among them (interim 100s not counted).
    public var responses: Int
}

/// Answers `input`, all that a client sent on one connection, as the demo's
/// server does: a head up to the first empty line (empty lines before the
/// request line dropped), three parts split at runs of spaces, a version
/// starting `HTTP/1.`, any name without blank space, `chunked` anywhere in
/// Transfer-Encoding, a Content-Length as `Int` reads it, chunk sizes with
/// blank space trimmed and extensions ignored; 400 and close otherwise; the
/// connection kept for HTTP/1.1 without `close` or with `keep-alive`.
/// `nil` when the bytes end in the middle of a request: the server would
/// still be waiting, and the tap cannot know whether it was served.
/// `readsAhead`: the server reads all the client's bytes before answering
/// (a pipelining client), rather than each request as it answers it.
public func answerAsLenientServer(_ input: [UInt8], readsAhead: Bool) -> AnsweredStream? {
    var reader = LenientReader(bytes: input)
    var steps: [WireStep] = readsAhead && !input.isEmpty ? [.inboundBytes(input)] : []
    var delivered = readsAhead ? input.count : 0
    var responses = 0
    func deliver(upTo end: Int) {
        if end > delivered {
            steps.append(.inboundBytes(Array(input[delivered..<end])))
            delivered = end
        }
    }
    while reader.position < input.count {
        switch reader.next(onContinue: {
            deliver(upTo: $0); steps.append(.outbound("HTTP/1.1 100 Continue\r\n\r\n"))
        }) {
        case .incomplete:
            return nil
        case .malformed:
            deliver(upTo: input.count)
            steps.append(
                .outbound(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 29\r\nConnection: close\r\n\r\n{\"error\":\"malformed request\"}"
                ))
            return AnsweredStream(steps: steps + [.close], responses: responses + 1)
        case let .request(method, version, connection):
            deliver(upTo: reader.position)
            let keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
            let persistence = keepAlive ? "keep-alive" : "close"
            // A 2xx to CONNECT would open a tunnel; the demo has no such route.
            let response: String
            switch method {
            // A HEAD's answer declares no body: were it to declare one, a
            // tap that lost the framing could not tell whether a HEAD it found
            // was one to the server (the streams it cannot answer).
            case "HEAD": response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: \(persistence)\r\n\r\n"
            case "CONNECT": response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: \(persistence)\r\n\r\n"
            default: response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: \(persistence)\r\n\r\nok"
            }
            steps.append(.outbound(response))
            responses += 1
            if !keepAlive { return AnsweredStream(steps: steps + [.close], responses: responses) }
        }
    }
    return AnsweredStream(steps: steps + [.close], responses: responses)
}

/// The demo server's reading of a request, over bytes that are all there.
private struct LenientReader {
    enum Outcome {
        case request(method: String, version: String, connection: String)
        case malformed
        case incomplete
    }

    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// `onContinue` is told where the head ends when the client asked for 100-continue.
    mutating func next(onContinue: (Int) -> Void) -> Outcome {
        guard let headEnd = find([13, 10, 13, 10], from: position) else { return .incomplete }
        let text = String(decoding: bytes[position..<headEnd], as: UTF8.self)
        position = headEnd + 4
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return .malformed }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return .malformed }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .malformed }
            let name = String(line[..<colon])
            guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else { return .malformed }
            headers.append((name, trimmed(line[line.index(after: colon)...])))
        }
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
        if header("expect")?.lowercased() == "100-continue" { onContinue(position) }
        if let transferEncoding = header("transfer-encoding")?.lowercased(), transferEncoding.contains("chunked") {
            while true {
                guard let sizeLine = readLine() else { return .incomplete }
                let sizeText = trimmed(sizeLine.split(separator: ";", maxSplits: 1).first ?? "")
                guard let size = Int(sizeText, radix: 16), size >= 0 else { return .malformed }
                if size == 0 {
                    while true {
                        guard let trailer = readLine() else { return .incomplete }
                        if trailer.isEmpty { break }
                    }
                    break
                }
                guard bytes.count - position >= size else { return .incomplete }
                position += size
                guard let end = readLine() else { return .incomplete }
                guard end.isEmpty else { return .malformed }
            }
        } else if let contentLength = header("content-length") {
            guard let length = Int(trimmed(contentLength[...])), length >= 0 else { return .malformed }
            guard bytes.count - position >= length else { return .incomplete }
            position += length
        }
        return .request(method: String(parts[0]), version: String(parts[2]), connection: header("connection")?.lowercased() ?? "")
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private mutating func readLine() -> String? {
        guard let end = find([13, 10], from: position) else { return nil }
        let line = String(decoding: bytes[position..<end], as: UTF8.self)
        position = end + 2
        return line
    }

    private func trimmed<Text: StringProtocol>(_ text: Text) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

/// One fuzzed client stream: one to four requests from the corpus (its
/// real-world requests and those of finding 9), pipelined, with a few bytes
/// changed, dropped or inserted (never cut: a cut request is one no server
/// answers).
public func fuzzClientBytes(using generator: inout SplitMix) -> [UInt8] {
    var bytes: [UInt8] = []
    for _ in 0..<Int(generator.next() % 4 + 1) {
        bytes += clientRequests[Int(generator.next() % UInt64(clientRequests.count))]
    }
    for _ in 0..<Int(generator.next() % 4) where !bytes.isEmpty {
        let at = Int(generator.next() % UInt64(bytes.count))
        switch generator.next() % 3 {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
        case 1: bytes.remove(at: at)
        default: bytes.insert(Array("\r\n: 0;\" @<+\t".utf8)[Int(generator.next() % 12)], at: at)
        }
    }
    return bytes
}

/// Every request the corpus's clients send, each on its own.
private let clientRequests: [[UInt8]] = {
    var requests: [[UInt8]] = []
    for (_, steps, _) in wireCases {
        let inbound = steps.compactMap { step -> [UInt8]? in
            switch step {
            case .inbound, .inboundBytes: return step.bytes
            default: return nil
            }
        }
        let bytes = inbound.reduce([], +)
        if !bytes.isEmpty && bytes.count < 8192 { requests.append(bytes) }
    }
    return requests
}()
