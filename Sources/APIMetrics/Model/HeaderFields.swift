/// An ordered list of HTTP header fields whose names compare case-insensitively.
///
/// Fields keep the order and the spelling in which they were captured, so an
/// event shows what was on the wire; lookups ignore ASCII case, as HTTP does.
///
/// ```swift
/// var headers: HeaderFields = ["Content-Type": "application/json"]
/// headers.append(name: "X-Customer-ID", value: "acme")
/// headers["content-type"]   // "application/json"
/// ```
public struct HeaderFields: Sendable, Hashable {
    /// One header field as captured.
    public struct Field: Sendable, Hashable {
        /// The field name as it was captured.
        public var name: String
        /// The field value as it was captured.
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in capture order.
    public private(set) var fields: [Field]

    /// Creates an empty list.
    public init() {
        self.fields = []
    }

    /// Creates a list from fields in order.
    public init(_ fields: [Field]) {
        self.fields = fields
    }

    /// Creates a list from name/value pairs in order.
    public init(_ pairs: [(String, String)]) {
        self.fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether the list holds no field.
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of the field named `name` (any case), or `nil`.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesEqual(field.name, name) {
            return field.value
        }
        return nil
    }

    /// Every value of the field named `name` (any case), in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.namesEqual($0.name, name) ? $0.value : nil }
    }

    /// Appends a field, keeping any that share its name.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every field named `name` (any case) by one field with `value`,
    /// at the position of the first; appends it when there was none.
    public mutating func replaceOrAppend(name: String, value: String) {
        if let first = fields.firstIndex(where: { Self.namesEqual($0.name, name) }) {
            fields[first].value = value
            var index = fields.index(after: first)
            while index < fields.endIndex {
                if Self.namesEqual(fields[index].name, name) {
                    fields.remove(at: index)
                } else {
                    index = fields.index(after: index)
                }
            }
        } else {
            append(name: name, value: value)
        }
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// Rewrites each field in place; the closure receives the name and value.
    public mutating func mapValues(_ transform: (String, String) throws -> String) rethrows {
        for index in fields.indices {
            fields[index].value = try transform(fields[index].name, fields[index].value)
        }
    }

    /// Compares two header names the way HTTP does: ASCII letters ignore case.
    public static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        // Native strings know their UTF-8 length: most names differ here.
        guard left.count == right.count else { return false }
        let contiguous = left.withContiguousStorageIfAvailable { leftBytes in
            right.withContiguousStorageIfAvailable { rightBytes in
                for index in 0..<leftBytes.count {
                    let a = leftBytes[index], b = rightBytes[index]
                    if a != b && lowercasedASCII(a) != lowercasedASCII(b) { return false }
                }
                return true
            }
        }
        if let contiguous, let result = contiguous { return result }
        for (a, b) in zip(left, right) where a != b && lowercasedASCII(a) != lowercasedASCII(b) {
            return false
        }
        return true
    }

    @inline(__always)
    static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
    }
}

extension HeaderFields: ExpressibleByDictionaryLiteral {
    /// Creates a list from a literal, keeping the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }
}

extension HeaderFields: Sequence {
    /// Iterates the fields in capture order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }
}

extension HeaderFields {
    /// Two lists are equal when they hold the same fields in the same order.
    public static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        lhs.fields == rhs.fields
    }
}
