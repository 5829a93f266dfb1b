/// An ordered list of HTTP header fields whose names compare case-insensitively.
///
/// Fields keep the order and the spelling in which they were captured, so an
/// event shows what was on the wire; lookups ignore ASCII case, as HTTP does.
///
/// The fields are stored as captured: names and values back to back in one
/// byte buffer, plus where each field lies. This package's adapters that
/// read raw bytes append them without building a string per field; strings
/// are made only when a field is read as one.
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

        var nameRange: Range<Int> { Int(start)..<Int(start) + Int(nameLength) }
        var valueRange: Range<Int> {
            Int(start) + Int(nameLength)..<Int(start) + Int(nameLength) + Int(valueLength)
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

    /// Creates a list from a framework's own header fields, read one by one
    /// where they lie: no intermediate array of pairs.
    ///
    /// ```swift
    /// let headers = HeaderFields(request.headers, name: \.name.rawName, value: \.value)  // HTTPFields
    /// ```
    ///
    /// - Parameters:
    ///   - fields: the framework's header fields, in the order they are kept.
    ///   - name: reads a field's name.
    ///   - value: reads a field's value.
    public init<Fields: Sequence>(
        _ fields: Fields, name: (Fields.Element) -> String, value: (Fields.Element) -> String
    ) {
        self.init()
        let count = fields.underestimatedCount
        spans.reserveCapacity(count)
        storage.reserveCapacity(count &* 24)
        for field in fields { append(name: name(field), value: value(field)) }
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
        spans.append(
            Span(
                start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(truncatingIfNeeded: nameEnd - start),
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
        spans.append(
            Span(
                start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(truncatingIfNeeded: nameBytes.count),
                valueLength: UInt32(truncatingIfNeeded: valueBytes.count)))
    }

    /// Appends a field from its bytes (any collection), keeping any that
    /// share its name. Arrays and slices take the faster overload.
    package mutating func append<Name: Collection, Value: Collection>(nameBytes: Name, valueBytes: Value)
    where Name.Element == UInt8, Value.Element == UInt8 {
        append(nameBytes: ArraySlice(nameBytes), valueBytes: ArraySlice(valueBytes))
    }

    /// Removes every field, keeping the buffers' capacity when asked.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        storage.removeAll(keepingCapacity: keepingCapacity)
        spans.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Reserves room for `byteCount` bytes of names and values in
    /// `fieldCount` fields: an adapter that copies a framework's headers
    /// one by one grows the list once instead of as it goes.
    public mutating func reserveCapacity(byteCount: Int, fieldCount: Int) {
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
                result.reserveCapacity(
                    byteCount: storage.count + replacement.count * hiddenLow.nonzeroBitCount, fieldCount: spans.count)
                for index in spans.indices {
                    let span = spans[index]
                    let name = UnsafeBufferPointer(rebasing: buffer[span.nameRange])
                    let hidden =
                        index < 64 ? hiddenLow & (1 << UInt64(index)) != 0 : !hiddenRest.isEmpty && hiddenRest[index - 64]
                    result.append(
                        nameBytes: name, valueBytes: hidden ? replacement : UnsafeBufferPointer(rebasing: buffer[span.valueRange])
                    )
                }
                return result
            }
        }
    }

    func rebuilt(_ body: (Int, inout HeaderFields) -> Void) -> HeaderFields {
        var result = HeaderFields()
        result.reserveCapacity(byteCount: storage.count, fieldCount: spans.count)
        for index in spans.indices { body(index, &result) }
        return result
    }

    mutating func appendField(at index: Int, of other: HeaderFields) {
        let span = other.spans[index]
        append(nameBytes: other.storage[span.nameRange], valueBytes: other.storage[span.valueRange])
    }

}
