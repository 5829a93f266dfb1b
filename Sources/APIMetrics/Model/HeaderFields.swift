/// An ordered list of HTTP header fields whose names compare case-insensitively.
///
/// Fields keep the order and the spelling in which they were captured, so an
/// event shows what was on the wire; lookups ignore ASCII case, as HTTP does.
///
/// The fields are stored as captured: names and values back to back in one
/// byte buffer, plus where each field lies. Adapters that read raw bytes
/// append them with ``append(nameBytes:valueBytes:)`` without building a
/// string per field; strings are made only when a field is read as one.
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

    /// Where one field lies in ``storage``: its name, then its value.
    package struct Span: Sendable, Hashable {
        package var start: UInt32
        package var nameLength: UInt32
        package var valueLength: UInt32

        package init(start: UInt32, nameLength: UInt32, valueLength: UInt32) {
            self.start = start
            self.nameLength = nameLength
            self.valueLength = valueLength
        }

        var nameRange: Range<Int> { Int(start) ..< Int(start) + Int(nameLength) }
        var valueRange: Range<Int> {
            Int(start) + Int(nameLength) ..< Int(start) + Int(nameLength) + Int(valueLength)
        }
    }

    /// Every name and value, back to back, in capture order; nothing else.
    /// Kept exact by every mutation, so that equal lists store equal bytes.
    private(set) var storage: [UInt8]
    /// One entry per field, in order.
    private(set) var spans: [Span]

    /// Creates an empty list.
    public init() {
        storage = []
        spans = []
    }

    /// Creates a list from a parser's scratch: `bytes` holds every name and
    /// value back to back, `spans` where each lies. Both are copied into
    /// buffers of exactly their size: two allocations, whatever the count.
    package init(copyingBytes bytes: UnsafeBufferPointer<UInt8>, spans: UnsafeBufferPointer<Span>) {
        storage = Array(bytes)
        self.spans = Array(spans)
    }

    /// Creates a list from fields in order.
    public init(_ fields: [Field]) {
        self.init()
        for field in fields { append(name: field.name, value: field.value) }
    }

    /// Creates a list from name/value pairs in order.
    public init(_ pairs: [(String, String)]) {
        self.init()
        for (name, value) in pairs { append(name: name, value: value) }
    }

    /// The fields in capture order, as strings.
    public var fields: [Field] {
        spans.indices.map(field(at:))
    }

    /// The number of fields.
    public var count: Int { spans.count }

    /// Whether the list holds no field.
    public var isEmpty: Bool { spans.isEmpty }

    /// The bytes the names and values take, without any bookkeeping.
    public var byteCount: Int { storage.count }

    /// The first value of the field named `name` (any case), or `nil`.
    public subscript(name: String) -> String? {
        guard let index = firstIndex(named: name) else { return nil }
        return value(at: index)
    }

    /// Every value of the field named `name` (any case), in order.
    public func values(for name: String) -> [String] {
        var result: [String] = []
        var name = name
        name.withUTF8 { wanted in
            forEachIndex(namedBytes: wanted) { index in
                result.append(value(at: index))
                return true
            }
        }
        return result
    }

    /// How many fields are named `name` (any case); makes no string.
    public func count(named name: String) -> Int {
        var name = name
        var count = 0
        name.withUTF8 { wanted in
            forEachIndex(namedBytes: wanted) { _ in
                count += 1
                return true
            }
        }
        return count
    }

    /// Appends a field, keeping any that share its name.
    public mutating func append(name: String, value: String) {
        let start = storage.count
        storage.append(contentsOf: name.utf8)
        let nameEnd = storage.count
        storage.append(contentsOf: value.utf8)
        spans.append(Span(start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(truncatingIfNeeded: nameEnd - start),
                          valueLength: UInt32(truncatingIfNeeded: storage.count - nameEnd)))
    }

    /// Appends a field from its bytes as read from the wire, keeping any that
    /// share its name. The bytes are kept as they are; reading them as a
    /// string replaces any invalid UTF-8.
    package mutating func append(nameBytes: ArraySlice<UInt8>, valueBytes: ArraySlice<UInt8>) {
        nameBytes.withUnsafeBufferPointer { name in
            valueBytes.withUnsafeBufferPointer { value in append(nameBytes: name, valueBytes: value) }
        }
    }

    /// Appends a field from bytes in memory the caller owns (a parser's
    /// read buffer), copying them; any field that shares its name is kept.
    package mutating func append(nameBytes: UnsafeBufferPointer<UInt8>, valueBytes: UnsafeBufferPointer<UInt8>) {
        let start = storage.count
        storage.append(contentsOf: nameBytes)
        storage.append(contentsOf: valueBytes)
        spans.append(Span(start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(truncatingIfNeeded: nameBytes.count),
                          valueLength: UInt32(truncatingIfNeeded: valueBytes.count)))
    }

    /// Appends a field from its bytes (any collection), keeping any that
    /// share its name. Arrays and slices take the faster overload.
    public mutating func append<Name: Collection, Value: Collection>(nameBytes: Name, valueBytes: Value)
    where Name.Element == UInt8, Value.Element == UInt8 {
        append(nameBytes: ArraySlice(nameBytes), valueBytes: ArraySlice(valueBytes))
    }

    /// Removes every field, keeping the buffers' capacity when asked.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        storage.removeAll(keepingCapacity: keepingCapacity)
        spans.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Reserves room for `byteCount` bytes of names and values in `fieldCount` fields.
    package mutating func reserveCapacity(byteCount: Int, fieldCount: Int) {
        storage.reserveCapacity(byteCount)
        spans.reserveCapacity(fieldCount)
    }

    /// A copy whose buffers are exactly as large as what they hold: for a
    /// list built in a reused scratch buffer that is about to be kept.
    package func compacted() -> HeaderFields {
        var copy = HeaderFields()
        // Reserve-then-append stays on specialized paths; building the
        // arrays with `init(unsafeUninitializedCapacity:)` would look up the
        // array's metadata at run time on every call.
        copy.storage.reserveCapacity(storage.count)
        copy.storage.append(contentsOf: storage)
        copy.spans.reserveCapacity(spans.count)
        copy.spans.append(contentsOf: spans)
        return copy
    }

    /// Replaces every field named `name` (any case) by one field with `value`,
    /// at the position of the first; appends it when there was none.
    public mutating func replaceOrAppend(name: String, value: String) {
        guard let first = firstIndex(named: name) else {
            append(name: name, value: value)
            return
        }
        var name = name
        let replaced = name.withUTF8 { wanted in
            rebuilt { index, result in
                if index == first {
                    result.append(nameBytes: storage[spans[index].nameRange], valueBytes: ArraySlice(value.utf8))
                } else if !nameEquals(at: index, wanted) {
                    result.appendField(at: index, of: self)
                }
            }
        }
        self = replaced
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(name: String) {
        guard firstIndex(named: name) != nil else { return }
        var name = name
        let kept = name.withUTF8 { wanted in
            rebuilt { index, result in
                if !nameEquals(at: index, wanted) { result.appendField(at: index, of: self) }
            }
        }
        self = kept
    }

    /// Rewrites each field in place; the closure receives the name and value.
    public mutating func mapValues(_ transform: (String, String) throws -> String) rethrows {
        var result = HeaderFields()
        result.reserveCapacity(byteCount: storage.count, fieldCount: spans.count)
        for index in spans.indices {
            let name = self.name(at: index)
            result.append(name: name, value: try transform(name, value(at: index)))
        }
        self = result
    }

    /// Replaces the value of each field whose name `hides` by `replacement`;
    /// names are handed over as their captured bytes. Leaves the list as it
    /// is, sharing its buffers, when no field is hidden.
    func replacingValues(where hides: (ArraySlice<UInt8>) -> Bool, with replacement: String) -> HeaderFields {
        // Which fields to hide, as bits: no list is allocated for the usual
        // few dozen fields, and none at all when nothing is hidden.
        var hiddenLow: UInt64 = 0
        var hiddenRest: [Bool] = []
        for index in spans.indices where hides(storage[spans[index].nameRange]) {
            if index < 64 {
                hiddenLow |= 1 << UInt64(index)
            } else {
                if hiddenRest.isEmpty { hiddenRest = Array(repeating: false, count: spans.count - 64) }
                hiddenRest[index - 64] = true
            }
        }
        guard hiddenLow != 0 || !hiddenRest.isEmpty else { return self }
        var replacementBytes = replacement
        return replacementBytes.withUTF8 { replacement in
            storage.withUnsafeBufferPointer { buffer in
                var result = HeaderFields()
                result.reserveCapacity(byteCount: storage.count + replacement.count * hiddenLow.nonzeroBitCount, fieldCount: spans.count)
                for index in spans.indices {
                    let span = spans[index]
                    let name = UnsafeBufferPointer(rebasing: buffer[span.nameRange])
                    let hidden = index < 64 ? hiddenLow & (1 << UInt64(index)) != 0 : !hiddenRest.isEmpty && hiddenRest[index - 64]
                    result.append(nameBytes: name, valueBytes: hidden ? replacement : UnsafeBufferPointer(rebasing: buffer[span.valueRange]))
                }
                return result
            }
        }
    }

    private func rebuilt(_ body: (Int, inout HeaderFields) -> Void) -> HeaderFields {
        var result = HeaderFields()
        result.reserveCapacity(byteCount: storage.count, fieldCount: spans.count)
        for index in spans.indices { body(index, &result) }
        return result
    }

    private mutating func appendField(at index: Int, of other: HeaderFields) {
        let span = other.spans[index]
        append(nameBytes: other.storage[span.nameRange], valueBytes: other.storage[span.valueRange])
    }

    // MARK: - Reading fields

    /// The field at `index` as strings.
    func field(at index: Int) -> Field {
        Field(name: name(at: index), value: value(at: index))
    }

    func name(at index: Int) -> String {
        String(decoding: storage[spans[index].nameRange], as: UTF8.self)
    }

    func value(at index: Int) -> String {
        String(decoding: storage[spans[index].valueRange], as: UTF8.self)
    }

    /// The name and value bytes of every field, in order, without copies.
    func forEachRaw(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        storage.withUnsafeBufferPointer { buffer in
            for span in spans {
                body(UnsafeBufferPointer(rebasing: buffer[span.nameRange]), UnsafeBufferPointer(rebasing: buffer[span.valueRange]))
            }
        }
    }

    /// The index of the first field named `name` (any case).
    func firstIndex(named name: String) -> Int? {
        var name = name
        return name.withUTF8 { firstIndex(namedBytes: $0) }
    }

    /// The index of the first field whose name is `wanted` (any case).
    func firstIndex(namedBytes wanted: UnsafeBufferPointer<UInt8>) -> Int? {
        var found: Int?
        forEachIndex(namedBytes: wanted) { index in
            found = index
            return false
        }
        return found
    }

    /// Calls `body` with the index of each field whose name is `wanted` (any
    /// case), in order, until it returns `false`: one pass over the span
    /// table, comparing bytes only where lengths match.
    private func forEachIndex(namedBytes wanted: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Bool) {
        let length = wanted.count
        spans.withUnsafeBufferPointer { spans in
            storage.withUnsafeBufferPointer { buffer in
                for index in 0..<spans.count where Int(spans[index].nameLength) == length {
                    if length > 0 {
                        guard let base = buffer.baseAddress else { continue }
                        let name = UnsafeBufferPointer(start: base + Int(spans[index].start), count: length)
                        if !ASCII.equalIgnoringCase(name, wanted) { continue }
                    }
                    if !body(index) { return }
                }
            }
        }
    }

    /// What the two buffers take on the heap, with the allocator's overhead:
    /// the queue's byte bound charges it.
    var heapBytes: Int {
        spans.isEmpty ? 0 : storage.capacity + spans.capacity * MemoryLayout<Span>.stride + 2 * 48
    }

    /// Whether two fields share a name (any case).
    var hasRepeatedName: Bool {
        guard spans.count > 1 else { return false }
        return storage.withUnsafeBufferPointer { buffer in
            for index in 0..<spans.count - 1 {
                let name = UnsafeBufferPointer(rebasing: buffer[spans[index].nameRange])
                for other in (index + 1)..<spans.count where spans[other].nameLength == spans[index].nameLength {
                    if ASCII.equalIgnoringCase(name, UnsafeBufferPointer(rebasing: buffer[spans[other].nameRange])) {
                        return true
                    }
                }
            }
            return false
        }
    }

    /// Calls `body` with the bytes of the first value of the field named
    /// `name` (any case), or with `nil`: a lookup that makes no string, for
    /// adapters that read a header on the request path (the bytes are valid
    /// only inside `body`).
    package func withFirstValue<Result>(named name: String, _ body: (UnsafeBufferPointer<UInt8>?) -> Result) -> Result {
        guard let index = firstIndex(named: name) else { return body(nil) }
        return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[spans[index].valueRange])) }
    }

    /// Whether the name at `index` equals `wanted`, ignoring ASCII case.
    private func nameEquals(at index: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[index]
        guard Int(span.nameLength) == wanted.count else { return false }
        return storage.withUnsafeBufferPointer { buffer in
            ASCII.equalIgnoringCase(UnsafeBufferPointer(rebasing: buffer[span.nameRange]), wanted)
        }
    }

    /// Compares two header names the way HTTP does: ASCII letters ignore case.
    public static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs, rhs = rhs
        // Native strings know their UTF-8 length: most names differ here.
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return lhs.withUTF8 { left in rhs.withUTF8 { right in ASCII.equalIgnoringCase(left, right) } }
    }
}

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
