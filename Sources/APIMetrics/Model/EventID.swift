import Synchronization

/// A 128-bit identifier of a recorded event, written as 32 lowercase hex digits.
public struct EventID: Sendable, Hashable, CustomStringConvertible {
    /// The high 64 bits.
    package var high: UInt64
    /// The low 64 bits.
    package var low: UInt64

    /// Creates an identifier from its two halves.
    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The identifier as 32 lowercase hex digits.
    public var description: String {
        // Written into the string's own storage: one allocation (every
        // call without a trace of its own takes its id as its trace id).
        String(unsafeUninitializedCapacity: 32) { text in
            Self.writeHex(high, into: text, at: 0)
            Self.writeHex(low, into: text, at: 16)
            return 32
        }
    }

    /// Writes `value` as 16 lowercase hex digits at `offset`.
    private static func writeHex(_ value: UInt64, into text: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { table in
            for place in 0..<16 {
                text[offset + place] = table[Int((value >> UInt64(60 - 4 * place)) & 0xF)]
            }
        }
    }

    static func appendHex(_ value: UInt64, to bytes: inout [UInt8]) {
        let offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 16))
        bytes.withUnsafeMutableBufferPointer { writeHex(value, into: $0, at: offset) }
    }
}

extension EventID {
    /// The identifier written as a version-4 UUID (its version and variant
    /// bits set), for formats whose ids are UUIDs: ReadMe's `_id`,
    /// Apitally's request-log items, Monoscope's `apitoolkit.msg_id`. The
    /// same event always gets the same UUID.
    var uuidString: String {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var hex: [UInt8] = []
        hex.reserveCapacity(36)
        Self.appendHex(high, to: &hex)
        Self.appendHex(low, to: &hex)
        for position in [8, 13, 18, 23] { hex.insert(UInt8(ascii: "-"), at: position) }
        return String(decoding: hex, as: UTF8.self)
    }
}

extension EventID {
    /// Reads the 32 hexadecimal digits ``description`` writes; `nil` for
    /// anything else.
    package init?(hex text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 32 else { return nil }
        func value(_ part: ArraySlice<UInt8>) -> UInt64? {
            var result: UInt64 = 0
            for digit in part {
                let nibble: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
                default: return nil
                }
                result = result << 4 | UInt64(nibble)
            }
            return result
        }
        guard let high = value(digits[0..<16]), let low = value(digits[16..<32]) else { return nil }
        self.init(high: high, low: low)
    }
}
