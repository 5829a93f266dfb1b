/// Reads the YAML text of an OpenAPI document into a `JSONValue`: YAML 1.2,
/// core schema, one document, the block and flow styles people and tools write.
///
/// What it decides where YAML and JSON part ways:
/// - `.inf`, `-.inf` and `.nan` (core-schema floats) fail: JSON has no such
///   numbers, and reading them as strings would change their meaning unseen.
///   Quote them to mean the text.
/// - Anchors (`&a`) and aliases (`*a`) are expanded. At most ``maxAliases``
///   aliases are read and their expansions add at most ``maxExpandedNodes``
///   nodes, so a "billion laughs" document fails instead of growing.
/// - Merge keys (`<<: *base`, or a list of aliases; YAML 1.1's, which
///   people still use in OpenAPI files) are honoured: the merged members come
///   where the `<<` key stands; keys written in the mapping win. A quoted
///   `'<<'` is an ordinary key.
/// - Tags: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`
///   (also in their `!<tag:yaml.org,2002:…>` form) and the non-specific `!`
///   are honoured; any other tag fails, naming it.
/// - Keys are strings: a plain key such as `200` is read as the text "200".
///   Complex keys (`? `), keys that are collections or aliases, and duplicate
///   keys fail.
/// - A second document, a `%TAG` directive and tabs in indentation fail.
///
/// Limits: at most ``maxBytes`` bytes; collections nested at most
/// ``maxDepth`` deep (the reader recurses once a level, so the stack is
/// bounded too); octal and hexadecimal integers of at most
/// ``maxRadixDigits`` digits. The work is linear in the text. Every failure
/// names a line, a column and the reason.
///
/// ```swift
/// let document = try YAMLReader.parse(Array(text.utf8))   // a JSONValue
/// ```
struct YAMLReader {
    /// Why a document could not be read, and where (1-based; the column counts
    /// characters, not bytes).
    struct Failure: Error, Equatable, CustomStringConvertible {
        var line: Int
        var column: Int
        var reason: String

        var description: String { "line \(line), column \(column): \(reason)" }
    }

    static let maxBytes = 16 << 20
    static let maxDepth = 64
    /// The most aliases a document may use.
    static let maxAliases = 10_000
    /// The most nodes aliases may add to the document by their expansion.
    static let maxExpandedNodes = 1_000_000

    /// A place in the text, kept to report a failure where something began.
    struct Mark {
        var pos: Int
        var line: Int
        var lineStart: Int
    }

    struct Anchored {
        var value: JSONValue
        var size: Int
    }

    let b: [UInt8]
    var pos = 0
    var line = 1
    var lineStart = 0
    /// Where `nextContentLine` last stopped: nothing was read since when `pos` is here.
    var contentStop = -1
    /// The spaces before the content of the line `nextContentLine` stopped on.
    var lineIndent = 0
    /// Where that line's leading whitespace has a tab: it may come before a
    /// scalar or a flow collection, never before a block collection.
    var tabInIndent: Mark?
    var anchors: [String: Anchored] = [:]
    /// Nodes produced so far, expansions included: an anchor's size is a difference of two counts.
    var nodes = 0
    var expandedNodes = 0
    var aliasCount = 0

    private init(bytes: [UInt8]) {
        b = bytes
    }

