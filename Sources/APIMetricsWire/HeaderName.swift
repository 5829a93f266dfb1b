/// The bytes a header name may hold.
enum HeaderName {
    /// RFC 9110 token characters: a bit per byte of 0-127, in two words, so
    /// that the check is a shift and a mask rather than a chain of comparisons.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        // Bits set for ! # $ % & ' * + - . 0-9 (bytes 0-63) and A-Z ^ _ ` a-z | ~ (64-127).
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let word = byte < 64 ? low : high
        return byte < 128 && (word >> UInt64(byte & 63)) & 1 == 1
    }
}
