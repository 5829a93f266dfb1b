/// Strings escaped per RFC 8259, the scan eight bytes at a time.
extension JSONWriter {
    // MARK: - Escaping

    mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped(buffer: $0) }
    }

    /// Writes a quoted string, copying runs that need no escape at once. The
    /// scan reads eight bytes at a time; a word that holds a quote, a
    /// backslash, a control character, DEL or the lead byte 0xE2 names its
    /// first such byte itself, so no byte is looked at alone except in the
    /// last partial word. U+2028 and U+2029 (E2 80 A8/A9) are written as
    /// `\u2028`/`\u2029`: valid JSON either way, but readers that split
    /// lines on them (JavaScript before ES2019, Python's `splitlines`) would
    /// cut an NDJSON line in two.
    mutating func appendEscaped(buffer: UnsafeBufferPointer<UInt8>) {
        let total = buffer.count
        // Room for every byte as it is and both quotes; each escape makes
        // room for itself. So: capacity - count >= total - runStart + 1 holds
        // at each escape, and runs are copied without a check.
        reserve(total + 2)
        store(UInt8(ascii: "\""))
        guard let source = buffer.baseAddress else {
            store(UInt8(ascii: "\""))
            return
        }
        var runStart = 0
        var index = 0
        while index < total {
            let at: Int
            if index + 8 <= total {
                let word = UInt64(littleEndian: UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self))
                let lane = Self.firstWriterEscapeLane(word)
                if lane == 8 {
                    index += 8
                    continue
                }
                at = index + lane
            } else {
                guard Self.needsEscape(source[index]) || source[index] == 0xE2 else {
                    index += 1
                    continue
                }
                at = index
            }
            let byte = source[at]
            if byte == 0xE2 {
                // Most E2 sequences (dashes, quotes, €) stay in the run.
                guard at + 2 < total, source[at + 1] == 0x80, source[at + 2] == 0xA8 || source[at + 2] == 0xA9 else {
                    index = at + 1
                    continue
                }
                storeRun(source + runStart, count: at - runStart)
                reserve(6 + total - at)
                for ascii in source[at + 2] == 0xA8 ? Self.lineSeparatorEscape : Self.paragraphSeparatorEscape { store(ascii) }
                runStart = at + 3
                index = at + 3
                continue
            }
            storeRun(source + runStart, count: at - runStart)
            reserve(6 + total - at)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                // The usual escapes in JSON bodies: written in place.
                store(UInt8(ascii: "\\"))
                store(byte)
            } else {
                storeEscape(for: byte)
            }
            runStart = at + 1
            index = at + 1
        }
        storeAll(UnsafeBufferPointer(start: source + runStart, count: total - runStart))
        store(UInt8(ascii: "\""))
    }

    static let lineSeparatorEscape = Array(#"\u2028"#.utf8)
    static let paragraphSeparatorEscape = Array(#"\u2029"#.utf8)

    /// ``firstEscapeLane(_:)``, also stopping at 0xE2, the lead byte of
    /// U+2028 and U+2029.
    @inline(__always)
    static func firstWriterEscapeLane(_ word: UInt64) -> Int {
        let below = (word &- 0x2020_2020_2020_2020) & ~word & highs
        let flags =
            below | zeroBytes(word ^ 0x2222_2222_2222_2222)
            | zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) | zeroBytes(word ^ 0x7F7F_7F7F_7F7F_7F7F)
            | zeroBytes(word ^ 0xE2E2_E2E2_E2E2_E2E2)
        return flags.trailingZeroBitCount >> 3
    }

    /// Copies a complete JSON value (valid JSON, so U+2028/U+2029 can only
    /// stand inside its strings) with those two written as escapes.
    mutating func appendEmbeddingJSON(_ json: UnsafeBufferPointer<UInt8>) {
        guard let source = json.baseAddress else { return }
        reserve(json.count)
        var runStart = 0
        var index = 0
        while index + 2 < json.count {
            if source[index] == 0xE2, source[index + 1] == 0x80, source[index + 2] == 0xA8 || source[index + 2] == 0xA9 {
                storeRun(source + runStart, count: index - runStart)
                reserve(6 + json.count - index)
                for ascii in source[index + 2] == 0xA8 ? Self.lineSeparatorEscape : Self.paragraphSeparatorEscape { store(ascii) }
                index += 3
                runStart = index
            } else {
                index += 1
            }
        }
        storeAll(UnsafeBufferPointer(start: source + runStart, count: json.count - runStart))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }

    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each zero byte of the word. Borrows may also flag a
    /// byte above a zero byte, never one below the lowest: the lowest flag
    /// is exact.
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// The lane of the first byte (lane 0 is the lowest address; `word` is
    /// read little-endian) that needs an escape, or 8 when none does. Bytes
    /// of 0x80 and up (UTF-8 sequences) never do.
    @inline(__always)
    static func firstEscapeLane(_ word: UInt64) -> Int {
        // A byte below 0x20: subtracting 0x20 borrows into its high bit
        // while the byte's own high bit is clear. As with zero bytes, only
        // lanes above a true one can be flagged falsely, so the lowest flag
        // of the four masks together is the first byte that needs an escape.
        let below = (word &- 0x2020_2020_2020_2020) & ~word & highs
        let flags =
            below | zeroBytes(word ^ 0x2222_2222_2222_2222)
            | zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) | zeroBytes(word ^ 0x7F7F_7F7F_7F7F_7F7F)
        return flags.trailingZeroBitCount >> 3
    }

    /// Whether any byte of the word needs an escape.
    @inline(__always)
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        firstEscapeLane(word) != 8
    }

    /// Whether every byte is ASCII.
    static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let source = buffer.baseAddress else { return true }
        var index = 0
        var combined: UInt64 = 0
        while index + 8 <= buffer.count {
            combined |= UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < buffer.count {
            combined |= UInt64(source[index])
            index += 1
        }
        return combined & highs == 0
    }

    /// Whether a key's bytes can be written between quotes as they are.
    static func needsNoEscape(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in buffer where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            return false
        }
        return true
    }

    static func repairedIfInvalid(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        if isASCII(buffer) || EventEncoder.isValidUTF8(buffer) { return Array(buffer) }
        return Array(String(decoding: buffer, as: UTF8.self).utf8)
    }

    /// Writes the escape for `byte`; room for six bytes must have been reserved.
    mutating func storeEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""):
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"):
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "\\"))
        case 0x0A:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "n"))
        case 0x0D:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "r"))
        case 0x09:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "t"))
        default:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "u"))
            store(UInt8(ascii: "0"))
            store(UInt8(ascii: "0"))
            let high = byte >> 4, low = byte & 0xF
            store(high < 10 ? UInt8(ascii: "0") + high : UInt8(ascii: "a") + high - 10)
            store(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
        }
    }
}
