/// The subset of JSONPath (RFC 9535) that redaction rules use:
/// `$.a.b`, `$.a[*].b`, `$.a[0]`, `$.a[-1]`, `$..key`, `$['key with space']`,
/// `$["key"]`, `$.*` and `$..*`.
///
/// A path that does not parse is a ``ConfigurationError`` at startup naming
/// the path; a path that matches nothing in a body changes nothing.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case child(String)
        case index(Int)
        case wildcard
        case descendant(String)
        case descendantWildcard
    }

    /// The path as written.
    public let description: String
    let segments: [Segment]

    /// Parses a path.
    ///
    /// - Throws: ``ConfigurationError`` whose field is `field` and whose
    ///   reason names the path and where it went wrong.
    public init(_ text: String, field: String = "jsonPath") throws(ConfigurationError) {
        description = text
        var parser = Parser(text: Array(text.unicodeScalars))
        do {
            segments = try parser.parse()
        } catch {
            throw ConfigurationError(field: field, reason: "invalid JSONPath \"\(text)\": \(error.reason)")
        }
    }

    private struct ParseError: Error {
        var reason: String
    }

    private struct Parser {
        let text: [Unicode.Scalar]
        var index = 0

        mutating func parse() throws(ParseError) -> [Segment] {
            guard text.first == "$" else { throw ParseError(reason: "must start with $") }
            index = 1
            var segments: [Segment] = []
            while index < text.count {
                if text[index] == "." {
                    if index + 1 < text.count, text[index + 1] == "." {
                        index += 2
                        if index < text.count, text[index] == "*" {
                            index += 1
                            segments.append(.descendantWildcard)
                        } else if index < text.count, text[index] == "[" {
                            let name = try bracketName()
                            segments.append(.descendant(name))
                        } else {
                            segments.append(.descendant(try dottedName()))
                        }
                    } else {
                        index += 1
                        if index < text.count, text[index] == "*" {
                            index += 1
                            segments.append(.wildcard)
                        } else {
                            segments.append(.child(try dottedName()))
                        }
                    }
                } else if text[index] == "[" {
                    segments.append(try bracket())
                } else {
                    throw ParseError(reason: "unexpected \"\(text[index])\" at position \(index)")
                }
            }
            guard !segments.isEmpty else { throw ParseError(reason: "names no member ($ alone is the whole body)") }
            return segments
        }

        mutating func dottedName() throws(ParseError) -> String {
            let start = index
            while index < text.count, text[index] != ".", text[index] != "[" {
                let scalar = text[index]
                guard scalar != "]", scalar != "'", scalar != "\"", scalar != " ", scalar != "*" else {
                    throw ParseError(reason: "unexpected \"\(scalar)\" in a name at position \(index)")
                }
                index += 1
            }
            guard index > start else { throw ParseError(reason: "empty name at position \(start)") }
            var name = ""
            name.unicodeScalars.append(contentsOf: text[start..<index])
            return name
        }

        mutating func bracket() throws(ParseError) -> Segment {
            let open = index
            guard index + 1 < text.count else { throw ParseError(reason: "unclosed [ at position \(open)") }
            let next = text[index + 1]
            if next == "'" || next == "\"" {
                return .child(try bracketName())
            }
            index += 1
            let start = index
            while index < text.count, text[index] != "]" { index += 1 }
            guard index < text.count else { throw ParseError(reason: "unclosed [ at position \(open)") }
            var inner = ""
            inner.unicodeScalars.append(contentsOf: text[start..<index])
            index += 1
            if inner == "*" { return .wildcard }
            guard let number = Int(inner) else {
                throw ParseError(reason: "[\(inner)] is neither an index, * nor a quoted name")
            }
            return .index(number)
        }

        /// Reads `['name']` or `["name"]`, with `\\` escapes for the quote.
        mutating func bracketName() throws(ParseError) -> String {
            let open = index
            guard index + 1 < text.count, text[index] == "[" else { throw ParseError(reason: "expected [ at position \(index)") }
            let quote = text[index + 1]
            guard quote == "'" || quote == "\"" else { throw ParseError(reason: "expected a quoted name at position \(index)") }
            index += 2
            var name = ""
            while index < text.count, text[index] != quote {
                if text[index] == "\\", index + 1 < text.count {
                    index += 1
                }
                name.unicodeScalars.append(text[index])
                index += 1
            }
            guard index + 1 < text.count, text[index] == quote, text[index + 1] == "]" else {
                throw ParseError(reason: "unclosed [ at position \(open)")
            }
            index += 2
            return name
        }
    }

    /// Replaces every value the path selects with `replacement`.
    func redact(_ value: JSONValue, with replacement: JSONValue) -> JSONValue {
        apply(segments[...], to: value, replacement: replacement)
    }

    private func apply(_ rest: ArraySlice<Segment>, to value: JSONValue, replacement: JSONValue) -> JSONValue {
        guard let segment = rest.first else { return replacement }
        let tail = rest.dropFirst()
        switch segment {
        case let .child(name):
            guard case var .object(members) = value else { return value }
            for index in members.indices where members[index].key == name {
                members[index].value = apply(tail, to: members[index].value, replacement: replacement)
            }
            return .object(members)
        case let .index(position):
            guard case var .array(elements) = value else { return value }
            let resolved = position < 0 ? elements.count + position : position
            guard elements.indices.contains(resolved) else { return value }
            elements[resolved] = apply(tail, to: elements[resolved], replacement: replacement)
            return .array(elements)
        case .wildcard:
            return mapChildren(of: value) { apply(tail, to: $0, replacement: replacement) }
        case let .descendant(name):
            // Select `name` here, then look for it below every child; what a
            // match put in place is not searched again.
            var result = apply([.child(name)] + tail, to: value, replacement: replacement)
            result = mapChildren(of: result, skippingKey: tail.isEmpty ? name : nil) {
                apply(rest, to: $0, replacement: replacement)
            }
            return result
        case .descendantWildcard:
            let here = mapChildren(of: value) { apply(tail, to: $0, replacement: replacement) }
            return tail.isEmpty ? here : mapChildren(of: here) { apply(rest, to: $0, replacement: replacement) }
        }
    }

    private func mapChildren(of value: JSONValue, skippingKey: String? = nil, _ transform: (JSONValue) -> JSONValue) -> JSONValue {
        switch value {
        case var .object(members):
            for index in members.indices where members[index].key != skippingKey {
                members[index].value = transform(members[index].value)
            }
            return .object(members)
        case let .array(elements):
            return .array(elements.map(transform))
        default:
            return value
        }
    }
}
