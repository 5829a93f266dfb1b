/// Writes the compact binary form the give-up seam carries batches in:
/// unsigned LEB128 varints, zigzag for signed values, length-prefixed byte
/// runs, a presence byte before each optional. Little to read, exact to
/// read back, independent of Swift's own layouts.
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func unsigned(_ value: UInt64) {
        LEB128.append(value, to: &bytes)
    }

    mutating func count(_ value: Int) {
        unsigned(UInt64(max(0, value)))
    }

    mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func fixed64(_ value: UInt64) {
        // Low byte first, in one append.
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ value: Double) {
        fixed64(value.bitPattern)
    }

    mutating func bool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    mutating func run(_ value: [UInt8]) {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) {
        count(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    mutating func optional<Value>(_ value: Value?, _ write: (inout BinaryWriter, Value) -> Void) {
        guard let value else { return bool(false) }
        bool(true)
        write(&self, value)
    }

    mutating func array<Element>(_ values: [Element], _ write: (inout BinaryWriter, Element) -> Void) {
        count(values.count)
        for value in values { write(&self, value) }
    }

    /// A dictionary's entries in the order of their keys' UTF-8 bytes, so
    /// that equal maps write equal bytes (String's own order compares
    /// canonically equivalent forms alike, and is not byte-stable).
    mutating func strings(_ map: [String: String]) {
        count(map.count)
        for key in map.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            string(key)
            string(map[key] ?? "")
        }
    }
}

/// Unsigned LEB128, the varint of both the give-up seam's form and the
/// protocol buffers wire format: seven bits a byte, low bits first, the
/// high bit set on every byte but the last.
enum LEB128 {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}
