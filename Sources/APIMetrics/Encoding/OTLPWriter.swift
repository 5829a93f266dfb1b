/// What the OTLP encoders write through, so that one encoder per signal
/// makes both of the protocol's encodings: `http/protobuf`
/// (``ProtobufWriter``) and `http/json` (``OTLPJSONWriter``).
///
/// Every field is named twice, by its number for protobuf and by its
/// lowerCamelCase JSON name. The JSON forms are the protocol's: trace and
/// span ids as hex, 64-bit integers as decimal strings, enums as integers.
/// A repeated message field is written as ``repeated(_:_:_:)`` around its
/// ``element(_:_:)``s, which makes one JSON array and, in protobuf, one
/// field per element.
protocol OTLPWriter: ~Copyable {
    /// A nested message field.
    mutating func message(_ field: Int, _ name: StaticString, _ body: (inout Self) -> Void)
    /// A run of elements of one repeated message field.
    mutating func repeated(_ field: Int, _ name: StaticString, _ body: (inout Self) -> Void)
    /// One element of the repeated field the enclosing ``repeated(_:_:_:)`` names.
    mutating func element(_ field: Int, _ body: (inout Self) -> Void)
    /// A `string` field, left out when empty.
    mutating func string(_ field: Int, _ name: StaticString, _ value: String)
    /// A `string` field written even when empty, from bytes known to be
    /// valid UTF-8.
    mutating func presentUTF8(_ field: Int, _ name: StaticString, _ bytes: UnsafeBufferPointer<UInt8>)
    /// A `string` field written even when empty (a member of a `oneof`).
    mutating func presentString(_ field: Int, _ name: StaticString, _ value: String)
    /// An `int64` field, or a `int64` member of a `oneof` when `isPresent`.
    mutating func int64(_ field: Int, _ name: StaticString, _ value: Int64, isPresent: Bool)
    /// An enum field.
    mutating func enumeration(_ field: Int, _ name: StaticString, _ value: Int)
    /// A `bool` field.
    mutating func bool(_ field: Int, _ name: StaticString, _ value: Bool)
    /// A `fixed64` field (times in nanoseconds, counts).
    mutating func fixed64(_ field: Int, _ name: StaticString, _ value: UInt64)
    /// An `sfixed64` field, written even when 0 (a `oneof` member).
    mutating func presentSFixed64(_ field: Int, _ name: StaticString, _ value: Int64)
    /// A `double` field, or an `optional double` when `isPresent`.
    mutating func double(_ field: Int, _ name: StaticString, _ value: Double, isPresent: Bool)
    /// A `sint32` field.
    mutating func sint32(_ field: Int, _ name: StaticString, _ value: Int32)
    /// A `fixed32` field.
    mutating func fixed32(_ field: Int, _ name: StaticString, _ value: UInt32)
    /// A 16-byte trace id.
    mutating func traceID(_ field: Int, _ name: StaticString, _ high: UInt64, _ low: UInt64)
    /// An 8-byte span id.
    mutating func spanID(_ field: Int, _ name: StaticString, _ value: UInt64)
    /// A `bytes` field written even when empty (a `oneof` member); base64 in JSON.
    mutating func presentBytes(_ field: Int, _ name: StaticString, _ value: [UInt8])
    /// A packed `repeated fixed64` field.
    mutating func fixed64s(_ field: Int, _ name: StaticString, _ values: [UInt64])
    /// A packed `repeated uint64` field.
    mutating func uint64s(_ field: Int, _ name: StaticString, _ values: [UInt64])
    /// A packed `repeated double` field.
    mutating func doubles(_ field: Int, _ name: StaticString, _ values: [Double])
}

extension ProtobufWriter: OTLPWriter {
    mutating func message(_ field: Int, _ name: StaticString, _ body: (inout ProtobufWriter) -> Void) {
        message(field, body)
    }

    @inline(__always)
    mutating func repeated(_ field: Int, _ name: StaticString, _ body: (inout ProtobufWriter) -> Void) {
        body(&self)
    }

    mutating func element(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        message(field, body)
    }

    mutating func string(_ field: Int, _ name: StaticString, _ value: String) {
        string(field, value)
    }

