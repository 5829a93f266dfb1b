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
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        Self.appendHex(high, to: &bytes)
        Self.appendHex(low, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendHex(_ value: UInt64, to bytes: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { table in
            var shift = 60
            while shift >= 0 {
                bytes.append(table[Int((value >> UInt64(shift)) & 0xF)])
                shift -= 4
            }
        }
    }
}
