/// Turns a request path into a route template when the server named none,
/// so that one endpoint is one series whatever ids its paths carry:
/// `/orders/8812/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301` becomes
/// `/orders/{id}/items/{id}`.
///
/// A segment becomes `{id}` when it is a number, a UUID, a long hex string
/// (16 digits or more), a long base64-like token (20 characters or more
/// of the base64 and base64url alphabets, with letters and digits both),
/// longer than ``maxSegmentBytes``, or holds a byte no path may hold
/// (a control, a space, `"<>\^`{|}`): no route names such a segment, and
/// a client must not make a series per value. The query, the fragment and
/// path parameters (`;jsessionid=…`) are dropped; a template is at most
/// ``SeriesKey/maxRouteBytes`` bytes.
enum RouteNormalizer {
    static let placeholder = "{id}"
    /// The longest segment kept as it is.
    static let maxSegmentBytes = 64

    /// The template of a request target (path, or origin or absolute form
    /// with a query); its path is found as everywhere else (``URLTarget``).
    static func template(ofTarget target: String) -> String {
        var bytesOf = target
        return bytesOf.withUTF8 { bytes in
            let path = URLTarget.parts(of: bytes).path
            guard !path.isEmpty else { return "/" }
            let utf8 = UnsafeBufferPointer(rebasing: bytes[path])
            var result: [UInt8] = []
            result.reserveCapacity(utf8.count)
            var changed = false
            var segmentStart = 0
            for index in 0...utf8.count where index == utf8.count || utf8[index] == UInt8(ascii: "/") {
                var segment = UnsafeBufferPointer(rebasing: utf8[segmentStart..<index])
                // Path parameters (`;jsessionid=…`) carry sessions and
                // tokens, one per client: never part of a route.
                if let semicolon = segment.firstIndex(of: UInt8(ascii: ";")) {
                    segment = UnsafeBufferPointer(rebasing: segment[..<semicolon])
                    changed = true
                }
                if isIdentifier(segment) {
                    result.append(contentsOf: placeholder.utf8)
                    changed = true
                } else {
                    result.append(contentsOf: segment)
                }
                if index < utf8.count { result.append(UInt8(ascii: "/")) }
                segmentStart = index + 1
            }
            if !changed && path.count == bytes.count { return TextLimit.cut(target, maxBytes: SeriesKey.maxRouteBytes) }
            return TextLimit.cut(String(decoding: result, as: UTF8.self), maxBytes: SeriesKey.maxRouteBytes)
        }
    }

    static func isIdentifier(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !segment.isEmpty else { return false }
        if segment.count > maxSegmentBytes { return true }
        var digits = 0, hexLetters = 0, otherLetters = 0, symbols = 0, dashes = 0
        var isWord = true
        for byte in segment {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): hexLetters += 1
            case UInt8(ascii: "g")...UInt8(ascii: "z"), UInt8(ascii: "G")...UInt8(ascii: "Z"): otherLetters += 1
            case UInt8(ascii: "-"): dashes += 1
            case UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "~"): symbols += 1
            case 0..<0x21, 0x7F, UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"),
                UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
                return true
            default: isWord = false
            }
        }
        guard isWord else { return false }
        let length = segment.count
        if digits == length { return true }
        if length == 36 && dashes == 4 && digits + hexLetters == 32 && isUUIDShaped(segment) { return true }
        if length >= 16 && digits + hexLetters == length && digits > 0 { return true }
        if length >= 20 && digits > 0 && hexLetters + otherLetters > 0 && symbols + dashes < length / 4 { return true }
        return false
    }

    private static func isUUIDShaped(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0
        for byte in segment {
            let isDash = byte == UInt8(ascii: "-")
            if [8, 13, 18, 23].contains(position) != isDash { return false }
            position += 1
        }
        return true
    }
}
