extension HeaderFields: ExpressibleByDictionaryLiteral {
    /// Creates a list from a literal, keeping the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension HeaderFields: Sequence {
    /// Reads the fields in capture order, making each one's strings as it goes.
    public struct Iterator: IteratorProtocol {
        private let headers: HeaderFields
        private var index = 0

        init(_ headers: HeaderFields) {
            self.headers = headers
        }

        /// The next field, or `nil` after the last.
        public mutating func next() -> Field? {
            guard index < headers.count else { return nil }
            defer { index += 1 }
            return headers.field(at: index)
        }
    }

    /// Iterates the fields in capture order.
    public func makeIterator() -> Iterator {
        Iterator(self)
    }

    /// The number of fields.
    public var underestimatedCount: Int { count }
}
