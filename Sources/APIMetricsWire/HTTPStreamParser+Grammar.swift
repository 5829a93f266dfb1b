/// The grammar of chunk extensions and Connection options, read byte by
/// byte where they lie (both are rare or short).
extension HTTPStreamParser {
    /// Whether `bytes`, from the `;` that follows a chunk size to the line's
    /// end, is a chunk extension by RFC 9112 §7.1.1:
    /// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`.
    /// Every `;` needs a name, a quoted value's quotes balance and hold no
    /// control byte but a tab; blank space only where the grammar has BWS
    /// (never at the line's end). Its length is bounded with the chunk
    /// line's (4096 bytes).
    static func isChunkExtension(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        var index = 0
        /// Skips blank space; fails when it ends the line.
        func skipBlankSpace() -> Bool {
            let start = index
            while index < count && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
            return index < count || index == start
        }
        func skipToken() -> Bool {
            let start = index
            while index < count && HeaderName.isTokenByte(bytes[index]) { index += 1 }
            return index > start
        }
        while index < count {
            guard bytes[index] == UInt8(ascii: ";") else { return false }
            index += 1
            guard skipBlankSpace(), skipToken(), skipBlankSpace() else { return false }
            guard index < count, bytes[index] == UInt8(ascii: "=") else { continue }
            index += 1
            guard skipBlankSpace(), index < count else { return false }
            if bytes[index] == UInt8(ascii: "\"") {
                guard skipQuotedString(bytes, &index) else { return false }
            } else if !skipToken() {
                return false
            }
            guard skipBlankSpace() else { return false }
        }
        return true
    }

    /// Skips a quoted-string (RFC 9110 §5.6.4) that starts at `index`;
    /// `false` when it does not end on this line or holds a byte it may not.
    private static func skipQuotedString(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Bool {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return true
            case UInt8(ascii: "\\"):
                // quoted-pair: a tab, a space, a visible byte or obs-text.
                guard index < bytes.count, bytes[index] == 0x09 || bytes[index] >= 0x20, bytes[index] != 0x7F else {
                    return false
                }
                index += 1
            case 0x09, 0x20...0x7E, 0x80...0xFF:
                continue
            default:
                return false
            }
        }
        return false
    }

    /// Notes whether a Connection field's value names `close` or
    /// `keep-alive` (a comma-separated list of tokens, in any case).
    static func readConnectionOptions(_ value: UnsafeBufferPointer<UInt8>, into counts: inout FieldCounts) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != UInt8(ascii: ",") { end += 1 }
            var first = start, last = end
            while first < last && (value[first] == 0x20 || value[first] == 0x09) { first += 1 }
            while last > first && (value[last - 1] == 0x20 || value[last - 1] == 0x09) { last -= 1 }
            let option = UnsafeBufferPointer(rebasing: value[first..<last])
            if equalsIgnoringCase(option, "close") { counts.closes = true }
            if equalsIgnoringCase(option, "keep-alive") { counts.keepsAlive = true }
            start = end + 1
        }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let literal = lowercase.utf8Start
        for index in 0..<bytes.count {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            if byte != literal[index] { return false }
        }
        return true
    }
}
