extension YAMLReader {
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
    mutating func blockNode(parent: Int, depth: Int, outer: Properties, compact: Bool = false) throws(Failure) -> JSONValue {
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
