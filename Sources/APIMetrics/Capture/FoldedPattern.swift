/// A lowercase ASCII text matched against bytes in any case, eight bytes at
/// a time: each word of input is OR-ed with a mask that has bit 5 set where
/// the pattern holds a letter, then compared with the pattern's word. At a
/// letter's place only that letter's two cases pass; elsewhere bytes must be
/// equal. Words overlap at the end instead of a byte-by-byte tail.
struct FoldedPattern: Sendable, Hashable {
    private let words: [UInt64]
    private let masks: [UInt64]
    private let bytes: [UInt8]

    /// The pattern's length in bytes.
    var count: Int { bytes.count }

    init(_ text: String) {
        bytes = Array(text.lowercased().utf8)
        var words: [UInt64] = []
        var masks: [UInt64] = []
        if bytes.count >= 8 {
            for offset in Self.wordOffsets(count: bytes.count) {
                var word: UInt64 = 0
                var mask: UInt64 = 0
                for index in 0..<8 {
                    let byte = bytes[offset + index]
                    word |= UInt64(byte) << (8 * index)
                    if byte >= 0x61 && byte <= 0x7A { mask |= 0x20 << (8 * index) }
                }
                words.append(word)
                masks.append(mask)
            }
        }
        self.words = words
        self.masks = masks
    }

    /// Where the words start: every eight bytes, and the last eight.
    private static func wordOffsets(count: Int) -> [Int] {
        Array(stride(from: 0, to: count - 8, by: 8)) + [count - 8]
    }

    /// Whether `input`, exactly as long as the pattern, spells it in any case.
    func matches(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard input.count == count else { return false }
        guard count >= 8 else {
            return bytes.withUnsafeBufferPointer { pattern in
                for index in 0..<count where ASCII.lowercased(input[index]) != pattern[index] {
                    return false
                }
                return true
            }
        }
        guard let base = input.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        return words.withUnsafeBufferPointer { words in
            masks.withUnsafeBufferPointer { masks in
                var offset = 0
                for index in 0..<words.count {
                    let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    if word | masks[index] != words[index] { return false }
                    offset = Swift.min(offset + 8, count - 8)
                }
                return true
            }
        }
    }
}
