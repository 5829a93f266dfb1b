extension YAMLReader {
    /// A scalar's text before the core schema resolves it.
    struct Scalar {
        enum Style { case plain, quoted, block }

        var bytes: [UInt8]
        var style: Style
        var mark: Mark
        /// The line the scalar starts on.
        var line: Int
    }

    enum PlainMode {
        /// At the start of a block node: `text:` makes it a mapping key.
        case keyOrValue
        /// After `key: `: a second `: ` on the line is an error.
        case value
        /// Inside `[ ]` or `{ }`: flow indicators end it, `:` may end a key.
        case flow
    }

    private enum LineStop { case lineEnd, colon, comment, indicator }

    /// Reads a plain scalar, folding its continuation lines (those indented
    /// more than `parent`). Returns whether it ended at a key's `:` on its first line.
    mutating func plain(parent: Int, mode: PlainMode) throws(Failure) -> (Scalar, isKey: Bool) {
        let start = mark()
        let flow = mode == .flow
        let c = byte(pos)
        let next = byte(pos + 1)
        let indicatorFollowedBySafe =
            (c == Byte.dash || c == Byte.question || c == Byte.colon)
            && !isBlankOrEnd(next) && !(flow && isFlowIndicator(next))
        if !indicatorFollowedBySafe && isIndicatorOrBlank(c) {
            if c == Byte.at || c == Byte.backtick {
                throw failure("\(describe(c)) is reserved and cannot start a plain scalar; quote the text")
            }
            if c == Byte.question { throw failure("complex mapping keys ('? ') are not supported") }
            if c == Byte.colon { throw failure("a mapping key is missing before ':'") }
            if c == Byte.tab { throw failure("a tab where a node was expected") }
            throw failure("unexpected \(describe(c)); quote the text if it is a string")
        }
        var text: [UInt8] = []
        var stop = scanPlainLine(flow: flow, into: &text)
        if stop == .colon {
            skipBlanks()
            if mode == .value {
                throw failure(
                    "a mapping key cannot follow another on the same line; start the mapping on the next line", at: start)
            }
            return (Scalar(bytes: text, style: .plain, mark: start, line: start.line), mode == .keyOrValue)
        }
        while stop == .lineEnd {
            let saved = mark()
            skipBlanks()
            guard byte(pos) == Byte.newline else { restore(saved); break }
            var breaks = 0
            var contentFound = false
            while byte(pos) == Byte.newline {
                consumeNewline()
                breaks += 1
                var p = pos
                while byte(p) == Byte.space { p += 1 }
                let indent = p - pos
                var q = p
                while isBlank(byte(q)) { q += 1 }
                if byte(q) == Byte.newline { pos = q; continue }
                if q >= b.count { break }
                if indent <= parent || (indent == 0 && isMarker(at: pos)) || b[q] == Byte.hash { break }
                if flow && isFlowIndicator(b[q]) { break }
                if b[q] == Byte.colon && (isBlankOrEnd(byte(q + 1)) || (flow && isFlowIndicator(byte(q + 1)))) { break }
                pos = q
                contentFound = true
                break
            }
            guard contentFound else { restore(saved); break }
            if breaks == 1 {
                text.append(Byte.space)
            } else {
                text.append(contentsOf: repeatElement(Byte.newline, count: breaks - 1))
            }
            stop = scanPlainLine(flow: flow, into: &text)
            if stop == .colon && !flow {
                throw failure(
                    "this line continues the value above (it is indented more than that value's key) but holds ': '; indent it as a key of its mapping, or quote the text"
                )
            }
        }
        return (Scalar(bytes: text, style: .plain, mark: start, line: start.line), false)
    }

    private func isIndicatorOrBlank(_ c: UInt8) -> Bool {
        switch c {
        case Byte.dash, Byte.question, Byte.colon, Byte.comma, Byte.openBracket, Byte.closeBracket,
            Byte.openBrace, Byte.closeBrace, Byte.hash, Byte.ampersand, Byte.star, Byte.bang,
            Byte.pipe, Byte.greater, Byte.singleQuote, Byte.doubleQuote, Byte.percent, Byte.at,
            Byte.backtick, Byte.space, Byte.tab, Byte.newline, 0:
            return true
        default:
            return false
        }
    }

    /// Appends one line of a plain scalar, without its trailing blanks, and
    /// leaves the position after its last character.
    private mutating func scanPlainLine(flow: Bool, into text: inout [UInt8]) -> LineStop {
        var i = pos
        var end = pos
        var stop = LineStop.lineEnd
        while i < b.count {
            let c = b[i]
            if c == Byte.newline { break }
            if isBlank(c) { i += 1; continue }
            if c == Byte.hash && i > pos && isBlank(b[i - 1]) { stop = .comment; break }
            if c == Byte.colon {
                let n = byte(i + 1)
                if isBlankOrEnd(n) || (flow && isFlowIndicator(n)) { stop = .colon; break }
            }
            if flow && isFlowIndicator(c) { stop = .indicator; break }
            i += 1
            end = i
        }
        text.append(contentsOf: b[pos..<end])
        pos = end
        return stop
    }

    // MARK: - Quoted scalars

    /// Reads a single- or double-quoted scalar, folding its line breaks.
    mutating func quoted(parent: Int) throws(Failure) -> Scalar {
        let start = mark()
        let quote = b[pos]
        let double = quote == Byte.doubleQuote
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < b.count else {
                throw failure("this \(double ? "double" : "single")-quoted string is not closed", at: start)
            }
            let c = b[pos]
            if c == quote {
                if !double && byte(pos + 1) == Byte.singleQuote {
                    out.append(Byte.singleQuote)
                    pos += 2
                    continue
                }
                pos += 1
                break
            }
            if double && c == Byte.backslash {
                if byte(pos + 1) == Byte.newline {
                    pos += 1
                    consumeNewline()
                    let empties = try foldLine(parent: parent, start: start)
                    out.append(contentsOf: repeatElement(Byte.newline, count: empties))
                } else {
                    try escape(into: &out)
                }
                continue
            }
            if isBlank(c) {
                var p = pos
                while isBlank(byte(p)) { p += 1 }
                if byte(p) != Byte.newline { out.append(contentsOf: b[pos..<p]) }
                pos = p
                continue
            }
            if c == Byte.newline {
                consumeNewline()
                let empties = try foldLine(parent: parent, start: start)
                if empties == 0 {
                    out.append(Byte.space)
                } else {
                    out.append(contentsOf: repeatElement(Byte.newline, count: empties))
                }
                continue
            }
            var end = pos + 1
            while end < b.count {
                let d = b[end]
                if d == quote || d == Byte.backslash || d == Byte.newline || isBlank(d) { break }
                end += 1
            }
            out.append(contentsOf: b[pos..<end])
            pos = end
        }
        return Scalar(bytes: out, style: .quoted, mark: start, line: start.line)
    }

    /// After a line break inside a quoted scalar: skips empty lines (counted)
    /// and the next line's indentation, which must be deeper than `parent`.
    private mutating func foldLine(parent: Int, start: Mark) throws(Failure) -> Int {
        var empties = 0
        while true {
            var p = pos
            while byte(p) == Byte.space { p += 1 }
            let indent = p - pos
            var q = p
            while isBlank(byte(q)) { q += 1 }
            if byte(q) == Byte.newline {
                pos = q
                consumeNewline()
                empties += 1
                continue
            }
            if q >= b.count { pos = q; return empties }
            if indent == 0 && isMarker(at: pos) {
                throw failure("a quoted string is not closed before this document marker", at: start)
            }
            if indent <= parent {
                throw failure("a quoted string's next line must be indented more than column \(parent + 1)")
            }
            pos = q
            return empties
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(Failure) {
        let start = mark()
        pos += 1
        let e = byte(pos)
        pos += 1
        let value: UInt32
        switch e {
        case UInt8(ascii: "0"): value = 0
        case UInt8(ascii: "a"): value = 7
        case UInt8(ascii: "b"): value = 8
        case UInt8(ascii: "t"), Byte.tab: value = 9
        case UInt8(ascii: "n"): value = 10
        case UInt8(ascii: "v"): value = 11
        case UInt8(ascii: "f"): value = 12
        case UInt8(ascii: "r"): value = 13
        case UInt8(ascii: "e"): value = 0x1B
        case Byte.space, Byte.doubleQuote, UInt8(ascii: "/"), Byte.backslash: value = UInt32(e)
        case UInt8(ascii: "N"): value = 0x85
        case UInt8(ascii: "_"): value = 0xA0
        case UInt8(ascii: "L"): value = 0x2028
        case UInt8(ascii: "P"): value = 0x2029
        case UInt8(ascii: "x"): value = try hex(2, start)
        case UInt8(ascii: "U"): value = try hex(8, start)
        case UInt8(ascii: "u"):
            let unit = try hex(4, start)
            if (0xDC00...0xDFFF).contains(unit) {
                throw failure(
                    "\\u\(String(unit, radix: 16, uppercase: true)) is a low surrogate with no high surrogate before it",
                    at: start)
            }
            if (0xD800...0xDBFF).contains(unit) {
                guard byte(pos) == Byte.backslash && byte(pos + 1) == UInt8(ascii: "u") else {
                    throw failure(
                        "\\u\(String(unit, radix: 16, uppercase: true)) is a high surrogate not followed by a \\u low surrogate",
                        at: start)
                }
                pos += 2
                let low = try hex(4, start)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure(
                        "\\u\(String(unit, radix: 16, uppercase: true)) is a high surrogate not followed by a low surrogate",
                        at: start)
                }
                value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else {
                value = unit
            }
        default:
            if pos > b.count { throw failure("this double-quoted string is not closed", at: start) }
            throw failure(
                "unknown escape \\\(e < 0x80 && e >= 0x20 ? String(Character(Unicode.Scalar(e))) : "…") in a double-quoted string",
                at: start)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw failure(
                "the escape names U+\(String(value, radix: 16, uppercase: true)), which is not a Unicode scalar", at: start)
        }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func hex(_ count: Int, _ start: Mark) throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            let c = byte(pos)
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw failure("an escape needs \(count) hexadecimal digits", at: start)
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }
}
