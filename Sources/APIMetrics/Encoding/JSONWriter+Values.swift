/// Values: ids, instants, strings, numbers, and JSON already encoded.
extension JSONWriter {
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

    mutating func null() {
        separate()
        let text: StaticString = "null"
        text.withUTF8Buffer { putAll($0) }
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

    /// Writes a number in its shortest exact decimal form (a whole number
    /// without a fraction); `null` when it is not finite.
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            raw("null".utf8)
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            int(Int(value))
        } else {
            raw(value.description.utf8)
        }
    }

    /// Writes bytes that are a complete JSON value received from elsewhere
    /// (a captured body), with U+2028 and U+2029 escaped.
    mutating func embeddedJSON(_ json: ArraySlice<UInt8>) {
        separate()
        json.withUnsafeBufferPointer { appendEmbeddingJSON($0) }
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
}
