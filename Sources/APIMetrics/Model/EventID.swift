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
