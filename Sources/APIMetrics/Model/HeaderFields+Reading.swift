/// Reading fields in place: by index, by name, as raw bytes.
extension HeaderFields {
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
                body(
                    UnsafeBufferPointer(rebasing: buffer[span.nameRange]), UnsafeBufferPointer(rebasing: buffer[span.valueRange]))
            }
        }
    }

    /// The storage and the span table in place, for readers that walk
    /// the fields more than once.
    func withRawStorage<Result>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Span>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { bytes in spans.withUnsafeBufferPointer { spans in body(bytes, spans) } }
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
    func forEachIndex(namedBytes wanted: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Bool) {
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
    func nameEquals(at index: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
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
