/// The JSON grammar's scalar tokens (RFC 8259), read where they lie: what
/// the parser and the one-pass scanner both check the same way.
enum JSONGrammar {
    /// Where the number starting at `start` ends, or `nil` when the bytes
    /// there are not a number.
    static func numberEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        func digit(_ offset: Int) -> Bool {
            offset < bytes.count && bytes[offset] >= UInt8(ascii: "0") && bytes[offset] <= UInt8(ascii: "9")
        }
        var offset = start
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard digit(offset) else { return nil }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else {
            while digit(offset) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digit(offset) else { return nil }
            while digit(offset) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digit(offset) else { return nil }
            while digit(offset) { offset += 1 }
        }
        return offset
    }

    /// Where `literal` (`true`, `false`, `null`) ends when it starts at
    /// `start`, or `nil` when it does not.
    static func literalEnd(_ literal: StaticString, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let length = literal.utf8CodeUnitCount
        guard start + length <= bytes.count else { return nil }
        let matches = literal.withUTF8Buffer { expected in (0..<length).allSatisfy { bytes[start + $0] == expected[$0] } }
        return matches ? start + length : nil
    }
}
