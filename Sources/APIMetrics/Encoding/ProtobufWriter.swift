/// Writes the protocol buffers wire format: the encoding of OTLP's
/// `http/protobuf` bodies, written by hand from the message definitions.
///
/// Fields are written in the order they are called; a field that holds its
/// type's default (0, an empty string, `false`) is skipped, as proto3 does.
/// A nested message is written in place: one byte is kept for its length,
/// and the body is moved along in the rare case its length needs more.
struct ProtobufWriter {
    /// The wire types this writer uses.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    /// What has been written.
    private(set) var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends a base-128 varint.
    mutating func varint(_ value: UInt64) {
        LEB128.append(value, to: &bytes)
    }

    /// The bytes `value` takes as a varint.
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Appends a field's key: its number and wire type.
    mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// A `uint64`, `uint32` or enum field.
    mutating func uint64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        key(field, .varint)
        varint(value)
    }

    /// An `int64` or `int32` field (a negative value takes ten bytes, as
    /// the format specifies).
    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A `bool` field.
    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        key(field, .varint)
        bytes.append(1)
    }

    /// A `fixed64` field, little-endian.
    mutating func fixed64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        key(field, .fixed64)
        appendLittleEndian(value)
    }

    /// A `double` field.
    mutating func double(_ field: Int, _ value: Double) {
        guard value != 0 || value.sign == .minus else { return }
        key(field, .fixed64)
        appendLittleEndian(value.bitPattern)
    }

    /// A `fixed32` field, little-endian.
    mutating func fixed32(_ field: Int, _ value: UInt32) {
        guard value != 0 else { return }
        key(field, .fixed32)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// A `string` field, as UTF-8.
    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        key(field, .lengthDelimited)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A `string` field written even when empty: inside a `oneof` (an
    /// attribute's value), an empty string is a value, not an absence.
    mutating func presentString(_ field: Int, _ value: String) {
        key(field, .lengthDelimited)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A `bytes` field.
    mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        guard !value.isEmpty else { return }
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A `bytes` field of eight bytes: `word`, big-endian (a span id).
    mutating func bigEndianBytes(_ field: Int, _ word: UInt64) {
        key(field, .lengthDelimited)
        bytes.append(8)
        appendBigEndian(word)
    }

    /// A `bytes` field of sixteen bytes: `high` then `low`, big-endian (a
    /// trace id).
    mutating func bigEndianBytes(_ field: Int, _ high: UInt64, _ low: UInt64) {
        key(field, .lengthDelimited)
        bytes.append(16)
        appendBigEndian(high)
        appendBigEndian(low)
    }

    /// A `string` field made of `first`, `separator` and `second`, written
    /// without joining them first.
    mutating func string(_ field: Int, _ first: String, _ separator: UInt8, _ second: String) {
        key(field, .lengthDelimited)
        varint(UInt64(first.utf8.count + 1 + second.utf8.count))
        bytes.append(contentsOf: first.utf8)
        bytes.append(separator)
        bytes.append(contentsOf: second.utf8)
    }

    /// A packed `repeated fixed64` field.
    mutating func packedFixed64(_ field: Int, _ values: some Collection<UInt64>) {
        guard !values.isEmpty else { return }
        key(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        for value in values { appendLittleEndian(value) }
    }

    /// A packed `repeated double` field.
    mutating func packedDouble(_ field: Int, _ values: some Collection<Double>) {
        guard !values.isEmpty else { return }
        key(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        for value in values { appendLittleEndian(value.bitPattern) }
    }

    /// A packed `repeated uint64` field.
    mutating func packedUInt64(_ field: Int, _ values: some Collection<UInt64>) {
        guard !values.isEmpty else { return }
        var content = ProtobufWriter(capacity: values.count * 2)
        for value in values { content.varint(value) }
        key(field, .lengthDelimited)
        varint(UInt64(content.bytes.count))
        bytes.append(contentsOf: content.bytes)
    }

    /// A nested message field, written by `body`; an empty message is
    /// still written (its presence can matter, as for an empty `Resource`).
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) throws -> Void) rethrows {
        key(field, .lengthDelimited)
        let lengthAt = bytes.count
        bytes.append(0)
        let start = bytes.count
        try body(&self)
        let length = bytes.count - start
        if length < 0x80 {
            bytes[lengthAt] = UInt8(truncatingIfNeeded: length)
            return
        }
        let size = Self.varintSize(UInt64(length))
        bytes.insert(contentsOf: repeatElement(0, count: size - 1), at: start)
        var value = UInt64(length)
        for index in lengthAt..<(lengthAt + size) {
            bytes[index] = UInt8(truncatingIfNeeded: value) | (index == lengthAt + size - 1 ? 0 : 0x80)
            value >>= 7
        }
    }

    private mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Appends raw bytes (a field's content, after its key and length).
    mutating func appendBytes(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }

    /// Appends raw bytes (a field's content, after its key and length).
    mutating func appendBytes(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: value)
    }

    mutating func appendLittleEndian(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
