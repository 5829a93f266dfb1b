/// A parsed JSON document that keeps what redaction must not change: the
/// order of object members, duplicate keys, and numbers exactly as written.
enum JSONValue: Sendable, Equatable {
    /// One object member. A struct, not a tuple: tuples in arrays are copied
    /// and destroyed through slow generic paths.
    struct Member: Sendable {
        var key: String
        var value: JSONValue

        init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    case object([Member])
    case array([JSONValue])
    case string(String)
    /// The number's text, already checked against the JSON grammar.
    case number(String)
    case bool(Bool)
    case null

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// Writes the value as compact JSON.
    func write(to writer: inout JSONWriter) {
        switch self {
        case let .object(members):
            writer.beginObject()
            for member in members {
                writer.key(escaping: member.key)
                member.value.write(to: &writer)
            }
            writer.endObject()
        case let .array(elements):
            writer.beginArray()
            for element in elements { element.write(to: &writer) }
            writer.endArray()
        case let .string(text):
            writer.string(text)
        case let .number(text):
            writer.raw(text.utf8)
        case let .bool(flag):
            writer.bool(flag)
        case .null:
            writer.raw("null".utf8)
        }
    }

    var serialized: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}
