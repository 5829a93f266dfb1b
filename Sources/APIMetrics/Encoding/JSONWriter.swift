/// Writes JSON straight into one growing byte buffer: no intermediate
/// objects, keys in the order written, strings escaped per RFC 8259.
///
/// The caller pairs `key` with exactly one value inside objects; commas are
/// placed by the writer. The buffer is raw memory owned by the writer (it is
/// noncopyable and frees it on deinit), so that each byte written costs a
/// store rather than an array append; ``bytes`` copies the result out once.
struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private var needsComma = false

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

    // MARK: - Values

    /// Writes an event id as a 32-hex-digit string.
    mutating func string(_ id: EventID) {
        separate()
        reserve(34)
        store(UInt8(ascii: "\""))
        storeHex(id.high)
        storeHex(id.low)
        store(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes an instant as an RFC 3339 UTC string with milliseconds.
    mutating func timestamp(nanosecondsSinceEpoch nanoseconds: Int64) {
        separate()
        put(UInt8(ascii: "\""))
        Timestamp.withRFC3339Bytes(nanosecondsSinceEpoch: nanoseconds) { putAll($0) }
        put(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func string(_ value: String) {
        separate()
        appendEscaped(value)
        needsComma = true
    }

    /// Writes bytes already known to be valid UTF-8 as a JSON string.
    mutating func string(utf8 value: some Collection<UInt8>) {
        separate()
        let done: Void? = value.withContiguousStorageIfAvailable { appendEscaped(buffer: $0) }
        if done == nil {
            Array(value).withUnsafeBufferPointer { appendEscaped(buffer: $0) }
        }
        needsComma = true
    }

    /// Writes bytes as a JSON string, replacing invalid UTF-8 (as captured
    /// header values may hold).
    mutating func string(unvalidated value: UnsafeBufferPointer<UInt8>) {
        separate()
        if Self.isASCII(value) || EventEncoder.isValidUTF8(value) {
            appendEscaped(buffer: value)
        } else {
            appendEscaped(String(decoding: value, as: UTF8.self))
        }
        needsComma = true
    }

    mutating func int(_ value: Int) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { putAll($0) }
        needsComma = true
    }

    /// Writes `nanoseconds` as milliseconds with three decimals, exactly.
    mutating func milliseconds(fromNanoseconds nanoseconds: Int64) {
        separate()
        let micros = max(0, nanoseconds) / 1000
        appendDecimal(Int(micros / 1000))
        reserve(4)
        store(UInt8(ascii: "."))
        storeDigits(Int(micros % 1000), width: 3)
        needsComma = true
    }

    /// Writes bytes that are a complete JSON value, such as an encoded event.
    mutating func raw(_ json: some Collection<UInt8>) {
        separate()
        let done: Void? = json.withContiguousStorageIfAvailable { putAll($0) }
        if done == nil {
            for byte in json { put(byte) }
        }
        needsComma = true
    }

    // MARK: - Buffer

    @inline(__always)
    private mutating func separate() {
        if needsComma { put(UInt8(ascii: ",")) }
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to minimum: Int) {
        let newCapacity = max(capacity * 2, minimum)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Writes one byte; room must have been reserved.
    @inline(__always)
    private mutating func store(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// Writes bytes; room must have been reserved.
    @inline(__always)
    private mutating func storeAll(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress, !buffer.isEmpty else { return }
        (base + count).update(from: source, count: buffer.count)
        count += buffer.count
    }

    /// Writes a run between escapes; room must have been reserved. Runs in
    /// escaped text are often a few bytes: those are copied here rather than
    /// through a call to memcpy.
    @inline(__always)
    private mutating func storeRun(_ source: UnsafePointer<UInt8>, count length: Int) {
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
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        store(byte)
    }

    private mutating func putAll(_ buffer: UnsafeBufferPointer<UInt8>) {
        reserve(buffer.count)
        storeAll(buffer)
    }

    private mutating func storeHex(_ value: UInt64) {
        var shift = 60
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            store(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            shift -= 4
        }
    }

    /// Writes `value` (0 ≤ value < 10^width) zero-padded to `width` digits.
    private mutating func storeDigits(_ value: Int, width: Int) {
        var remaining = value
        var position = count + width - 1
        while position >= count {
            base[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            position -= 1
        }
        count += width
    }

    private mutating func appendDecimal(_ value: Int) {
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

    // MARK: - Escaping

    private mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped(buffer: $0) }
    }

    /// Writes a quoted string, copying runs that need no escape at once. The
    /// scan reads eight bytes at a time; a word that holds a quote, a
    /// backslash, a control character or DEL names its first such byte
    /// itself, so no byte is looked at alone except in the last partial word.
    private mutating func appendEscaped(buffer: UnsafeBufferPointer<UInt8>) {
        let total = buffer.count
        // Room for every byte as it is and both quotes; each escape makes
        // room for itself. So: capacity - count >= total - runStart + 1 holds
        // at each escape, and runs are copied without a check.
        reserve(total + 2)
        store(UInt8(ascii: "\""))
        guard let source = buffer.baseAddress else {
            store(UInt8(ascii: "\""))
            return
        }
        var runStart = 0
        var index = 0
        while index < total {
            let at: Int
            if index + 8 <= total {
                let word = UInt64(littleEndian: UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self))
                let lane = Self.firstEscapeLane(word)
                if lane == 8 {
                    index += 8
                    continue
                }
                at = index + lane
            } else {
                guard Self.needsEscape(source[index]) else {
                    index += 1
                    continue
                }
                at = index
            }
            storeRun(source + runStart, count: at - runStart)
            reserve(6 + total - at)
            let byte = source[at]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                // The usual escapes in JSON bodies: written in place.
                store(UInt8(ascii: "\\"))
                store(byte)
            } else {
                storeEscape(for: byte)
            }
            runStart = at + 1
            index = at + 1
        }
        storeAll(UnsafeBufferPointer(start: source + runStart, count: total - runStart))
        store(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each zero byte of the word. Borrows may also flag a
    /// byte above a zero byte, never one below the lowest: the lowest flag
    /// is exact.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// The lane of the first byte (lane 0 is the lowest address; `word` is
    /// read little-endian) that needs an escape, or 8 when none does. Bytes
    /// of 0x80 and up (UTF-8 sequences) never do.
    @inline(__always)
    static func firstEscapeLane(_ word: UInt64) -> Int {
        // A byte below 0x20: subtracting 0x20 borrows into its high bit
        // while the byte's own high bit is clear. As with zero bytes, only
        // lanes above a true one can be flagged falsely, so the lowest flag
        // of the four masks together is the first byte that needs an escape.
        let below = (word &- 0x2020_2020_2020_2020) & ~word & highs
        let flags = below | zeroBytes(word ^ 0x2222_2222_2222_2222)
            | zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) | zeroBytes(word ^ 0x7F7F_7F7F_7F7F_7F7F)
        return flags.trailingZeroBitCount >> 3
    }

    /// Whether any byte of the word needs an escape.
    @inline(__always)
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        firstEscapeLane(word) != 8
    }

    /// Whether every byte is ASCII.
    static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let source = buffer.baseAddress else { return true }
        var index = 0
        var combined: UInt64 = 0
        while index + 8 <= buffer.count {
            combined |= UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < buffer.count {
            combined |= UInt64(source[index])
            index += 1
        }
        return combined & highs == 0
    }

    /// Whether a key's bytes can be written between quotes as they are.
    private static func needsNoEscape(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in buffer where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            return false
        }
        return true
    }

    private static func repairedIfInvalid(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        if isASCII(buffer) || EventEncoder.isValidUTF8(buffer) { return Array(buffer) }
        return Array(String(decoding: buffer, as: UTF8.self).utf8)
    }

    /// Writes the escape for `byte`; room for six bytes must have been reserved.
    private mutating func storeEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""):
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"):
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "\\"))
        case 0x0A:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "n"))
        case 0x0D:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "r"))
        case 0x09:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "t"))
        default:
            store(UInt8(ascii: "\\"))
            store(UInt8(ascii: "u"))
            store(UInt8(ascii: "0"))
            store(UInt8(ascii: "0"))
            let high = byte >> 4, low = byte & 0xF
            store(high < 10 ? UInt8(ascii: "0") + high : UInt8(ascii: "a") + high - 10)
            store(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
        }
    }
}
