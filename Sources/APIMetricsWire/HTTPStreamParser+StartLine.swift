#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetrics

/// The start line, read in one pass.
extension HTTPStreamParser {
    /// Reads the start line in one pass over its bytes: where the first two
    /// spaces are, and that nothing in it is a control byte but a tab.
    func parseStartLine(_ bytes: UnsafeBufferPointer<UInt8>) -> StartLine? {
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
                isVersion(base + secondSpace + 1, count - secondSpace - 1)
            else { return nil }
            for index in 0..<firstSpace where !HeaderName.isTokenByte(base[index]) { return nil }
            // The target is kept as bytes: a string is made only for an
            // exchange that is captured.
            scratch?.setTarget(UnsafeBufferPointer(start: base + firstSpace + 1, count: secondSpace - firstSpace - 1))
            let method = Self.method(UnsafeBufferPointer(start: base, count: firstSpace))
            return StartLine(
                method: method.text, methodKind: method.kind, status: 0,
                version: Self.version(minor: base + secondSpace + 8, end: base + count))
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
            return StartLine(
                method: "", methodKind: .other, status: status, version: Self.version(minor: base + 7, end: base + firstSpace))
        }
    }

    /// The version a start line names from its minor digit (at `minor`,
    /// when before `end`): the two in use are literals.
    static func version(minor: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) -> String {
        guard minor < end, minor + 1 == end else { return "1.x" }
        switch minor.pointee {
        case UInt8(ascii: "1"): return "1.1"
        case UInt8(ascii: "0"): return "1.0"
        default: return "1.x"
        }
    }

    /// A method as a string, and its kind; the common ones are literals, so
    /// that no string is decoded or validated for them.
    static func method(_ buffer: UnsafeBufferPointer<UInt8>) -> (text: String, kind: MethodKind) {
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
}
