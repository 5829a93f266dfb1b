/// Writes JSON straight into a byte buffer: no intermediate objects, keys in
/// the order written, strings escaped per RFC 8259.
///
/// The caller pairs `key` with exactly one value inside objects; commas are
/// placed by the writer.
struct JSONWriter {
    private(set) var bytes: [UInt8]
    private var needsComma = false

    init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a key whose ASCII letters are lowercased, as header names are.
    mutating func keyLowercased(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        var name = name
        name.withUTF8 { utf8 in
            if utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                bytes.append(UInt8(ascii: "\""))
                for byte in utf8 { bytes.append(HeaderFields.lowercasedASCII(byte)) }
                bytes.append(UInt8(ascii: "\""))
            } else {
                let lowered = utf8.map(HeaderFields.lowercasedASCII)
                lowered.withUnsafeBufferPointer { appendEscaped(buffer: $0) }
            }
        }
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an event id as a 32-hex-digit string.
    mutating func string(_ id: EventID) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        EventID.appendHex(id.high, to: &bytes)
        EventID.appendHex(id.low, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes an instant as an RFC 3339 UTC string with milliseconds.
    mutating func timestamp(nanosecondsSinceEpoch nanoseconds: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Timestamp.append(nanosecondsSinceEpoch: nanoseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
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
        appendEscaped(utf8: value)
        needsComma = true
    }

    mutating func int(_ value: Int) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
        needsComma = true
    }

    /// Writes `nanoseconds` as milliseconds with three decimals, exactly.
    mutating func milliseconds(fromNanoseconds nanoseconds: Int64) {
        separate()
        let micros = max(0, nanoseconds) / 1000
        appendDecimal(Int(micros / 1000))
        bytes.append(UInt8(ascii: "."))
        let fraction = Int(micros % 1000)
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        needsComma = true
    }

    /// Writes bytes that are a complete JSON value, such as an encoded event.
    mutating func raw(_ json: some Collection<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendDecimal(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            if value == .min {
                bytes.append(contentsOf: Array("9223372036854775808".utf8))
                return
            }
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[index])
            }
        }
    }

    private mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped(utf8: $0) }
    }

    private mutating func appendEscaped(utf8 value: some Collection<UInt8>) {
        let done: Void? = value.withContiguousStorageIfAvailable { appendEscaped(buffer: $0) }
        if done == nil {
            Array(value).withUnsafeBufferPointer { appendEscaped(buffer: $0) }
        }
    }

    /// Copies runs of bytes that need no escape in one append each.
    private mutating func appendEscaped(buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F {
                index += 1
                continue
            }
            if runStart < index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
            }
            appendEscape(for: byte)
            index += 1
            runStart = index
        }
        if runStart < buffer.count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "\\"))
        case 0x0A:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "n"))
        case 0x0D:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "r"))
        case 0x09:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            hex.withUTF8Buffer { table in
                bytes.append(table[Int(byte >> 4)])
                bytes.append(table[Int(byte & 0xF)])
            }
        }
    }
}
