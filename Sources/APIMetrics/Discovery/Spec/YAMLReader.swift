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
/// - Merge keys (`<<: *base`, or a list of aliases) are honoured: the merged
///   members come where the `<<` key stands; keys written in the mapping win.
/// - Tags: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`
///   (also in their `!<tag:yaml.org,2002:…>` form) and the non-specific `!`
///   are honoured; any other tag fails, naming it.
/// - Keys are strings: a plain key such as `200` is read as the text "200".
///   Complex keys (`? `), keys that are collections or aliases, and duplicate
///   keys fail.
/// - A second document, a `%TAG` directive and tabs in indentation fail.
///
/// Limits: at most ``maxBytes`` bytes, collections nested at most
/// ``maxDepth`` deep; every failure names a line, a column and the reason.
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
        c < 0x80 ? "'\(Character(Unicode.Scalar(c)))'" : "this character"
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
              version.dropFirst(2).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw failure("YAML version \(String(decoding: version, as: UTF8.self)) is not supported; 1.x is", at: start)
        }
        skipBlanks()
        guard atLineEnd else { throw failure("unexpected text after the %YAML directive's version") }
        skipToLineEnd()
    }

    // MARK: - Block structure

    /// Reads a node that follows `key:`, `- `, or `---`, on the same line or
    /// below, more indented than `parent`. `inline`: a block collection may
    /// begin on this line (after `- `). `compact`: a sequence may sit at the
    /// parent's indentation (a mapping's value).
    mutating func blockValue(parent: Int, depth: Int, inline: Bool, compact: Bool) throws(Failure) -> JSONValue {
        skipBlanks()
        let start = mark()
        let props = try properties(flow: false)
        if atLineEnd {
            try nextContentLine()
            return try nodeBelow(parent: parent, depth: depth, compact: compact, props: props)
        }
        if inline && props.isEmpty == false {
            restore(start)
            return try blockNode(parent: parent, depth: depth, outer: Properties(mark: start, nodesAtStart: nodes))
        }
        if inline { return try blockNode(parent: parent, depth: depth, outer: props) }
        return try inlineNode(parent: parent, depth: depth, props: props)
    }

    /// The node on the line `nextContentLine` stopped on, if it is indented
    /// enough to belong to the node being read; else an empty node.
    private mutating func nodeBelow(parent: Int, depth: Int, compact: Bool, props: Properties) throws(Failure) -> JSONValue {
        if !atEnd && !atDocumentMarker {
            if lineIndent > parent { return try blockNode(parent: parent, depth: depth, outer: props, compact: compact) }
            if compact && lineIndent == parent && atSequenceEntry {
                if let tab = tabInIndent { throw tabFailure(tab) }
                return try finish(collection: blockSequence(indent: lineIndent, depth: depth, compact: true), props)
            }
        }
        return try emptyNode(props)
    }

    /// Reads a node whose first character is at the current position, which
    /// is its indentation: a sequence, a mapping (from its first key) or
    /// anything else.
    private mutating func blockNode(parent: Int, depth: Int, outer: Properties, compact: Bool = false) throws(Failure) -> JSONValue {
        let indent = column
        let tab = pos == contentStop ? tabInIndent : nil
        if atSequenceEntry {
            if let tab { throw tabFailure(tab) }
            return try finish(collection: blockSequence(indent: indent, depth: depth, compact: false), outer)
        }
        switch try blockEntry(parent: parent, depth: depth) {
        case let .key(key):
            if let tab { throw tabFailure(tab) }
            return try finish(collection: blockMapping(indent: indent, first: key, depth: depth), outer)
        case let .scalar(scalar, props):
            return try finish(scalar: scalar, outer.combined(with: props, reader: self))
        case let .value(value, props):
            return try finish(collection: value, outer.combined(with: props, reader: self))
        case let .alias(value):
            guard outer.isEmpty else { throw failure("an alias cannot have an anchor or a tag", at: outer.mark) }
            return value
        case let .properties(props):
            let all = try outer.combined(with: props, reader: self)
            try nextContentLine()
            return try nodeBelow(parent: parent, depth: depth, compact: compact, props: all)
        }
    }

    enum Entry {
        case key(Key)
        case scalar(Scalar, Properties)
        case value(JSONValue, Properties)
        case alias(JSONValue)
        case properties(Properties)
    }

    struct Key {
        var text: String
        var isMerge: Bool
        var mark: Mark
    }

    /// Reads what starts a line's node: a mapping key (up to and past its
    /// `:`), or a whole node that is not a block collection.
    private mutating func blockEntry(parent: Int, depth: Int) throws(Failure) -> Entry {
        let props = try properties(flow: false)
        if !props.isEmpty && atLineEnd { return .properties(props) }
        let start = mark()
        let c = byte(pos)
        switch c {
        case Byte.doubleQuote, Byte.singleQuote:
            let scalar = try quoted(parent: parent)
            skipBlanks()
            if atMappingColon(flow: false) {
                guard scalar.line == line else { throw failure("a mapping key must be on one line", at: start) }
                pos += 1
                return .key(try key(scalar, props))
            }
            return .scalar(scalar, props)
        case Byte.openBracket, Byte.openBrace:
            let value = try flowCollection(parent: parent, depth: depth)
            skipBlanks()
            if atMappingColon(flow: false) { throw failure("a flow collection as a mapping key is not supported", at: start) }
            return .value(value, props)
        case Byte.star:
            guard props.isEmpty else { throw failure("an alias cannot have an anchor or a tag", at: props.mark) }
            let value = try alias()
            skipBlanks()
            if atMappingColon(flow: false) { throw failure("an alias as a mapping key is not supported", at: start) }
            return .alias(value)
        case Byte.pipe, Byte.greater:
            return .scalar(try blockScalar(parent: parent), props)
        default:
            if c == Byte.dash && isBlankOrEnd(byte(pos + 1)) {
                throw failure("a sequence entry cannot follow an anchor or tag on its line")
            }
            let (scalar, isKey) = try plain(parent: parent, mode: .keyOrValue)
            if isKey {
                pos += 1
                return .key(try key(scalar, props))
            }
            return .scalar(scalar, props)
        }
    }

    private mutating func key(_ scalar: Scalar, _ props: Properties) throws(Failure) -> Key {
        let text = String(decoding: scalar.bytes, as: UTF8.self)
        if props.tag != nil || props.anchor != nil {
            _ = try finish(scalar: Scalar(bytes: scalar.bytes, style: .quoted, mark: scalar.mark, line: scalar.line), props)
        }
        return Key(text: text, isMerge: scalar.style == .plain && text == "<<" && props.tag == nil, mark: scalar.mark)
    }

    func atMappingColon(flow: Bool) -> Bool {
        byte(pos) == Byte.colon && (isBlankOrEnd(byte(pos + 1)) || (flow && isFlowIndicator(byte(pos + 1))))
    }

    private mutating func blockMapping(indent: Int, first: Key, depth: Int) throws(Failure) -> JSONValue {
        try checkDepth(depth, at: first.mark)
        var builder = MappingBuilder()
        var key = first
        while true {
            let value = try blockValue(parent: indent, depth: depth + 1, inline: false, compact: true)
            try add(key, value, to: &builder)
            try nextContentLine()
            guard try continues(indent, "mapping's keys") else { break }
            if atSequenceEntry { throw failure("a sequence entry '- ' where a mapping key was expected") }
            let lineMark = mark()
            guard case let .key(next) = try blockEntry(parent: indent, depth: depth + 1) else {
                throw failure("expected a mapping key followed by ':'", at: lineMark)
            }
            key = next
        }
        return try finishMapping(builder)
    }

    private mutating func blockSequence(indent: Int, depth: Int, compact: Bool) throws(Failure) -> JSONValue {
        try checkDepth(depth)
        var items: [JSONValue] = []
        while true {
            pos += 1
            items.append(try blockValue(parent: indent, depth: depth + 1, inline: true, compact: false))
            try nextContentLine()
            guard try continues(indent, "sequence's '- ' entries") else { break }
            if !atSequenceEntry {
                if compact { break }
                throw failure("expected a sequence entry '- ' at this indentation")
            }
        }
        try countNode()
        return .array(items)
    }

    /// A node after `key: ` on the same line: no block collection may start here.
    private mutating func inlineNode(parent: Int, depth: Int, props: Properties) throws(Failure) -> JSONValue {
        let start = mark()
        let c = byte(pos)
        switch c {
        case Byte.doubleQuote, Byte.singleQuote:
            let scalar = try quoted(parent: parent)
            try rejectColon(start)
            return try finish(scalar: scalar, props)
        case Byte.openBracket, Byte.openBrace:
            let value = try flowCollection(parent: parent, depth: depth)
            try rejectColon(start)
            return try finish(collection: value, props)
        case Byte.star:
            guard props.isEmpty else { throw failure("an alias cannot have an anchor or a tag", at: props.mark) }
            let value = try alias()
            try rejectColon(start)
            return value
        case Byte.pipe, Byte.greater:
            return try finish(scalar: blockScalar(parent: parent), props)
        default:
            if c == Byte.dash && isBlankOrEnd(byte(pos + 1)) {
                throw failure("a block sequence cannot start on the line of its key; start it on the next line")
            }
            let (scalar, _) = try plain(parent: parent, mode: .value)
            return try finish(scalar: scalar, props)
        }
    }

    private mutating func rejectColon(_ start: Mark) throws(Failure) {
        skipBlanks()
        if atMappingColon(flow: false) {
            throw failure("a mapping key cannot follow another on the same line; start the mapping on the next line", at: start)
        }
    }
}
