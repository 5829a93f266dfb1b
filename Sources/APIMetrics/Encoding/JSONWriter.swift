/// Writes JSON straight into one growing byte buffer: no intermediate
/// objects, keys in the order written, strings escaped per RFC 8259.
///
/// The caller pairs `key` with exactly one value inside objects; commas are
/// placed by the writer. The buffer is raw memory owned by the writer (it is
/// noncopyable and frees it on deinit), so that each byte written costs a
/// store rather than an array append; ``bytes`` copies the result out once.
struct JSONWriter: ~Copyable {
    var base: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int
    var needsComma = false

    init(capacity: Int = 512) {
        self.capacity = max(64, capacity)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// What has been written so far, as an array of exactly its size.
    var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: base, count: count))
    }

    /// How many bytes have been written.
    var byteCount: Int { count }

    // MARK: - Structure

    mutating func beginObject() {
        separate()
        put(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        put(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        put(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A key known to need no escape.
    mutating func key(_ name: StaticString) {
        reserve(name.utf8CodeUnitCount + 4)
        if needsComma { store(UInt8(ascii: ",")) }
        store(UInt8(ascii: "\""))
        name.withUTF8Buffer { storeAll($0) }
        store(UInt8(ascii: "\""))
        store(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A key that may need escapes. (Literal keys take the `StaticString`
    /// overload; this one has a label so that literals never pick it.)
    mutating func key(escaping name: String) {
        if needsComma { put(UInt8(ascii: ",")) }
        appendEscaped(name)
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a key from bytes, replacing invalid UTF-8.
    mutating func key(unvalidated name: UnsafeBufferPointer<UInt8>) {
        if needsComma { put(UInt8(ascii: ",")) }
        if Self.isASCII(name) || EventEncoder.isValidUTF8(name) {
            appendEscaped(buffer: name)
        } else {
            appendEscaped(String(decoding: name, as: UTF8.self))
        }
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a key whose ASCII letters are lowercased, as header names are.
    mutating func keyLowercased(_ name: String) {
        var name = name
        name.withUTF8 { keyLowercased(utf8: $0) }
    }

    /// Writes a key from UTF-8 bytes with its ASCII letters lowercased;
    /// invalid UTF-8 is replaced.
    mutating func keyLowercased(utf8 name: UnsafeBufferPointer<UInt8>) {
        if needsComma { put(UInt8(ascii: ",")) }
        if Self.needsNoEscape(name) {
            reserve(name.count + 3)
            store(UInt8(ascii: "\""))
            for byte in name { store(ASCII.lowercased(byte)) }
            store(UInt8(ascii: "\""))
        } else {
            let lowered = Self.repairedIfInvalid(name).map(ASCII.lowercased)
            lowered.withUnsafeBufferPointer { appendEscaped(buffer: $0) }
        }
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: - Buffer

    @inline(__always)
    mutating func separate() {
        if needsComma { put(UInt8(ascii: ",")) }
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    mutating func grow(to minimum: Int) {
        let newCapacity = max(capacity * 2, minimum)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Writes one byte; room must have been reserved.
    @inline(__always)
    mutating func store(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// Writes bytes; room must have been reserved.
    @inline(__always)
    mutating func storeAll(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress, !buffer.isEmpty else { return }
        (base + count).update(from: source, count: buffer.count)
        count += buffer.count
    }

    /// Writes a run between escapes; room must have been reserved. Runs in
    /// escaped text are often a few bytes: those are copied here rather than
    /// through a call to memcpy.
    @inline(__always)
    mutating func storeRun(_ source: UnsafePointer<UInt8>, count length: Int) {
        if length < 16 {
            var index = 0
            while index < length {
                base[count + index] = source[index]
                index += 1
            }
        } else {
            (base + count).update(from: source, count: length)
        }
        count += length
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        reserve(1)
        store(byte)
    }

    mutating func putAll(_ buffer: UnsafeBufferPointer<UInt8>) {
        reserve(buffer.count)
        storeAll(buffer)
    }

    mutating func storeHex(_ value: UInt64) {
        var shift = 60
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            store(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            shift -= 4
        }
    }

    /// Writes `value` (0 ≤ value < 10^width) zero-padded to `width` digits.
    mutating func storeDigits(_ value: Int, width: Int) {
        var remaining = value
        var position = count + width - 1
        while position >= count {
            base[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            position -= 1
        }
        count += width
    }

    mutating func appendDecimal(_ value: Int) {
        reserve(20)
        if value < 0 { store(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var position = count + digits - 1
        repeat {
            base[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        count += digits
    }

}
