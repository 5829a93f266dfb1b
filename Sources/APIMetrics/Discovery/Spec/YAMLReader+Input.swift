extension YAMLReader {
    /// Checks the text is UTF-8 holding only characters YAML allows, drops a
    /// byte order mark, and turns CR LF and CR line breaks into LF.
    static func normalized(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var column = 1
        while i < bytes.count {
            let c = bytes[i]
            if c < 0x80 {
                if c == Byte.carriageReturn || c == Byte.newline {
                    out.append(Byte.newline)
                    i += c == Byte.carriageReturn && i + 1 < bytes.count && bytes[i + 1] == Byte.newline ? 2 : 1
                    line += 1
                    column = 1
                    continue
                }
                if (c < 0x20 && c != Byte.tab) || c == 0x7F {
                    throw Failure(
                        line: line, column: column,
                        reason:
                            "the control character \(codePoint(UInt32(c))) is not allowed in YAML text; write it as an escape in a double-quoted string"
                    )
                }
                out.append(c)
                i += 1
                column += 1
                continue
            }
            guard let (scalar, length) = decode(bytes, at: i) else {
                throw Failure(
                    line: line, column: column, reason: "the byte 0x\(String(c, radix: 16, uppercase: true)) is not valid UTF-8")
            }
            if (0x80...0x9F).contains(scalar) && scalar != 0x85 || scalar == 0xFFFE || scalar == 0xFFFF {
                throw Failure(
                    line: line, column: column,
                    reason:
                        "the character \(codePoint(scalar)) is not allowed in YAML text; write it as an escape in a double-quoted string"
                )
            }
            out.append(contentsOf: bytes[i..<(i + length)])
            i += length
            column += 1
        }
        return out
    }

    private static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A well-formed UTF-8 sequence of two to four bytes: no overlong forms, no surrogates.
    private static func decode(_ bytes: [UInt8], at i: Int) -> (UInt32, Int)? {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for k in 1..<length {
            let c = bytes[i + k]
            let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard c >= lo && c <= hi else { return nil }
            value = value << 6 | UInt32(c & 0x3F)
        }
        return (value, length)
    }

    @inline(__always) func isBlank(_ c: UInt8) -> Bool { c == Byte.space || c == Byte.tab }
    @inline(__always) func isBlankOrEnd(_ c: UInt8) -> Bool { c == Byte.space || c == Byte.tab || c == Byte.newline || c == 0 }
    @inline(__always) func isFlowIndicator(_ c: UInt8) -> Bool {
        c == Byte.comma || c == Byte.openBracket || c == Byte.closeBracket || c == Byte.openBrace || c == Byte.closeBrace
    }

    /// The ASCII bytes YAML's grammar names.
    enum Byte {
        static let tab: UInt8 = 0x09
        static let newline: UInt8 = 0x0A
        static let carriageReturn: UInt8 = 0x0D
        static let space: UInt8 = 0x20
        static let bang: UInt8 = 0x21
        static let doubleQuote: UInt8 = 0x22
        static let hash: UInt8 = 0x23
        static let percent: UInt8 = 0x25
        static let ampersand: UInt8 = 0x26
        static let singleQuote: UInt8 = 0x27
        static let star: UInt8 = 0x2A
        static let plus: UInt8 = 0x2B
        static let comma: UInt8 = 0x2C
        static let dash: UInt8 = 0x2D
        static let dot: UInt8 = 0x2E
        static let colon: UInt8 = 0x3A
        static let less: UInt8 = 0x3C
        static let greater: UInt8 = 0x3E
        static let question: UInt8 = 0x3F
        static let at: UInt8 = 0x40
        static let openBracket: UInt8 = 0x5B
        static let backslash: UInt8 = 0x5C
        static let closeBracket: UInt8 = 0x5D
        static let backtick: UInt8 = 0x60
        static let openBrace: UInt8 = 0x7B
        static let pipe: UInt8 = 0x7C
        static let closeBrace: UInt8 = 0x7D
        static let tilde: UInt8 = 0x7E
    }
}
