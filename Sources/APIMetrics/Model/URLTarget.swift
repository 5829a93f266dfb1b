/// Splits a request target into its path and query without Foundation, so
/// that odd targets (`*`, absolute URLs, stray `%`) are kept as well as they
/// can be rather than rejected.
struct URLTarget {
    /// The most bytes of a request target a recorded exchange keeps (what
    /// servers commonly accept in a request line, RFC 9112 §3).
    static let maxRecordedBytes = 8 * 1024

    var path: String
    var rawQuery: String?

    init(_ target: String) {
        var target = target
        (path, rawQuery) = target.withUTF8 { bytes in
            let parts = Self.parts(of: bytes)
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            return (parts.path.isEmpty ? "/" : text(parts.path), parts.query.map(text))
        }
    }

    /// Where the path and the query (after `?`, without the fragment) lie in
    /// a target's bytes. An empty path stands for `/`. Byte offsets
    /// throughout: targets are ASCII in practice, and this runs for every
    /// event the sender encodes.
    static func parts(of bytes: UnsafeBufferPointer<UInt8>) -> (path: Range<Int>, query: Range<Int>?) {
        var end = 0
        while end < bytes.count && bytes[end] != UInt8(ascii: "#") { end += 1 }
        var start = 0
        // Absolute form (`http://host/path`) as proxies send it.
        var colon = 0
        while colon < end && bytes[colon] != UInt8(ascii: ":") && bytes[colon] != UInt8(ascii: "/") { colon += 1 }
        if colon < end, bytes[colon] == UInt8(ascii: ":"), colon + 2 < end,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        {
            start = colon + 3
            while start < end && bytes[start] != UInt8(ascii: "/") && bytes[start] != UInt8(ascii: "?") { start += 1 }
        }
        var question = start
        while question < end && bytes[question] != UInt8(ascii: "?") { question += 1 }
        guard question < end else { return (start..<end, nil) }
        return (start..<question, (question + 1)..<end)
    }

    /// Writes a query component percent-decoded, `+` as space, at `output`
    /// (room for `component.count` bytes: decoding never lengthens);
    /// malformed escapes stay as they were. Returns the bytes written.
    static func decode(_ component: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var index = 0
        var written = 0
        while index < component.count {
            let byte = component[index]
            if byte == UInt8(ascii: "+") {
                output[written] = UInt8(ascii: " ")
            } else if byte == UInt8(ascii: "%"), index + 2 < component.count,
                let high = hexValue(component[index + 1]), let low = hexValue(component[index + 2])
            {
                output[written] = high << 4 | low
                index += 2
            } else {
                output[written] = byte
            }
            written += 1
            index += 1
        }
        return written
    }

    /// The query's name/value pairs in order, percent-decoded, `+` as space.
    var queryItems: [(name: String, value: String)] {
        guard let rawQuery, !rawQuery.isEmpty else { return [] }
        var items: [(String, String)] = []
        for part in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = part.firstIndex(of: "=") {
                items.append((Self.decode(part[..<equals]), Self.decode(part[part.index(after: equals)...])))
            } else {
                items.append((Self.decode(part), ""))
            }
        }
        return items
    }

    /// Percent-decodes a query component; malformed escapes stay as they were
    /// and invalid UTF-8 becomes U+FFFD.
    static func decode(_ component: Substring) -> String {
        var component = component
        return component.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
                return String(decoding: bytes, as: UTF8.self)
            }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { output in
                guard let base = output.baseAddress else { return "" }
                let count = decode(bytes, into: base)
                return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
            }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
