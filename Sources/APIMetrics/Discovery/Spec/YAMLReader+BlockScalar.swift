extension YAMLReader {
    /// Reads a `|` or `>` scalar whose content is indented more than `parent`.
    mutating func blockScalar(parent: Int) throws(Failure) -> Scalar {
        let start = mark()
        let folded = b[pos] == Byte.greater
        pos += 1
        var chomp: UInt8 = 0
        var explicit = 0
        for _ in 0..<2 {
            let c = byte(pos)
            if (c == Byte.dash || c == Byte.plus) && chomp == 0 {
                chomp = c
                pos += 1
            } else if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") && explicit == 0 {
                explicit = Int(c - UInt8(ascii: "0"))
                pos += 1
            } else if c == UInt8(ascii: "0") {
                throw failure("a block scalar's indentation indicator is 1 to 9")
            }
        }
        guard isBlankOrEnd(byte(pos)) else {
            throw failure("unexpected \(describe(byte(pos))) in the block scalar's header; it takes '-' or '+' and a digit")
        }
        skipBlanks()
        if byte(pos) == Byte.hash { skipToLineEnd() }
        guard atEnd || byte(pos) == Byte.newline else {
            throw failure("unexpected \(describe(byte(pos))) after the block scalar's header")
        }
        if !atEnd { consumeNewline() }

        let indent: Int
        if explicit > 0 {
            indent = max(parent, 0) + explicit
        } else {
            indent = try detectIndent(parent: parent)
        }

        var body: [UInt8] = []
        var breaks = 0
        var sawContent = false
        var previousMoreIndented = false
        while pos < b.count {
            var p = pos
            while byte(p) == Byte.space && p - pos < indent { p += 1 }
            if p - pos < indent || byte(p) == Byte.newline || p >= b.count {
                var q = p
                while byte(q) == Byte.space { q += 1 }
                if byte(q) == Byte.newline {
                    pos = q
                    consumeNewline()
                    breaks += 1
                    continue
                }
                if q >= b.count {
                    if q > pos { breaks += 1 }
                    pos = q
                    break
                }
                if p - pos < indent { break }
            }
            if indent == 0 && isMarker(at: pos) { break }
            var e = p
            while e < b.count && b[e] != Byte.newline { e += 1 }
            if folded {
                let moreIndented = isBlank(b[p])
                if !sawContent || moreIndented || previousMoreIndented {
                    body.append(contentsOf: repeatElement(Byte.newline, count: breaks))
                } else if breaks == 1 {
                    body.append(Byte.space)
                } else {
                    body.append(contentsOf: repeatElement(Byte.newline, count: breaks - 1))
                }
                previousMoreIndented = moreIndented
            } else {
                body.append(contentsOf: repeatElement(Byte.newline, count: breaks))
            }
            body.append(contentsOf: b[p..<e])
            sawContent = true
            pos = e
            if atEnd {
                breaks = 1
                break
            }
            consumeNewline()
            breaks = 1
        }
        switch chomp {
        case Byte.dash: break
        case Byte.plus: body.append(contentsOf: repeatElement(Byte.newline, count: breaks))
        default: if sawContent && breaks > 0 { body.append(Byte.newline) }
        }
        return Scalar(bytes: body, style: .block, mark: start, line: start.line)
    }

    /// The indentation of the first line with content; empty lines before it
    /// may not be indented more.
    private func detectIndent(parent: Int) throws(Failure) -> Int {
        var p = pos
        var lineNumber = line
        var widestEmpty = 0
        var widestMark = mark()
        while p < b.count {
            let begin = p
            while byte(p) == Byte.space { p += 1 }
            if byte(p) == Byte.newline {
                if p - begin > widestEmpty {
                    widestEmpty = p - begin
                    widestMark = Mark(pos: p, line: lineNumber, lineStart: begin)
                }
                p += 1
                lineNumber += 1
                continue
            }
            if p >= b.count {
                widestEmpty = max(widestEmpty, p - begin)
                break
            }
            let indent = p - begin
            if indent <= parent { return parent + 1 }
            if widestEmpty > indent {
                throw failure("an empty line at the start of a block scalar has more spaces than its first line", at: widestMark)
            }
            return indent
        }
        return max(parent + 1, widestEmpty)
    }
}
