import APIMetrics

/// How a message's body is framed, from its head (RFC 9112 §6).
extension HTTPStreamParser {
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
            // Both: the server and an intermediary could each frame the body
            // by a different one (request smuggling, RFC 9112 §6.3, §11.2).
            guard head.counts.contentLength == 0 else {
                return .invalid("both Transfer-Encoding and Content-Length")
            }
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
    static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 15 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    static func lastCoding(_ values: [String]) -> String? {
        values.joined(separator: ",").split(separator: ",").last.map { String($0).trimmingOptionalWhitespace.lowercased() }
    }

    /// `.some(nil)` when absent, `.some(n)` when valid, `nil` when invalid:
    /// strictly one field of one to fifteen digits. An empty value, a list
    /// (`5, 5`, `5,`) or a second field is refused, as a strict server
    /// refuses it, rather than guessed at.
    static func contentLength(_ head: Head) -> Int?? {
        let values = head.values("content-length")
        guard let first = values.first else { return .some(nil) }
        guard values.count == 1, !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            first.count <= 15, let length = Int(first)
        else { return nil }
        return .some(length)
    }
}
