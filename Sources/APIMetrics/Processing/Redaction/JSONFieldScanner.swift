/// Finds, in one pass over a JSON document and without building it, the
/// values of the members whose names a rule hides; the redactor then copies
/// the document with those values replaced.
///
/// The document is checked as ``JSONParser`` checks it (the same grammar,
/// escapes, UTF-8 and nesting limit): bytes it would refuse are refused
/// here, so a body either is JSON, redacted, or is replaced by the marker.
/// Names are compared after decoding their escapes and lowercasing, as the
/// tree's rules compare them. The rest of the document (spacing, escapes,
/// number spellings) stays as it was sent. With `masksCards`, a string or
/// number that is a card number (``CardNumber``) is hidden too, whatever
/// its member's name.
struct JSONFieldScanner {
    enum Failure: Error {
        case invalid
    }

    private let base: UnsafePointer<UInt8>
    private let count: Int
    private let maxDepth: Int
    private let fields: NameSet
    private let masksCards: Bool
    private var offset = 0
    /// The byte ranges of the values to replace, in order.
    private(set) var ranges: [Range<Int>] = []

    /// The ranges of the values to hide in `bytes`, or `nil` when the bytes
    /// are not a JSON document the parser would read.
    static func valuesToHide(
        in bytes: UnsafeBufferPointer<UInt8>, named fields: NameSet, masksCards: Bool = false,
        maxDepth: Int = JSONParser.defaultMaxDepth
    ) -> [Range<Int>]? {
        guard let base = bytes.baseAddress else { return nil }
        var scanner = JSONFieldScanner(base: base, count: bytes.count, maxDepth: maxDepth, fields: fields, masksCards: masksCards)
        // A UTF-8 byte order mark is tolerated, as the parser tolerates it.
        if bytes.count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { scanner.offset = 3 }
        do {
            scanner.skipWhitespace()
            try scanner.value(depth: 0)
            scanner.skipWhitespace()
            guard scanner.offset == bytes.count else { return nil }
        } catch {
            return nil
        }
        return scanner.ranges
    }

