/// Splits a request target into its path and query without Foundation, so
/// that odd targets (`*`, absolute URLs, stray `%`) are kept as well as they
/// can be rather than rejected.
struct URLTarget {
    var path: String
    var rawQuery: String?

    init(_ target: String) {
        var rest = Substring(target)
        if let fragment = rest.firstIndex(of: "#") {
            rest = rest[..<fragment]
        }
        // Absolute form (`http://host/path`) as proxies send it.
        if let schemeEnd = rest.range(of: "://"), !rest[..<schemeEnd.lowerBound].contains("/") {
            let afterAuthority = rest[schemeEnd.upperBound...]
            if let slash = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = afterAuthority[slash...]
            } else {
                rest = ""
            }
        }
        if let question = rest.firstIndex(of: "?") {
            path = String(rest[..<question])
            rawQuery = String(rest[rest.index(after: question)...])
        } else {
            path = String(rest)
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
