extension YAMLReader {
    /// A flow node, with its text when it is a scalar that can be a key.
    private struct FlowItem {
        var value: JSONValue
        var key: Scalar?
        var mark: Mark
    }

    /// Reads `[…]` or `{…}`; lines inside must be indented more than `parent`.
    mutating func flowCollection(parent: Int, depth: Int) throws(Failure) -> JSONValue {
        try checkDepth(depth)
        let open = mark()
        let isSequence = b[pos] == Byte.openBracket
        let close = isSequence ? Byte.closeBracket : Byte.closeBrace
        pos += 1
        var items: [JSONValue] = []
        var builder = MappingBuilder()
        while true {
            try skipFlowSpace(parent: parent, open: open)
            if byte(pos) == close { pos += 1; break }
            if byte(pos) == Byte.question && isBlankOrEnd(byte(pos + 1)) {
                throw failure("complex mapping keys ('? ') are not supported")
            }
            if byte(pos) == Byte.comma { throw failure("an empty entry in a flow collection (two commas, or a comma first)") }
            let item = try flowNode(parent: parent, depth: depth + 1, open: open)
            let itemLine = line
            try skipFlowSpace(parent: parent, open: open)
            if byte(pos) == Byte.colon {
                if isSequence && (line != itemLine || item.mark.line != line) {
                    throw failure(
                        "the key of a single-pair mapping in a flow sequence must be on one line with its ':'", at: item.mark)
                }
                guard let key = item.key else {
                    throw failure(
                        "a mapping key must be a scalar; collections and aliases as keys are not supported", at: item.mark)
                }
                pos += 1
                try skipFlowSpace(parent: parent, open: open)
                let value = try flowValue(parent: parent, depth: depth + 1, open: open, close: close)
                if isSequence {
                    try countNode()
                    items.append(.object([JSONValue.Member(String(decoding: key.bytes, as: UTF8.self), value)]))
                } else {
                    try add(flowKey(key), value, to: &builder)
                }
            } else if isSequence {
                items.append(item.value)
            } else {
                guard let key = item.key else {
                    throw failure(
                        "a mapping key must be a scalar; collections and aliases as keys are not supported", at: item.mark)
                }
                try countNode()
                try add(flowKey(key), .null, to: &builder)
            }
            try skipFlowSpace(parent: parent, open: open)
            let c = byte(pos)
            if c == Byte.comma {
                pos += 1
            } else if c == close {
                pos += 1
                break
            } else if atEnd {
                throw failure("this flow \(isSequence ? "sequence" : "mapping") is not closed", at: open)
            } else {
                throw failure(
                    "expected ',' or '\(isSequence ? "]" : "}")' in the flow \(isSequence ? "sequence" : "mapping") opened at line \(open.line)"
                )
            }
        }
        if isSequence {
            try countNode()
            return .array(items)
        }
        return try finishMapping(builder)
    }

    private func flowKey(_ scalar: Scalar) -> Key {
        let text = String(decoding: scalar.bytes, as: UTF8.self)
        return Key(text: text, isMerge: scalar.style == .plain && text == "<<", mark: scalar.mark)
    }

    private mutating func flowValue(parent: Int, depth: Int, open: Mark, close: UInt8) throws(Failure) -> JSONValue {
        let c = byte(pos)
        if c == Byte.comma || c == close {
            try countNode()
            return .null
        }
        return try flowNode(parent: parent, depth: depth, open: open).value
    }

    private mutating func flowNode(parent: Int, depth: Int, open: Mark) throws(Failure) -> FlowItem {
        let props = try properties(flow: true)
        if !props.isEmpty { try skipFlowSpace(parent: parent, open: open) }
        let start = mark()
        let c = byte(pos)
        switch c {
        case Byte.doubleQuote, Byte.singleQuote:
            let scalar = try quoted(parent: parent)
            return FlowItem(value: try finish(scalar: scalar, props), key: scalar, mark: start)
        case Byte.openBracket, Byte.openBrace:
            return FlowItem(
                value: try finish(collection: flowCollection(parent: parent, depth: depth), props), key: nil, mark: start)
        case Byte.star:
            guard props.isEmpty else { throw failure("an alias cannot have an anchor or a tag", at: props.mark) }
            return FlowItem(value: try alias(), key: nil, mark: start)
        case Byte.comma, Byte.closeBracket, Byte.closeBrace:
            guard !props.isEmpty else { throw failure("unexpected \(describe(c))") }
            return FlowItem(value: try emptyNode(props), key: nil, mark: start)
        case Byte.colon where isBlankOrEnd(byte(pos + 1)) || isFlowIndicator(byte(pos + 1)):
            throw failure("a mapping key is missing before ':'")
        default:
            if atEnd { throw failure("this flow collection is not closed", at: open) }
            let (scalar, _) = try plain(parent: parent, mode: .flow)
            return FlowItem(value: try finish(scalar: scalar, props), key: scalar, mark: start)
        }
    }

    /// Skips blanks, line breaks and comments between flow tokens.
    private mutating func skipFlowSpace(parent: Int, open: Mark) throws(Failure) {
        while pos < b.count {
            let c = b[pos]
            if isBlank(c) {
                pos += 1
            } else if c == Byte.hash {
                guard pos == lineStart || isBlank(b[pos - 1]) else { throw failure("a comment needs a space before '#'") }
                skipToLineEnd()
            } else if c == Byte.newline {
                consumeNewline()
                var p = pos
                while byte(p) == Byte.space { p += 1 }
                var q = p
                while isBlank(byte(q)) { q += 1 }
                let next = byte(q)
                if q >= b.count || next == Byte.newline || next == Byte.hash { continue }
                if isMarker(at: pos) {
                    throw failure("a document marker inside the flow collection opened at line \(open.line)")
                }
                // A closing bracket at its key's indentation is common in
                // hand-written files, and PyYAML and others read it.
                let closes = next == Byte.closeBracket || next == Byte.closeBrace
                if p - pos <= parent && !(closes && p - pos == parent) {
                    throw failure(
                        "a flow collection's lines must be indented more than column \(parent + 1)",
                        at: Mark(pos: p, line: line, lineStart: lineStart))
                }
            } else {
                return
            }
        }
    }

    // MARK: - Anchors, aliases, tags

    /// An anchor and a tag, either of which may be absent.
    struct Properties {
        enum Tag { case string, integer, float, boolean, null, mapping, sequence, nonSpecific }

        var anchor: String?
        var tag: Tag?
        var mark: Mark
        var nodesAtStart: Int

        var isEmpty: Bool { anchor == nil && tag == nil }

        func combined(with other: Properties, reader: YAMLReader) throws(Failure) -> Properties {
            if isEmpty { return other }
            if other.isEmpty { return self }
            if anchor != nil && other.anchor != nil { throw reader.failure("a node has two anchors", at: other.mark) }
            if tag != nil && other.tag != nil { throw reader.failure("a node has two tags", at: other.mark) }
            return Properties(anchor: anchor ?? other.anchor, tag: tag ?? other.tag, mark: mark, nodesAtStart: nodesAtStart)
        }
    }

    mutating func properties(flow: Bool) throws(Failure) -> Properties {
        var props = Properties(mark: mark(), nodesAtStart: nodes)
        while true {
            let c = byte(pos)
            if c == Byte.ampersand {
                if props.anchor != nil { throw failure("a node has two anchors") }
                pos += 1
                props.anchor = try name(of: "an anchor")
            } else if c == Byte.bang {
                if props.tag != nil { throw failure("a node has two tags") }
                props.tag = try tag()
            } else {
                return props
            }
            let n = byte(pos)
            guard isBlankOrEnd(n) || (flow && isFlowIndicator(n)) else {
                throw failure("unexpected \(describe(n)) after an anchor or tag")
            }
            skipBlanks()
        }
    }

    private mutating func name(of what: String) throws(Failure) -> String {
        let start = pos
        while !isBlankOrEnd(byte(pos)) && !isFlowIndicator(byte(pos)) { pos += 1 }
        guard pos > start else { throw failure("\(what) needs a name") }
        return String(decoding: b[start..<pos], as: UTF8.self)
    }

    private mutating func tag() throws(Failure) -> Properties.Tag {
        let start = mark()
        pos += 1
        let name: String
        if byte(pos) == Byte.less {
            let begin = pos + 1
            while !isBlankOrEnd(byte(pos)) && byte(pos) != Byte.greater { pos += 1 }
            guard byte(pos) == Byte.greater else { throw failure("a verbatim tag '!<…>' is not closed", at: start) }
            let uri = String(decoding: b[begin..<pos], as: UTF8.self)
            pos += 1
            let prefix = "tag:yaml.org,2002:"
            name = uri.hasPrefix(prefix) ? "!!" + uri.dropFirst(prefix.count) : "!<\(uri)>"
        } else {
            let begin = pos
            while !isBlankOrEnd(byte(pos)) && !isFlowIndicator(byte(pos)) { pos += 1 }
            name = "!" + String(decoding: b[begin..<pos], as: UTF8.self)
        }
        switch name {
        case "!": return .nonSpecific
        case "!!str": return .string
        case "!!int": return .integer
        case "!!float": return .float
        case "!!bool": return .boolean
        case "!!null": return .null
        case "!!map": return .mapping
        case "!!seq": return .sequence
        default:
            throw failure(
                "the tag \(name) is not supported; only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are read",
                at: start)
        }
    }

    mutating func alias() throws(Failure) -> JSONValue {
        let start = mark()
        pos += 1
        let label = try name(of: "an alias")
        guard let anchored = anchors[label] else {
            throw failure("the alias *\(label) names no anchor defined before it", at: start)
        }
        aliasCount += 1
        if aliasCount > Self.maxAliases {
            throw failure("more than \(Self.maxAliases) aliases", at: start)
        }
        expandedNodes += anchored.size
        if expandedNodes > Self.maxExpandedNodes {
            throw failure("aliases expand the document by more than \(Self.maxExpandedNodes) nodes", at: start)
        }
        nodes += anchored.size
        return anchored.value
    }
}
