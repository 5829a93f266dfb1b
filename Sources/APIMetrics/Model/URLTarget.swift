/// Splits a request target into its path and query without Foundation, so
/// that odd targets (`*`, absolute URLs, stray `%`) are kept as well as they
/// can be rather than rejected.
struct URLTarget {
    var path: String
    var rawQuery: String?

    init(_ target: String) {
        // Byte offsets throughout: targets are ASCII in practice, and this
        // runs for every event the sender encodes.
        let utf8 = target.utf8
        var start = utf8.startIndex
        let end = utf8.firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        // Absolute form (`http://host/path`) as proxies send it.
        if let colon = utf8[start..<end].firstIndex(of: UInt8(ascii: ":")),
           !utf8[start..<colon].contains(UInt8(ascii: "/")),
           utf8[colon...].starts(with: "://".utf8) {
            let authorityStart = utf8.index(colon, offsetBy: 3)
            start = utf8[authorityStart..<end].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? end
        }
        if let question = utf8[start..<end].firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[start..<question])
            rawQuery = String(target[utf8.index(after: question)..<end])
        } else {
            path = String(target[start..<end])
            rawQuery = nil
        }
        if path.isEmpty { path = "/" }
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
        let utf8 = Array(component.utf8)
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(component)
        }
        var output = [UInt8]()
        output.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                      let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
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
