/// A strict RFC 8259 parser with a depth limit, so that hostile bodies cost
/// bounded work and never overflow the stack.
struct JSONParser {
    enum Failure: Error, Equatable {
        case invalid(offset: Int)
        case tooDeep
    }

    static let defaultMaxDepth = 64

    private let bytes: [UInt8]
    private var offset = 0
    private let maxDepth: Int

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        // A UTF-8 byte order mark is tolerated, as RFC 8259 §8.1 allows.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.offset = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw .invalid(offset: parser.offset) }
        return value
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard offset < bytes.count else { throw .invalid(offset: offset) }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw .tooDeep }
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw .tooDeep }
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default:
            return .number(try parseNumber())
        }
    }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let start = offset
        guard let end = bytes.withUnsafeBufferPointer({ JSONGrammar.literalEnd(literal, in: $0, from: start) }) else {
            throw .invalid(offset: offset)
        }
        offset = end
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        offset += 1
        var members: [JSONValue.Member] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw .invalid(offset: offset) }
            let key = try parseString()
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw .invalid(offset: offset) }
            offset += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONValue.Member(key, value))
            skipWhitespace()
            guard offset < bytes.count else { throw .invalid(offset: offset) }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            } else {
                throw .invalid(offset: offset)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard offset < bytes.count else { throw .invalid(offset: offset) }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            } else {
                throw .invalid(offset: offset)
            }
        }
    }

    private mutating func parseNumber() throws(Failure) -> String {
        let start = offset
        guard let end = bytes.withUnsafeBufferPointer({ JSONGrammar.numberEnd($0, from: start) }) else {
            throw .invalid(offset: offset)
        }
        offset = end
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func parseString() throws(Failure) -> String {
        offset += 1
        var scalars: [UInt8] = []
        var runStart = offset
        var isEscaped = false
        while true {
            guard offset < bytes.count else { throw .invalid(offset: offset) }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\""), !isEscaped {
                // Without escapes the text is the bytes as they are: no copy between.
                let text = bytes[runStart..<offset]
                guard EventEncoder.isValidUTF8(text) else { throw .invalid(offset: offset) }
                offset += 1
                return String(decoding: text, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\"") {
                scalars.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                break
            }
            if byte < 0x20 { throw .invalid(offset: offset) }
            if byte == UInt8(ascii: "\\") {
                isEscaped = true
                scalars.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                try parseEscape(into: &scalars)
                runStart = offset
                continue
            }
            offset += 1
        }
        guard EventEncoder.isValidUTF8(scalars[...]) else { throw .invalid(offset: offset) }
        return String(decoding: scalars, as: UTF8.self)
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(Failure) {
        var at = offset
        let failed = bytes.withUnsafeBytes { JSONEscape.decode($0, at: &at, into: &output) }
        offset = at
        if let failed { throw .invalid(offset: failed) }
    }
}

/// One JSON string escape (RFC 8259), read after its backslash: what the
/// redaction's parser and the store's blocks of calls both read.
enum JSONEscape {
    /// Appends the UTF-8 of the escape that starts at `offset` (the byte
    /// after the backslash) to `output` and moves `offset` past it. A lone
    /// surrogate becomes U+FFFD rather than failing the text. Returns `nil`,
    /// or the offset of the byte that makes it no escape.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, into output: inout [UInt8]) -> Int? {
        guard offset < bytes.count else { return offset }
        let escape = bytes[offset]
        offset += 1
        switch escape {
        case UInt8(ascii: "\""): output.append(0x22)
        case UInt8(ascii: "\\"): output.append(0x5C)
        case UInt8(ascii: "/"): output.append(0x2F)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            guard var value = hex4(bytes, at: &offset) else { return offset }
            if (0xD800...0xDBFF).contains(value) {
                // A high surrogate must be followed by an escaped low one.
                if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                    let save = offset
                    offset += 2
                    guard let low = hex4(bytes, at: &offset) else { return offset }
                    if (0xDC00...0xDFFF).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        offset = save
                        value = 0xFFFD
                    }
                } else {
                    value = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(value) {
                value = 0xFFFD
            }
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            output.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            return offset - 1
        }
        return nil
    }

    /// Four hexadecimal digits at `offset`; `nil` with `offset` at the first
    /// that is not one (or where they would start, when fewer are left).
    private static func hex4(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = URLTarget.hexValue(bytes[offset]) else { return nil }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }
}
