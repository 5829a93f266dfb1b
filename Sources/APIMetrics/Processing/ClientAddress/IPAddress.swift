/// An IPv4 or IPv6 address as 128 bits. IPv4 is held IPv4-mapped
/// (`::ffff:a.b.c.d`), so that one range check serves both families and a
/// dual-stack socket's `::ffff:127.0.0.1` is the loopback it is.
///
/// Parsed here rather than with `inet_pton`, whose acceptance differs by
/// platform (leading zeros, short IPv4 forms): the text forms accepted are
/// exactly RFC 4291 §2.2 for IPv6 and four decimal octets without leading
/// zeros for IPv4 (a leading zero reads as octal to some parsers, a known way
/// of making two programs see two addresses).
struct IPAddress: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// The longest zone identifier (`%eth0`) accepted; RFC 4007 sets none,
    /// interface names are far shorter.
    static let maxZoneBytes = 64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(ipv4 value: UInt32) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    /// Whether the address is IPv4 (written so, or IPv4-mapped IPv6).
    var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// Parses `a.b.c.d`, or IPv6 text with an optional `%zone` (the zone is
    /// checked and dropped: it names an interface of the host that wrote it,
    /// nothing a range or a reader elsewhere can use). No brackets, no port.
    init?(_ text: some Collection<UInt8>) {
        let bytes = Array(text)
        guard !bytes.isEmpty, bytes.count <= 45 + 1 + Self.maxZoneBytes else { return nil }
        if let ipv4 = Self.parseIPv4(bytes[...]) {
            self.init(ipv4: ipv4)
            return
        }
        var address = bytes[...]
        if let percent = bytes.firstIndex(of: UInt8(ascii: "%")) {
            let zone = bytes[(percent + 1)...]
            guard (1...Self.maxZoneBytes).contains(zone.count), zone.allSatisfy(Self.isZoneByte) else { return nil }
            address = bytes[..<percent]
        }
        guard let (high, low) = Self.parseIPv6(address) else { return nil }
        self.init(high: high, low: low)
    }

    init?(_ text: String) {
        self.init(text.utf8)
    }

    /// RFC 6874's unreserved characters: what interface names and numeric
    /// zone ids are made of.
    private static func isZoneByte(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return decimalValue(byte) != nil || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lower)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
    }

    /// Four decimal octets, 0 to 255, no leading zeros, nothing else.
    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if let digit = Self.decimalValue(byte) {
                guard !(digits > 0 && octet == 0) else { return nil }
                octet = octet * 10 + UInt32(digit)
                digits += 1
                guard octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    /// RFC 4291 §2.2: eight groups of one to four hex digits, one `::`
    /// standing for one or more zero groups, the last 32 bits optionally in
    /// IPv4 dotted form.
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gap: Int?
        var index = bytes.startIndex
        let end = bytes.endIndex
        let colon = UInt8(ascii: ":")
        if bytes.count >= 2, bytes[index] == colon, bytes[index + 1] == colon {
            gap = 0
            index += 2
        }
        while index < end {
            var next = index
            while next < end, bytes[next] != colon { next += 1 }
            let segment = bytes[index..<next]
            if segment.contains(UInt8(ascii: ".")) {
                // The dotted tail ends the address and fills two groups.
                guard next == end, groups.count <= 6, let ipv4 = parseIPv4(segment) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: ipv4 >> 16))
                groups.append(UInt16(truncatingIfNeeded: ipv4))
                index = end
                break
            }
            guard (1...4).contains(segment.count), groups.count < 8 else { return nil }
            var group: UInt16 = 0
            for byte in segment {
                guard let digit = Self.hexValue(byte) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            groups.append(group)
            index = next
            guard index < end else { break }
            index += 1  // the colon
            if index < end, bytes[index] == colon {
                guard gap == nil else { return nil }
                gap = groups.count
                index += 1
            } else if index == end {
                return nil  // a single trailing colon
            }
        }
        if let gap {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        } else {
            guard groups.count == 8 else { return nil }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for group in groups[0..<4] { high = high << 16 | UInt64(group) }
        for group in groups[4..<8] { low = low << 16 | UInt64(group) }
        return (high, low)
    }

    /// The canonical text: dotted for IPv4 (IPv4-mapped addresses are
    /// written as the IPv4 they are), RFC 5952 for IPv6 (lowercase, no
    /// leading zeros, the longest run of two or more zero groups as `::`).
    var description: String {
        if isIPv4 {
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (UInt64(3 - index % 4) * 16))
        }
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}

extension IPAddress {
    static func decimalValue(_ byte: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        if let digit = decimalValue(byte) { return digit }
        let lower = byte | 0x20
        return (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(lower) ? lower - UInt8(ascii: "a") + 10 : nil
    }
}
