/// The `partial_success` of an OTLP export response: how many items the
/// collector refused although it took the request, and why.
enum OTLPPartialSuccess {
    /// Reads a response body; `nil` when it holds no partial success (an
    /// empty body, as many collectors send, or one that cannot be read).
    static func parse(_ body: [UInt8], isJSON: Bool) -> (rejected: Int64, message: String)? {
        guard !body.isEmpty else { return nil }
        return isJSON ? parseJSON(body) : parseProtobuf(body)
    }

    /// `Export*ServiceResponse { partial_success = 1 { rejected_* = 1 (int64); error_message = 2 } }`.
    static func parseProtobuf(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        var reader = ProtobufReader(body[...])
        while let (field, value) = reader.next() {
            guard field == 1, case let .bytes(inner) = value else { continue }
            var rejected: Int64 = 0
            var message = ""
            var innerReader = ProtobufReader(inner)
            while let (innerField, innerValue) = innerReader.next() {
                switch (innerField, innerValue) {
                case let (1, .varint(count)): rejected = Int64(bitPattern: count)
                case let (2, .bytes(text)): message = String(decoding: text, as: UTF8.self)
                default: continue
                }
            }
            guard !innerReader.failed else { return nil }
            return (rejected, message)
        }
        return nil
    }

    /// `{"partialSuccess":{"rejectedSpans":"3","errorMessage":"…"}}`; the
    /// count may be a string (as the protocol writes 64-bit integers) or a number.
    static func parseJSON(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        guard case let .object(members)? = try? JSONParser.parse(body),
              case let .object(partial)? = members.first(where: { $0.key == "partialSuccess" || $0.key == "partial_success" })?.value
        else { return nil }
        var rejected: Int64 = 0
        var message = ""
        for member in partial {
            switch (member.key, member.value) {
            case let ("errorMessage", .string(text)), let ("error_message", .string(text)):
                message = text
            case let (key, .string(text)) where key.hasPrefix("rejected"):
                rejected = Int64(text) ?? 0
            case let (key, .number(text)) where key.hasPrefix("rejected"):
                rejected = Int64(text) ?? Int64(Double(text) ?? 0)
            default:
                continue
            }
        }
        return (rejected, message)
    }
}

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
