/// The subset of JSONPath (RFC 9535) that redaction rules use:
/// `$.a.b`, `$.a[*].b`, `$.a[0]`, `$.a[-1]`, `$..key`, `$['key with space']`,
/// `$["key"]`, `$.*` and `$..*`. Quoted names follow the RFC: escapes
/// (`\n`, `\'`, `\u0070`, surrogate pairs) are decoded, a raw control
/// character or an unknown escape is refused, and blank space is allowed
/// inside brackets. Filters, slices and several selectors in one bracket
/// are not supported, and say so.
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

        /// Blank space, as RFC 9535 allows inside brackets.
        mutating func skipBlank() {
            while index < text.count, [" ", "\t", "\n", "\r"].contains(text[index]) { index += 1 }
        }

        mutating func bracket() throws(ParseError) -> Segment {
            let open = index
            index += 1
            skipBlank()
            guard index < text.count else { throw ParseError(reason: "unclosed [ at position \(open)") }
            let segment: Segment
            switch text[index] {
            case "'", "\"":
                segment = .child(try stringLiteral())
            case "*":
                index += 1
                segment = .wildcard
            case "?":
                throw ParseError(reason: "filter selectors ([?…]) are not supported, at position \(index)")
            default:
                let start = index
                while index < text.count, text[index] == "-" || ("0"..."9").contains(text[index]) { index += 1 }
                var digits = ""
                digits.unicodeScalars.append(contentsOf: text[start..<index])
                // RFC 9535 integers: no leading zero, no -0.
                let magnitude = digits.hasPrefix("-") ? digits.dropFirst() : Substring(digits)
                guard let number = Int(digits), magnitude == "0" ? !digits.hasPrefix("-") : !magnitude.hasPrefix("0") else {
                    throw ParseError(reason: "expected an index, * or a quoted name at position \(start)")
                }
                segment = .index(number)
            }
            try closeBracket(open)
            return segment
        }

        /// The blank space and `]` that end a bracket, or an error naming
        /// what is there instead.
        mutating func closeBracket(_ open: Int) throws(ParseError) {
            skipBlank()
            guard index < text.count else { throw ParseError(reason: "unclosed [ at position \(open)") }
            switch text[index] {
            case "]":
                index += 1
            case ",":
                throw ParseError(reason: "several selectors in one bracket are not supported, at position \(index); write one rule each")
            case ":":
                throw ParseError(reason: "array slices are not supported, at position \(index)")
            default:
                throw ParseError(reason: "unexpected \"\(text[index])\" at position \(index), expected ]")
            }
        }

        /// Reads `['name']` or `["name"]` for `..['name']`.
        mutating func bracketName() throws(ParseError) -> String {
            let open = index
            guard index < text.count, text[index] == "[" else { throw ParseError(reason: "expected [ at position \(index)") }
            index += 1
            skipBlank()
            guard index < text.count, text[index] == "'" || text[index] == "\"" else {
                throw ParseError(reason: "expected a quoted name at position \(index)")
            }
            let name = try stringLiteral()
            try closeBracket(open)
            return name
        }

        /// An RFC 9535 string literal, quotes included: escapes decoded
        /// (`\b \f \n \r \t \/ \\`, the quote, `\uXXXX` with surrogate
        /// pairs); a raw control character or an unknown escape is an error.
        mutating func stringLiteral() throws(ParseError) -> String {
            let quote = text[index]
            let open = index
            index += 1
            var name = String.UnicodeScalarView()
            while true {
                guard index < text.count else { throw ParseError(reason: "unterminated string at position \(open)") }
                let scalar = text[index]
                index += 1
                if scalar == quote { break }
                if scalar.value < 0x20 {
                    throw ParseError(reason: "a raw control character (U+\(String(scalar.value, radix: 16, uppercase: true))) in a name at position \(index - 1); write it as an escape")
                }
                guard scalar == "\\" else {
                    name.append(scalar)
                    continue
                }
                guard index < text.count else { throw ParseError(reason: "unterminated escape at position \(index - 1)") }
                let escape = text[index]
                index += 1
                switch escape {
                case "b": name.append("\u{08}")
                case "f": name.append("\u{0C}")
                case "n": name.append("\n")
                case "r": name.append("\r")
                case "t": name.append("\t")
                case "/": name.append("/")
                case "\\": name.append("\\")
                case "'" where quote == "'", "\"" where quote == "\"":
                    name.append(escape)
                case "u":
                    name.append(try unicodeEscape())
                default:
                    throw ParseError(reason: "unknown escape \\\(escape) at position \(index - 2)")
                }
            }
            return String(name)
        }

        /// The scalar of `\uXXXX` (after the `u`), or of a surrogate pair.
        mutating func unicodeEscape() throws(ParseError) -> Unicode.Scalar {
            let start = index - 2
            let high = try hexQuad()
            if (0xDC00...0xDFFF).contains(high) {
                throw ParseError(reason: "a lone low surrogate \\u\(String(high, radix: 16)) at position \(start)")
            }
            guard (0xD800...0xDBFF).contains(high) else {
                guard let scalar = Unicode.Scalar(high) else { throw ParseError(reason: "invalid escape at position \(start)") }
                return scalar
            }
            guard index + 1 < text.count, text[index] == "\\", text[index + 1] == "u" else {
                throw ParseError(reason: "a high surrogate without its low half at position \(start)")
            }
            index += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low),
                  let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw ParseError(reason: "a high surrogate without its low half at position \(start)")
            }
            return scalar
        }

        mutating func hexQuad() throws(ParseError) -> UInt32 {
            guard index + 4 <= text.count else { throw ParseError(reason: "\\u needs four hex digits at position \(index)") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard text[index].isASCII, let digit = UInt32(String(text[index]), radix: 16) else {
                    throw ParseError(reason: "\\u needs four hex digits at position \(index)")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
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
