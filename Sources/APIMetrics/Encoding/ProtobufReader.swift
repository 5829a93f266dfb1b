/// Reads the protocol buffers wire format, field by field: enough for an
/// OTLP response's `partial_success`.
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    private var bytes: ArraySlice<UInt8>
    private var position: Int
    /// Whether the input ended inside a field or held an unknown wire type.
    private(set) var failed = false

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.endIndex, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    private mutating func fixed(_ size: Int) -> UInt64? {
        guard bytes.endIndex - position >= size else { return nil }
        var value: UInt64 = 0
        for index in 0..<size { value |= UInt64(bytes[position + index]) << UInt64(8 * index) }
        position += size
        return value
    }

    /// The next field's number and value; `nil` at the end or on bad input
    /// (``failed`` then says which).
    mutating func next() -> (Int, Value)? {
        guard !failed, position < bytes.endIndex else { return nil }
        guard let key = varint(), key >> 3 > 0, key >> 3 <= UInt64(Int32.max) else {
            failed = true
            return nil
        }
        let field = Int(key >> 3)
        var value: Value?
        switch key & 7 {
        case 0: value = varint().map(Value.varint)
        case 1: value = fixed(8).map(Value.fixed64)
        case 2:
            if let length = varint(), length <= UInt64(bytes.endIndex - position) {
                value = .bytes(bytes[position..<(position + Int(length))])
                position += Int(length)
            }
        case 5: value = fixed(4).map { .fixed32(UInt32(truncatingIfNeeded: $0)) }
        default: break
        }
        guard let value else {
            failed = true
            return nil
        }
        return (field, value)
    }
}