    mutating func presentString(_ field: Int, _ name: StaticString, _ value: String) {
        presentString(field, value)
    }

    mutating func presentUTF8(_ field: Int, _ name: StaticString, _ bytes: UnsafeBufferPointer<UInt8>) {
        key(field, .lengthDelimited)
        varint(UInt64(bytes.count))
        appendBytes(bytes)
    }

    mutating func int64(_ field: Int, _ name: StaticString, _ value: Int64, isPresent: Bool) {
        if isPresent {
            key(field, .varint)
            varint(UInt64(bitPattern: value))
        } else {
            int64(field, value)
        }
    }

    mutating func enumeration(_ field: Int, _ name: StaticString, _ value: Int) {
        int64(field, Int64(value))
    }

    mutating func bool(_ field: Int, _ name: StaticString, _ value: Bool) {
        bool(field, value)
    }

    mutating func fixed64(_ field: Int, _ name: StaticString, _ value: UInt64) {
        fixed64(field, value)
    }

    mutating func presentSFixed64(_ field: Int, _ name: StaticString, _ value: Int64) {
        key(field, .fixed64)
        appendLittleEndian(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ name: StaticString, _ value: Double, isPresent: Bool) {
        if isPresent {
            key(field, .fixed64)
            appendLittleEndian(value.bitPattern)
        } else {
            double(field, value)
        }
    }

    mutating func sint32(_ field: Int, _ name: StaticString, _ value: Int32) {
        // ZigZag: small magnitudes of either sign stay small.
        let zigzag = UInt32(bitPattern: (value << 1) ^ (value >> 31))
        uint64(field, UInt64(zigzag))
    }

    mutating func fixed32(_ field: Int, _ name: StaticString, _ value: UInt32) {
        fixed32(field, value)
    }

    @inline(__always)
    mutating func traceID(_ field: Int, _ name: StaticString, _ high: UInt64, _ low: UInt64) {
        bigEndianBytes(field, high, low)
    }

    @inline(__always)
    mutating func spanID(_ field: Int, _ name: StaticString, _ value: UInt64) {
        bigEndianBytes(field, value)
    }

    mutating func presentBytes(_ field: Int, _ name: StaticString, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        appendBytes(value)
    }

    mutating func fixed64s(_ field: Int, _ name: StaticString, _ values: [UInt64]) {
        packedFixed64(field, values)
    }

    mutating func uint64s(_ field: Int, _ name: StaticString, _ values: [UInt64]) {
        packedUInt64(field, values)
    }

    mutating func doubles(_ field: Int, _ name: StaticString, _ values: [Double]) {
        packedDouble(field, values)
    }
}

/// Writes OTLP's JSON encoding (the `http/json` protocol): the protobuf
/// JSON mapping with the protocol's own rules, ids as hex rather than
/// base64 and enums as integers.
struct OTLPJSONWriter: ~Copyable, OTLPWriter {
    private var json: JSONWriter

    init(capacity: Int) {
        json = JSONWriter(capacity: capacity)
    }

    /// Writes the top-level message.
    static func document(capacity: Int, _ body: (inout OTLPJSONWriter) -> Void) -> [UInt8] {
        var writer = OTLPJSONWriter(capacity: capacity)
        writer.json.beginObject()
        body(&writer)
        writer.json.endObject()
        return writer.json.bytes
    }

    mutating func message(_ field: Int, _ name: StaticString, _ body: (inout OTLPJSONWriter) -> Void) {
        json.key(name)
        json.beginObject()
        body(&self)
        json.endObject()
    }

    mutating func repeated(_ field: Int, _ name: StaticString, _ body: (inout OTLPJSONWriter) -> Void) {
        json.key(name)
        json.beginArray()
        body(&self)
        json.endArray()
    }

    mutating func element(_ field: Int, _ body: (inout OTLPJSONWriter) -> Void) {
        json.beginObject()
        body(&self)
        json.endObject()
    }

    mutating func string(_ field: Int, _ name: StaticString, _ value: String) {
        guard !value.isEmpty else { return }
        json.key(name)
        json.string(value)
    }

    mutating func presentString(_ field: Int, _ name: StaticString, _ value: String) {
        json.key(name)
        json.string(value)
    }

