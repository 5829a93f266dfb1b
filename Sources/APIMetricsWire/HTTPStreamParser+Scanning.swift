/// Scans of header names and chunk lines, eight bytes at a time where it pays.
extension HTTPStreamParser {
    /// The bytes of the eight at `pointer` that the start line's scan must
    /// look at one by one, as the high bit of each: a space or control byte
    /// (at most 0x20) or DEL. Bytes of 0x80 and above (obs-text) are not
    /// stops. The arithmetic is done on seven bits, so that no byte's sum
    /// carries into its neighbour's.
    @inline(__always)
    static func startLineStops(_ pointer: UnsafeRawPointer) -> UInt64 {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0x8080_8080_8080_8080
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        // ASCII bytes below 0x21: adding 0x5F to the low seven bits leaves the high bit clear.
        let belowBang = ~((word & low) &+ 0x5F5F_5F5F_5F5F_5F5F) & ~word & high
        // DEL: the byte XOR 0x7F is zero.
        let delta = word ^ low
        let isDel = ~(((delta & low) &+ low) | delta) & high
        return belowBang | isDel
    }

    /// How many of the eight bytes at `pointer`, from the first, are
    /// letters, digits or `-` (the bytes of almost every field name): 8 when
    /// all are. The first byte that is not (a colon, a rarer token byte, or
    /// a byte no name may hold) is then looked at one by one. A byte of 0x80
    /// or above can carry into the bytes after it, never into those before,
    /// and is itself not one of these: the count is exact.
    @inline(__always)
    static func commonNameBytes(_ pointer: UnsafeRawPointer) -> Int {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0x8080_8080_8080_8080
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let folded = word | 0x2020_2020_2020_2020
        // a-z once case is folded: at least 0x61 and below 0x7B.
        let letter = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(folded &+ 0x0505_0505_0505_0505)
        // 0-9: at least 0x30 and below 0x3A (on the unfolded byte).
        let digit = (word &+ 0x5050_5050_5050_5050) & ~(word &+ 0x4646_4646_4646_4646)
        let delta = word ^ 0x2D2D_2D2D_2D2D_2D2D
        let dash = ~(((delta & low) &+ low) | delta)
        let common = (letter | digit | dash) & ~word & high
        return (~common & high).trailingZeroBitCount &>> 3
    }

    /// The header names that decide how a body is framed (Connection, with
    /// Upgrade, decides whether the protocol may switch).
    enum FramingName {
        case contentLength, transferEncoding, upgrade, connection
    }

    /// Which framing name `name` is, if any (any case), from its length and
    /// one or two word compares: most names are none, decided at once.
    /// Name bytes are tokens, so that setting the 0x20 bit folds case exactly.
    @inline(__always)
    static func framingName(_ name: UnsafeBufferPointer<UInt8>) -> FramingName? {
        guard let base = name.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) | 0x2020_2020_2020_2020
        }
        func half(_ offset: Int) -> UInt32 {
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) | 0x2020_2020
        }
        switch name.count {
        case 14:
            // "content-" and "t-length"
            return word(0) == 0x2D74_6E65_746E_6F63 && word(6) == 0x6874_676E_656C_2D74 ? .contentLength : nil
        case 17:
            // "transfer", "-encodin" and "encoding"
            return word(0) == 0x7265_6673_6E61_7274 && word(8) == 0x6E69_646F_636E_652D && word(9) == 0x676E_6964_6F63_6E65
                ? .transferEncoding : nil
        case 7:
            // "upgr" and "rade"
            return half(0) == 0x7267_7075 && half(3) == 0x6564_6172 ? .upgrade : nil
        case 10:
            // "connecti" and "nnection"
            return word(0) == 0x6974_6365_6E6E_6F63 && word(2) == 0x6E6F_6974_6365_6E6E ? .connection : nil
        default:
            return nil
        }
    }

    /// Where the name ends (at the colon) and where the value, without the
    /// whitespace around it, starts and ends, as offsets in `buffer`; `nil`
    /// when the name is empty or not a token, or there is no colon.
    @inline(__always)
    func parseField(_ buffer: UnsafeBufferPointer<UInt8>) -> (nameEnd: Int, valueStart: Int, valueEnd: Int)? {
        guard let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var colon = 0
        // The value follows the name, so that eight bytes are there to read
        // for all but the shortest fields.
        while colon &+ 8 <= count {
            let common = Self.commonNameBytes(UnsafeRawPointer(base + colon))
            colon &+= common
            if common < 8 { break }
        }
        while colon < count && HeaderName.isTokenByte(base[colon]) { colon &+= 1 }
        guard colon > 0, colon < count, base[colon] == UInt8(ascii: ":") else { return nil }
        var start = colon &+ 1
        var end = count
        while start < end, base[start] == 0x20 || base[start] == 0x09 { start &+= 1 }
        while end > start, base[end &- 1] == 0x20 || base[end &- 1] == 0x09 { end &-= 1 }
        return (colon, start, end)
    }

    /// One to fifteen hex digits, nothing else.
    func parseHex(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = bytes.count
        guard count > 0, count <= 15 else { return nil }
        var value = 0
        for byte in bytes[..<count] {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