    /// Reads one YAML document.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        guard bytes.count <= maxBytes else {
            throw Failure(line: 1, column: 1, reason: "the document has \(bytes.count) bytes; at most \(maxBytes) are read")
        }
        var reader = YAMLReader(bytes: try normalized(bytes))
        return try reader.document()
    }

    // MARK: - Cursor

    @inline(__always) func byte(_ i: Int) -> UInt8 { i < b.count ? b[i] : 0 }
    var atEnd: Bool { pos >= b.count }
    var column: Int { pos - lineStart }

    func mark() -> Mark { Mark(pos: pos, line: line, lineStart: lineStart) }

    mutating func restore(_ mark: Mark) {
        pos = mark.pos
        line = mark.line
        lineStart = mark.lineStart
    }

    func failure(_ reason: String, at mark: Mark? = nil) -> Failure {
        let m = mark ?? self.mark()
        var column = 1
        var i = m.lineStart
        while i < m.pos && i < b.count {
            if b[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return Failure(line: m.line, column: column, reason: reason)
    }

    mutating func consumeNewline() {
        pos += 1
        line += 1
        lineStart = pos
    }

    mutating func skipBlanks() {
        while isBlank(byte(pos)) { pos += 1 }
    }

    mutating func skipToLineEnd() {
        while pos < b.count && b[pos] != Byte.newline { pos += 1 }
    }

    func isMarker(at p: Int) -> Bool {
        guard p + 3 <= b.count, isBlankOrEnd(byte(p + 3)) else { return false }
        let c = b[p]
        return (c == Byte.dash || c == Byte.dot) && b[p + 1] == c && b[p + 2] == c
    }

    /// `---` or `...` at the start of a line.
    var atDocumentMarker: Bool { pos == lineStart && isMarker(at: pos) }
    var atSequenceEntry: Bool { byte(pos) == Byte.dash && isBlankOrEnd(byte(pos + 1)) }

    /// After blanks: a line break, a comment or the end.
    var atLineEnd: Bool {
        let c = byte(pos)
        return pos >= b.count || c == Byte.newline || (c == Byte.hash && (pos == lineStart || isBlank(byte(pos - 1))))
    }

    func describe(_ c: UInt8) -> String {
        c == 0 ? "end of text" : c < 0x80 ? "'\(Character(Unicode.Scalar(c)))'" : "this character"
    }

    func tabFailure(_ mark: Mark) -> Failure {
        failure("a tab in indentation; YAML indents with spaces only", at: mark)
    }

    /// Whether the line `nextContentLine` stopped on continues a block
    /// collection indented `indent`: deeper lines fail, tabbed ones too.
    func continues(_ indent: Int, _ what: String) throws(Failure) -> Bool {
        if atEnd || atDocumentMarker || lineIndent < indent { return false }
        if let tab = tabInIndent { throw tabFailure(tab) }
        if lineIndent > indent {
            throw failure("this line is indented more than the \(what) (column \(indent + 1))")
        }
        return true
    }

    func checkDepth(_ depth: Int, at mark: Mark? = nil) throws(Failure) {
        if depth > Self.maxDepth {
            throw failure("collections are nested more than \(Self.maxDepth) deep", at: mark)
        }
    }

    /// Moves past the rest of the line (blanks or a comment only) and past blank
    /// and comment lines, to the first character of the next line with content.
    mutating func nextContentLine() throws(Failure) {
        if pos == contentStop { return }
        if pos != lineStart {
            skipBlanks()
            if byte(pos) == Byte.hash {
                guard isBlank(byte(pos - 1)) else { throw failure("a comment needs a space before '#'") }
                skipToLineEnd()
            }
            guard atEnd || byte(pos) == Byte.newline else {
                throw failure("unexpected \(describe(byte(pos))) after the value; one node a line, or quote the text")
            }
            if !atEnd { consumeNewline() }
        }
        lineIndent = 0
        tabInIndent = nil
        while !atEnd {
            var p = pos
            while byte(p) == Byte.space { p += 1 }
            var q = p
            while isBlank(byte(q)) { q += 1 }
            if q >= b.count { pos = q; break }
            if b[q] == Byte.newline {
                pos = q
                consumeNewline()
                continue
            }
            if b[q] == Byte.hash {
                pos = q
                skipToLineEnd()
                if !atEnd { consumeNewline() }
                continue
            }
            lineIndent = p - pos
            if q != p { tabInIndent = Mark(pos: p, line: line, lineStart: lineStart) }
            pos = q
            break
        }
        contentStop = pos
    }

    // MARK: - Document

    private mutating func document() throws(Failure) -> JSONValue {
        var sawDirective = false
        var sawVersion = false
        while true {
            try nextContentLine()
            guard !atEnd, pos == lineStart, b[pos] == Byte.percent else { break }
            try directive(&sawVersion)
            sawDirective = true
        }
        var value = JSONValue.null
        if atEnd || !atDocumentMarker || b[pos] != Byte.dash {
            if sawDirective { throw failure("a directive must be followed by '---'") }
            if !atEnd && !atDocumentMarker {
                value = try blockNode(parent: -1, depth: 1, outer: Properties(mark: mark(), nodesAtStart: nodes))
            }
        } else {
            pos += 3
            value = try blockValue(parent: -1, depth: 1, inline: false, compact: false)
        }
        try nextContentLine()
        if atDocumentMarker && b[pos] == Byte.dot {
            pos += 3
            try nextContentLine()
        }
        if atEnd { return value }
        if atDocumentMarker || (pos == lineStart && b[pos] == Byte.percent) {
            throw failure("a second document; the file must hold one OpenAPI document")
        }
        throw failure("unexpected \(describe(b[pos])) after the document's top-level node")
    }

    private mutating func directive(_ sawVersion: inout Bool) throws(Failure) {
        let start = mark()
        pos += 1
        let nameStart = pos
        while !isBlankOrEnd(byte(pos)) { pos += 1 }
        let name = String(decoding: b[nameStart..<pos], as: UTF8.self)
        if name == "TAG" { throw failure("%TAG directives are not supported", at: start) }
        guard name == "YAML" else {
            // Reserved directives are to be ignored, says the specification.
            skipToLineEnd()
            return
        }
        if sawVersion { throw failure("a second %YAML directive", at: start) }
        sawVersion = true
        skipBlanks()
        let versionStart = pos
        while !isBlankOrEnd(byte(pos)) { pos += 1 }
        let version = b[versionStart..<pos]
        guard version.starts(with: Array("1.".utf8)), version.count > 2,
            version.dropFirst(2).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else {
            throw failure("YAML version \(String(decoding: version, as: UTF8.self)) is not supported; 1.x is", at: start)
        }
        skipBlanks()
        guard atLineEnd else { throw failure("unexpected text after the %YAML directive's version") }
        skipToLineEnd()
    }
}