    mutating func presentUTF8(_ field: Int, _ name: StaticString, _ bytes: UnsafeBufferPointer<UInt8>) {
        json.key(name)
        json.string(utf8: bytes)
    }

    mutating func int64(_ field: Int, _ name: StaticString, _ value: Int64, isPresent: Bool) {
        guard value != 0 || isPresent else { return }
        quoted(name) { $0.appendDecimal(Int(value)) }
    }

    mutating func enumeration(_ field: Int, _ name: StaticString, _ value: Int) {
        guard value != 0 else { return }
        json.key(name)
        json.int(value)
    }

    mutating func bool(_ field: Int, _ name: StaticString, _ value: Bool) {
        guard value else { return }
        json.key(name)
        json.bool(value)
    }

    mutating func fixed64(_ field: Int, _ name: StaticString, _ value: UInt64) {
        guard value != 0 else { return }
        quoted(name) { $0.appendUnsigned(value) }
    }

    mutating func presentSFixed64(_ field: Int, _ name: StaticString, _ value: Int64) {
        quoted(name) { $0.appendDecimal(Int(value)) }
    }

    mutating func double(_ field: Int, _ name: StaticString, _ value: Double, isPresent: Bool) {
        guard value != 0 || isPresent else { return }
        json.key(name)
        Self.writeDouble(value, into: &json)
    }

    mutating func sint32(_ field: Int, _ name: StaticString, _ value: Int32) {
        guard value != 0 else { return }
        json.key(name)
        json.int(Int(value))
    }

    mutating func fixed32(_ field: Int, _ name: StaticString, _ value: UInt32) {
        guard value != 0 else { return }
        json.key(name)
        json.int(Int(value))
    }

    mutating func traceID(_ field: Int, _ name: StaticString, _ high: UInt64, _ low: UInt64) {
        json.key(name)
        json.reserve(34)
        json.store(UInt8(ascii: "\""))
        json.storeHex(high)
        json.storeHex(low)
        json.store(UInt8(ascii: "\""))
        json.needsComma = true
    }

    mutating func spanID(_ field: Int, _ name: StaticString, _ value: UInt64) {
        json.key(name)
        json.reserve(18)
        json.store(UInt8(ascii: "\""))
        json.storeHex(value)
        json.store(UInt8(ascii: "\""))
        json.needsComma = true
    }

    mutating func presentBytes(_ field: Int, _ name: StaticString, _ value: [UInt8]) {
        json.key(name)
        json.string(Base64.encode(value))
    }

    mutating func fixed64s(_ field: Int, _ name: StaticString, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        json.key(name)
        json.beginArray()
        for value in values {
            json.separate()
            json.put(UInt8(ascii: "\""))
            json.appendUnsigned(value)
            json.put(UInt8(ascii: "\""))
            json.needsComma = true
        }
        json.endArray()
    }

    mutating func uint64s(_ field: Int, _ name: StaticString, _ values: [UInt64]) {
        fixed64s(field, name, values)
    }

    mutating func doubles(_ field: Int, _ name: StaticString, _ values: [Double]) {
        guard !values.isEmpty else { return }
        json.key(name)
        json.beginArray()
        for value in values { Self.writeDouble(value, into: &json) }
        json.endArray()
    }

    private mutating func quoted(_ name: StaticString, _ digits: (inout JSONWriter) -> Void) {
        json.key(name)
        json.put(UInt8(ascii: "\""))
        digits(&json)
        json.put(UInt8(ascii: "\""))
        json.needsComma = true
    }

    /// A double as the protobuf JSON mapping writes it: a number, or the
    /// strings `NaN`, `Infinity` and `-Infinity`.
    private static func writeDouble(_ value: Double, into json: inout JSONWriter) {
        if value.isNaN {
            json.string("NaN")
        } else if value.isInfinite {
            json.string(value < 0 ? "-Infinity" : "Infinity")
        } else {
            json.number(value)
        }
    }
}

extension JSONWriter {
    /// Writes the decimal digits of an unsigned 64-bit value.
    mutating func appendUnsigned(_ value: UInt64) {
        if value <= UInt64(Int.max) {
            appendDecimal(Int(value))
            return
        }
        reserve(20)
        for digit in String(value).utf8 { store(digit) }
    }
}
