/// The JSON Schema formats a string's shape matches (RFC 3339 date-time
/// and date, UUID, email, URI, IPv4, IPv6), told from its bytes alone: a
/// place's format is the one every string seen there matched.
struct StringFormats: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let dateTime = StringFormats(rawValue: 1)
    static let date = StringFormats(rawValue: 2)
    static let uuid = StringFormats(rawValue: 4)
    static let email = StringFormats(rawValue: 8)
    static let uri = StringFormats(rawValue: 16)
    static let ipv4 = StringFormats(rawValue: 32)
    static let ipv6 = StringFormats(rawValue: 64)
    static let all: StringFormats = [.dateTime, .date, .uuid, .email, .uri, .ipv4, .ipv6]

    /// The format JSON Schema names, when exactly one is left (and some string was seen).
    var name: String? {
        switch self {
        case .dateTime: "date-time"
        case .date: "date"
        case .uuid: "uuid"
        case .email: "email"
        case .uri: "uri"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        default: nil
        }
    }

    /// The formats the string's UTF-8 bytes (escapes not decoded) match.
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> StringFormats {
        let count = bytes.count
        guard count >= 2, count <= 2_048 else { return [] }
        let first = bytes[0]
        if count == 36, isUUID(bytes) { return .uuid }
        if isDigit(first) {
            if count == 10, isDate(bytes, 0) { return .date }
            if count >= 20, isDateTime(bytes) { return .dateTime }
            if count <= 15, isIPv4(bytes) { return .ipv4 }
            if isIPv6(bytes) { return .ipv6 }
            return []
        }
        if isIPv6(bytes) { return .ipv6 }
        if isEmail(bytes) { return .email }
        if isURI(bytes) { return .uri }
        return []
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Int? {
        guard start + length <= bytes.count else { return nil }
        var value = 0
        for index in start..<(start + length) {
            guard isDigit(bytes[index]) else { return nil }
            value = value * 10 + Int(bytes[index] - 0x30)
        }
        return value
    }

    /// `YYYY-MM-DD` at `start`, with a month and a day that can be.
    private static func isDate(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        guard start + 10 <= bytes.count, digits(bytes, start, 4) != nil, bytes[start + 4] == 0x2D, bytes[start + 7] == 0x2D,
            let month = digits(bytes, start + 5, 2), let day = digits(bytes, start + 8, 2)
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// RFC 3339's `date-time`: a date, `T`, `hh:mm:ss`, optional fraction, `Z` or an offset.
    private static func isDateTime(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard isDate(bytes, 0), bytes[10] == 0x54 || bytes[10] == 0x74,
            let hour = digits(bytes, 11, 2), bytes[13] == 0x3A, let minute = digits(bytes, 14, 2), bytes[16] == 0x3A,
            let second = digits(bytes, 17, 2), hour < 24, minute < 60, second <= 60
        else { return false }
        var index = 19
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < bytes.count else { return false }
        if bytes[index] == 0x5A || bytes[index] == 0x7A { return index + 1 == bytes.count }
        guard bytes[index] == 0x2B || bytes[index] == 0x2D, index + 6 == bytes.count,
            let offsetHour = digits(bytes, index + 1, 2), bytes[index + 3] == 0x3A,
            let offsetMinute = digits(bytes, index + 4, 2)
        else { return false }
        return offsetHour < 24 && offsetMinute < 60
    }

    private static func isUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 36 else { return false }
        for index in 0..<36 {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard bytes[index] == 0x2D else { return false }
            } else if !isHex(bytes[index]) {
                return false
            }
        }
        return true
    }

    private static func isIPv4(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var parts = 0, value = 0, length = 0
        for byte in bytes {
            if byte == 0x2E {
                guard length > 0 else { return false }
                parts += 1
                value = 0
                length = 0
            } else if isDigit(byte) {
                // No leading zeros, as the format's grammar (RFC 2673 dotted-quad) reads them.
                if length == 1, value == 0 { return false }
                value = value * 10 + Int(byte - 0x30)
                length += 1
                guard value <= 255 else { return false }
            } else {
                return false
            }
        }
        return parts == 3 && length > 0
    }

    /// Eight groups of hex with colons, `::` once, or an IPv4 tail.
    private static func isIPv6(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 45 else { return false }
        var colons = 0, groups = 0, length = 0, doubleColon = false, previousColon = false
        for (index, byte) in bytes.enumerated() {
            if byte == 0x3A {
                if previousColon {
                    guard !doubleColon else { return false }
                    doubleColon = true
                }
                if length > 0 { groups += 1 }
                length = 0
                colons += 1
                previousColon = true
            } else if isHex(byte) {
                length += 1
                guard length <= 4 else { return false }
                previousColon = false
            } else if byte == 0x2E {
                // An IPv4 tail: the rest from the last group's start.
                let start = index - length
                guard colons >= 2, isIPv4(UnsafeBufferPointer(rebasing: bytes[start...])) else { return false }
                groups += 2
                length = 0
                return doubleColon ? groups <= 7 : groups == 8
            } else {
                return false
            }
        }
        if length > 0 { groups += 1 }
        guard colons >= 2 else { return false }
        // A single colon at either end is not allowed; "::" at either end is.
        if bytes[0] == 0x3A, bytes[1] != 0x3A { return false }
        if bytes[bytes.count - 1] == 0x3A, bytes[bytes.count - 2] != 0x3A { return false }
        return doubleColon ? groups <= 7 : groups == 8
    }

    /// `local@domain.tld`: no spaces, one `@`, a dot in the domain.
    private static func isEmail(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= 254 else { return false }
        var at = -1
        for (index, byte) in bytes.enumerated() {
            if byte <= 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C || byte == 0x3C || byte == 0x3E { return false }
            if byte == 0x40 {
                guard at < 0 else { return false }
                at = index
            }
        }
        guard at > 0, at < bytes.count - 3 else { return false }
        let domain = bytes[(at + 1)...]
        guard let dot = domain.lastIndex(of: 0x2E), dot > at + 1, dot < bytes.count - 1 else { return false }
        return domain.first != 0x2E && domain.last != 0x2E
    }

    /// An absolute URI: a scheme (`http`, `https`, `urn`…), `:`, and no spaces.
    private static func isURI(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let colon = bytes.firstIndex(of: 0x3A), colon > 0, colon < bytes.count - 1 else { return false }
        func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
        guard isAlpha(bytes[0]) else { return false }
        for index in 1..<colon {
            let byte = bytes[index]
            guard isAlpha(byte) || isDigit(byte) || byte == 0x2B || byte == 0x2D || byte == 0x2E else { return false }
        }
        for byte in bytes where byte <= 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x3C || byte == 0x3E || byte == 0x5C {
            return false
        }
        // Not "a:b" chatter: a URL with "//", or a URN.
        let scheme = bytes[0..<colon].map { $0 | 0x20 }
        return (colon + 2 < bytes.count && bytes[colon + 1] == 0x2F && bytes[colon + 2] == 0x2F) || scheme == Array("urn".utf8)
            || scheme == Array("mailto".utf8)
    }
}