    private init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int, fields: NameSet, masksCards: Bool) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
        self.fields = fields
        self.masksCards = masksCards
    }

    /// Hides the scalar just read from `start` when it is a card number.
    private mutating func checkCard(from start: Int, quoted: Bool) {
        let inner = quoted ? (start + 1)..<(offset - 1) : start..<offset
        guard masksCards, inner.count >= CardNumber.digitCounts.lowerBound,
            inner.count <= CardNumber.maxLength
                || CardNumber.mayBePadded(first: base[inner.lowerBound], last: base[inner.upperBound - 1]),
            CardNumber.matches(UnsafeBufferPointer(start: base + inner.lowerBound, count: inner.count))
        else { return }
        ranges.append(start..<offset)
    }

    private mutating func skipWhitespace() {
        while offset < count {
            switch base[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) {
        guard offset < count else { throw .invalid }
        switch base[offset] {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw .invalid }
            try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw .invalid }
            offset += 1
            skipWhitespace()
            if offset < count, base[offset] == UInt8(ascii: "]") {
                offset += 1
                return
            }
            while true {
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                guard offset < count else { throw .invalid }
                if base[offset] == UInt8(ascii: ",") {
                    offset += 1
                } else if base[offset] == UInt8(ascii: "]") {
                    offset += 1
                    return
                } else {
                    throw .invalid
                }
            }
        case UInt8(ascii: "\""):
            let start = offset
            if try string() { checkCard(from: start, quoted: true) }
        case UInt8(ascii: "t"):
            try literal("true")
        case UInt8(ascii: "f"):
            try literal("false")
        case UInt8(ascii: "n"):
            try literal("null")
        default:
            let start = offset
            try number()
            checkCard(from: start, quoted: false)
        }
    }

    private mutating func object(depth: Int) throws(Failure) {
        offset += 1
        skipWhitespace()
        if offset < count, base[offset] == UInt8(ascii: "}") {
            offset += 1
            return
        }
        while true {
            skipWhitespace()
            guard offset < count, base[offset] == UInt8(ascii: "\"") else { throw .invalid }
            let keyStart = offset + 1
            let isPlainASCII = try string()
            let key = UnsafeBufferPointer(start: base + keyStart, count: offset - 1 - keyStart)
            skipWhitespace()
            guard offset < count, base[offset] == UInt8(ascii: ":") else { throw .invalid }
            offset += 1
            skipWhitespace()
            // A plain ASCII name is compared where it lies; any other is
            // decoded first, as the parser would decode it.
            let hidden = isPlainASCII ? fields.contains(bytes: key) : fields.contains(try Self.decoded(key))
            let valueStart = offset
            // A hidden value is still read whole (and checked): nothing in
            // it is looked at, it is replaced.
            try value(depth: depth)
            if hidden {
                // Ranges inside it were found before it ended: drop them.
                while let last = ranges.last, last.lowerBound >= valueStart { ranges.removeLast() }
                ranges.append(valueStart..<offset)
            }
            skipWhitespace()
            guard offset < count else { throw .invalid }
            if base[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if base[offset] == UInt8(ascii: "}") {
                offset += 1
                return
            } else {
                throw .invalid
            }
        }
    }

    /// Reads a string (at its opening quote) to past its closing quote;
    /// returns whether it is plain ASCII with no escape.
    private mutating func string() throws(Failure) -> Bool {
        offset += 1
        let start = offset
        var isPlain = true
        while true {
            // Eight bytes at a time up to the next quote, backslash or
            // control byte: most of a string is passed over whole.
            while offset &+ 8 <= count {
                let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
                let lane = JSONWriter.firstEscapeLane(word)
                // Non-ASCII bytes before the stop (or in a whole word).
                let passed = lane == 8 ? word : word & ((1 << UInt64(lane * 8)) &- 1)
                if passed & JSONWriter.highs != 0 { isPlain = false }
                offset &+= lane
                if lane != 8 { break }
            }
            guard offset < count else { throw .invalid }
            let byte = base[offset]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw .invalid }
            if byte >= 0x80 { isPlain = false }
            if byte == UInt8(ascii: "\\") {
                isPlain = false
                offset += 1
                guard offset < count else { throw .invalid }
                switch base[offset] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    offset += 1
                case UInt8(ascii: "u"):
                    guard offset + 4 < count else { throw .invalid }
                    for index in 1...4 where URLTarget.hexValue(base[offset + index]) == nil { throw .invalid }
                    offset += 5
                default:
                    throw .invalid
                }
                continue
            }
            offset += 1
        }
        // Escapes are ASCII: the raw bytes are valid UTF-8 exactly when the
        // decoded ones are.
        if !isPlain, !EventEncoder.isValidUTF8(UnsafeBufferPointer(start: base + start, count: offset - start)) {
            throw .invalid
        }
        offset += 1
        return isPlain
    }

    /// A name's raw bytes (between its quotes), decoded as the parser does.
    private static func decoded(_ raw: UnsafeBufferPointer<UInt8>) throws(Failure) -> String {
        var quoted = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: raw)
        quoted.append(UInt8(ascii: "\""))
        guard case let .string(text)? = try? JSONParser.parse(quoted) else { throw .invalid }
        return text
    }

    private mutating func literal(_ text: StaticString) throws(Failure) {
        guard let end = JSONGrammar.literalEnd(text, in: UnsafeBufferPointer(start: base, count: count), from: offset) else {
            throw .invalid
        }
        offset = end
    }

    private mutating func number() throws(Failure) {
        guard let end = JSONGrammar.numberEnd(UnsafeBufferPointer(start: base, count: count), from: offset) else {
            throw .invalid
        }
        offset = end
    }
}
