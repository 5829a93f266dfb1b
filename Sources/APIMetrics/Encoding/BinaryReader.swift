/// Reads what ``BinaryWriter`` wrote, checking every length and bound: a
/// torn or corrupted input throws, it never traps or reads past its end.
struct BinaryReader {
    /// Why bytes could not be read back.
    struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        var offset: Int
        var reason: String

        var description: String { "at byte \(offset): \(reason)" }
    }

    private let bytes: [UInt8]
    private(set) var offset = 0
    /// A count larger than this is corruption, whatever room is left.
    private let maxCount: Int

    init(_ bytes: [UInt8], maxCount: Int = 1 << 26) {
        self.bytes = bytes
        self.maxCount = maxCount
    }

    var isAtEnd: Bool { offset == bytes.count }

    func fail(_ reason: String) -> Failure {
        Failure(offset: offset, reason: reason)
    }

    mutating func byte() throws(Failure) -> UInt8 {
        guard offset < bytes.count else { throw fail("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func unsigned() throws(Failure) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64, shift < 63 || next <= 1 else { throw fail("varint longer than 64 bits") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    mutating func count() throws(Failure) -> Int {
        let value = try unsigned()
        guard value <= UInt64(maxCount) else { throw fail("count \(value) is too large") }
        return Int(value)
    }

    mutating func signed() throws(Failure) -> Int64 {
        let value = try unsigned()
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    mutating func fixed64() throws(Failure) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw fail("unexpected end") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        offset += 8
        return value
    }

    mutating func double() throws(Failure) -> Double {
        Double(bitPattern: try fixed64())
    }

    mutating func bool() throws(Failure) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        case let other: throw fail("flag byte \(other)")
        }
    }

    mutating func run() throws(Failure) -> [UInt8] {
        let length = try count()
        guard bytes.count - offset >= length else { throw fail("a run of \(length) bytes passes the end") }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    mutating func string() throws(Failure) -> String {
        let start = offset
        let utf8 = try run()
        let text = String(decoding: utf8, as: UTF8.self)
        // Decoding replaces invalid UTF-8; what was written was valid.
        guard text.utf8.count == utf8.count, text.utf8.elementsEqual(utf8) else {
            throw Failure(offset: start, reason: "a string is not valid UTF-8")
        }
        return text
    }

    mutating func optional<Value>(_ read: (inout BinaryReader) throws(Failure) -> Value) throws(Failure) -> Value? {
        try bool() ? try read(&self) : nil
    }

    mutating func array<Element>(_ read: (inout BinaryReader) throws(Failure) -> Element) throws(Failure) -> [Element] {
        let count = try count()
        var values: [Element] = []
        values.reserveCapacity(min(count, 1024))
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }

    mutating func strings() throws(Failure) -> [String: String] {
        let count = try count()
        var map: [String: String] = [:]
        for _ in 0..<count {
            let key = try string()
            map[key] = try string()
        }
        return map
    }
}
