/// Undoes what stands between a captured body and the text its redaction
/// rules read: content and transfer codings (`gzip`, `deflate`) and text
/// in UTF-16 or UTF-32. A body that says it is coded in a way this cannot undo is not
/// readable, and the redactor replaces it by the marker.
enum BodyDecoding {
    enum Failure: Error, Equatable {
        /// A coding not supported (`br`, `zstd`, more than ``maxCodings``
        /// layers), or bytes that are not what the coding says.
        case unreadable
        /// It would decode past the limit: a compression bomb, or a body
        /// bigger than the capture limit once decoded.
        case tooLarge
    }

    /// How many content codings may be stacked on one body.
    static let maxCodings = 2

    /// The codings on the body in the order they were applied, lowercase:
    /// those of every `Content-Encoding` field, then those of every
    /// `Transfer-Encoding` field but `chunked` (RFC 9112 §6.1: transfer
    /// codings are applied to the content as coded, so they are undone
    /// first). The capture has undone the chunking and nothing else, so
    /// `Transfer-Encoding: gzip, chunked` leaves gzip bytes. `identity`
    /// is left out, and a transfer coding's parameters (`;name=value`) are
    /// not part of its name.
    static func contentCodings(of headers: HeaderFields) -> [String] {
        var codings: [String] = []
        for value in headers.values(for: "content-encoding") {
            for token in value.split(separator: ",") {
                let coding = String(token).trimmingOptionalWhitespace.lowercased()
                if !coding.isEmpty && coding != "identity" { codings.append(coding) }
            }
        }
        for value in headers.values(for: "transfer-encoding") {
            for token in value.split(separator: ",") {
                let name = token.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? token
                let coding = String(name).trimmingOptionalWhitespace.lowercased()
                if !coding.isEmpty && coding != "identity" && coding != "chunked" { codings.append(coding) }
            }
        }
        return codings
    }

    /// The body with its content codings undone, at most `maxOutput` bytes
    /// whatever each layer would produce; `isComplete` is false when the
    /// compressed bytes stop before their end (cut at the capture limit).
    static func removeContentCodings(
        _ codings: [String], from bytes: [UInt8], maxOutput: Int
    ) throws(Failure) -> (bytes: [UInt8], isComplete: Bool) {
        guard codings.count <= maxCodings else { throw .unreadable }
        var current = bytes
        var isComplete = true
        for coding in codings.reversed() {
            guard isComplete else { throw .unreadable }
            let framings: [Gzip.Framing]
            switch coding {
            case "gzip", "x-gzip": framings = [.gzip]
            // RFC 9110 says zlib-wrapped; some clients send raw deflate.
            case "deflate": framings = [.zlib, .raw]
            default: throw .unreadable
            }
            var decoded: (bytes: [UInt8], isComplete: Bool)?
            for framing in framings {
                do {
                    decoded = try Gzip.inflate(current, framing: framing, maxOutput: maxOutput)
                    break
                } catch .tooLarge {
                    throw .tooLarge
                } catch {
                    continue
                }
            }
            guard let decoded else { throw .unreadable }
            current = decoded.bytes
            isComplete = decoded.isComplete
        }
        return (current, isComplete)
    }

    /// A Unicode encoding form other than UTF-8.
    enum UnicodeForm: String {
        case utf16BE = "utf-16be", utf16LE = "utf-16le", utf32BE = "utf-32be", utf32LE = "utf-32le"
    }

    /// The form of a body in UTF-16 or UTF-32: from its byte order mark, or,
    /// without one, from where the zero bytes fall around its first
    /// character when that character is ASCII (RFC 8259 §8.1, the detection
    /// of RFC 4627 §3). Returns the length of the mark too.
    static func unicodeForm(of bytes: [UInt8]) -> (form: UnicodeForm, markLength: Int)? {
        let count = bytes.count
        guard count >= 2 else { return nil }
        let b0 = bytes[0], b1 = bytes[1]
        let b2 = count > 2 ? bytes[2] : 1, b3 = count > 3 ? bytes[3] : 1
        if count >= 4, b0 == 0, b1 == 0, b2 == 0xFE, b3 == 0xFF { return (.utf32BE, 4) }
        if count >= 4, b0 == 0xFF, b1 == 0xFE, b2 == 0, b3 == 0 { return (.utf32LE, 4) }
        if b0 == 0xFE, b1 == 0xFF { return (.utf16BE, 2) }
        if b0 == 0xFF, b1 == 0xFE { return (.utf16LE, 2) }
        if count >= 4, b0 == 0, b1 == 0, b2 == 0, b3 != 0 { return (.utf32BE, 0) }
        if count >= 4, b0 != 0, b1 == 0, b2 == 0, b3 == 0 { return (.utf32LE, 0) }
        if b0 == 0, b1 != 0 { return (.utf16BE, 0) }
        if b0 != 0, b1 == 0 { return (.utf16LE, 0) }
        return nil
    }

    /// The body in UTF-8, without its byte order mark; `nil` when it is not
    /// valid in that form. A body cut at the capture limit may end inside a
    /// code unit or a surrogate pair: with `allowingCutTail` that end is left out.
    static func utf8(from bytes: [UInt8], form: UnicodeForm, markLength: Int, allowingCutTail: Bool) -> [UInt8]? {
        let width = form == .utf16BE || form == .utf16LE ? 2 : 4
        let bigEndian = form == .utf16BE || form == .utf32BE
        var end = bytes.count
        if (end - markLength) % width != 0 {
            guard allowingCutTail else { return nil }
            end -= (end - markLength) % width
        }
        var units: [UInt32] = []
        units.reserveCapacity((end - markLength) / width)
        var index = markLength
        while index < end {
            var unit: UInt32 = 0
            for offset in 0..<width {
                let byte = UInt32(bytes[index + (bigEndian ? offset : width - 1 - offset)])
                unit = unit << 8 | byte
            }
            units.append(unit)
            index += width
        }
        var output: [UInt8] = []
        output.reserveCapacity(units.count)
        if width == 2 {
            var codeUnits = units.map { UInt16(truncatingIfNeeded: $0) }
            // A high surrogate cut from its pair at the end of a cut body.
            if allowingCutTail, let last = codeUnits.last, (0xD800...0xDBFF).contains(last) { codeUnits.removeLast() }
            var decoder = UTF16()
            var iterator = codeUnits.makeIterator()
            loop: while true {
                switch decoder.decode(&iterator) {
                case let .scalarValue(scalar): appendUTF8(scalar.value, to: &output)
                case .emptyInput: break loop
                case .error: return nil
                }
            }
        } else {
            for unit in units {
                guard let scalar = Unicode.Scalar(unit) else { return nil }
                appendUTF8(scalar.value, to: &output)
            }
        }
        return output
    }

    private static func appendUTF8(_ value: UInt32, to output: inout [UInt8]) {
        switch value {
        case ..<0x80:
            output.append(UInt8(value))
        case ..<0x800:
            output.append(UInt8(0xC0 | value >> 6))
            output.append(UInt8(0x80 | value & 0x3F))
        case ..<0x10000:
            output.append(UInt8(0xE0 | value >> 12))
            output.append(UInt8(0x80 | value >> 6 & 0x3F))
            output.append(UInt8(0x80 | value & 0x3F))
        default:
            output.append(UInt8(0xF0 | value >> 18))
            output.append(UInt8(0x80 | value >> 12 & 0x3F))
            output.append(UInt8(0x80 | value >> 6 & 0x3F))
            output.append(UInt8(0x80 | value & 0x3F))
        }
    }
}
