/// The subset of JSONPath (RFC 9535) that redaction rules use:
/// `$.a.b`, `$.a[*].b`, `$.a[0]`, `$.a[-1]`, `$..key`, `$..[0]`,
/// `$['key with space']`, `$["key"]`, `$.*` and `$..*`, parsed exactly as
/// the RFC's grammar says:
///
/// - Blank space (space, tab, line feed, carriage return) may stand between
///   segments and inside brackets, never before `$`, after the last segment,
///   or between `.` or `..` and what follows.
/// - A name after `.` or `..` starts with a letter, `_` or a non-ASCII
///   character and goes on with those or digits (`$.&` and `$.1` are not
///   names: write `$['&']`, `$['1']`).
/// - Quoted names decode their escapes (`\n`, `\'`, `\u0070`, surrogate
///   pairs); a raw control character or an unknown escape is refused.
/// - An index is an integer without a leading zero, not `-0`, within
///   I-JSON's exact range, ±(2^53 − 1).
///
/// Filters, slices and several selectors in one bracket are not supported,
/// and say so; `$` alone is refused, since it would name the whole body.
/// A path is at most ``maxLength`` characters (Unicode scalars).
///
/// A path that does not parse is a ``ConfigurationError`` at startup naming
/// the path; a path that matches nothing in a body changes nothing.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// What one segment picks among a node's children.
    enum Selector: Sendable, Hashable {
        case name(String)
        case index(Int)
        case wildcard
    }

    /// A child segment applies its selector to the nodes it is given; a
    /// descendant segment (`..`) to those nodes and every node below them.
    enum Segment: Sendable, Hashable {
        case child(Selector)
        case descendant(Selector)
    }

    /// The longest path accepted, in Unicode scalars: far beyond any rule a
    /// person writes, and it keeps a mistaken or hostile value from costing
    /// more than a glance.
    public static let maxLength = 4096

    /// The largest index magnitude I-JSON numbers hold exactly (RFC 9535 §2.1).
    static let maxIndex = 9_007_199_254_740_991

    /// The path as written.
    public let description: String
    let segments: [Segment]

    /// Parses a path.
    ///
    /// - Throws: ``ConfigurationError`` whose field is `field` and whose
    ///   reason names the path and where it went wrong.
    public init(_ text: String, field: String = "jsonPath") throws(ConfigurationError) {
        description = text
        let scalars = Array(text.unicodeScalars.prefix(Self.maxLength + 1))
        guard scalars.count <= Self.maxLength else {
            // Only the path's start is repeated: the rest is what is too long.
            var head = ""
            head.unicodeScalars.append(contentsOf: scalars.prefix(64))
            throw ConfigurationError(
                field: field, reason: "invalid JSONPath \"\(head)…\": longer than \(Self.maxLength) characters")
        }
        var parser = Parser(text: scalars)
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
            while true {
                let blank = index
                skipBlank()
                guard index < text.count else {
                    guard index == blank else {
                        throw ParseError(reason: "blank space after the last segment, at position \(blank)")
                    }
                    break
                }
                switch text[index] {
                case "." where index + 1 < text.count && text[index + 1] == ".":
                    index += 2
                    if index < text.count, text[index] == "[" {
                        segments.append(.descendant(try bracket()))
                    } else {
                        segments.append(.descendant(try wildcardOrName(after: "..")))
                    }
                case ".":
                    index += 1
                    segments.append(.child(try wildcardOrName(after: ".")))
                case "[":
                    segments.append(.child(try bracket()))
                default:
                    throw ParseError(reason: "unexpected \(Self.shown(text[index])) at position \(index), expected . or [")
                }
            }
            guard !segments.isEmpty else { throw ParseError(reason: "names no member ($ alone is the whole body)") }
            return segments
        }

        /// `*` or a member-name-shorthand, right after `.` or `..`.
        mutating func wildcardOrName(after dots: String) throws(ParseError) -> Selector {
            guard index < text.count else { throw ParseError(reason: "nothing after \(dots) at position \(index)") }
            let first = text[index]
            if first == "*" {
                index += 1
                return .wildcard
            }
            if Self.isBlank(first) {
                throw ParseError(reason: "blank space after \(dots) at position \(index); a name must follow at once")
            }
            guard Self.isNameFirst(first) else {
                throw ParseError(
                    reason:
                        "\(Self.shown(first)) cannot start a name after \(dots), at position \(index); write it quoted, as [\'…\']"
                )
            }
            let start = index
            index += 1
            while index < text.count, Self.isNameFirst(text[index]) || ("0"..."9").contains(text[index]) { index += 1 }
            if index < text.count, !Self.isBlank(text[index]), text[index] != ".", text[index] != "[" {
                throw ParseError(
                    reason:
                        "\(Self.shown(text[index])) cannot be part of a name after \(dots), at position \(index); write the name quoted, as [\'…\']"
                )
            }
            var name = ""
            name.unicodeScalars.append(contentsOf: text[start..<index])
            return .name(name)
        }

        /// RFC 9535 name-first: ALPHA / "_" / %x80-D7FF / %xE000-10FFFF
        /// (a Unicode scalar is never a surrogate).
        static func isNameFirst(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar.value >= 0x80
        }

        /// A scalar for an error message: quoted, or as U+XXXX when it is
        /// not visible, so that a reason stays one printable line.
        static func shown(_ scalar: Unicode.Scalar) -> String {
            guard
                scalar.properties.isWhitespace || scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                    || scalar.properties.generalCategory == .format
            else { return "\"\(scalar)\"" }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }

        /// RFC 9535 B: the only blank space the grammar allows.
        static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
        }

        mutating func skipBlank() {
            while index < text.count, Self.isBlank(text[index]) { index += 1 }
        }

        /// `[` selector `]`, blank space allowed inside.
        mutating func bracket() throws(ParseError) -> Selector {
            let open = index
            index += 1
            skipBlank()
            guard index < text.count else { throw ParseError(reason: "unclosed [ at position \(open)") }
            let selector: Selector
            switch text[index] {
            case "'", "\"":
                selector = .name(try stringLiteral())
            case "*":
                index += 1
                selector = .wildcard
            case "?":
                throw ParseError(reason: "filter selectors ([?…]) are not supported, at position \(index)")
            case ":":
                throw ParseError(reason: "array slices are not supported, at position \(index)")
            case "-", "0"..."9":
                selector = .index(try integer())
            default:
                throw ParseError(reason: "expected an index, * or a quoted name at position \(index)")
            }
            try closeBracket(open)
            return selector
        }

        /// RFC 9535 int: "0" / ["-"] DIGIT1 *DIGIT, within ±(2^53 − 1).
        mutating func integer() throws(ParseError) -> Int {
            let start = index
            let isNegative = text[index] == "-"
            if isNegative { index += 1 }
            let digitsStart = index
            while index < text.count, ("0"..."9").contains(text[index]) { index += 1 }
            let count = index - digitsStart
            guard count > 0 else { throw ParseError(reason: "expected digits after - at position \(start)") }
            guard text[digitsStart] != "0" || (count == 1 && !isNegative) else {
                throw ParseError(
                    reason: count == 1
                        ? "-0 is not an index, at position \(start)" : "an index has no leading zero, at position \(start)")
            }
            var magnitude = 0
            for digit in text[digitsStart..<index] {
                magnitude = magnitude * 10 + Int(digit.value - 0x30)
                guard magnitude <= JSONPath.maxIndex else {
                    throw ParseError(reason: "index out of range at position \(start); indices lie within ±(2^53 − 1)")
                }
            }
            return isNegative ? -magnitude : magnitude
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
                throw ParseError(
                    reason: "several selectors in one bracket are not supported, at position \(index); write one rule each")
            case ":":
                throw ParseError(reason: "array slices are not supported, at position \(index)")
            default:
                throw ParseError(reason: "unexpected \(Self.shown(text[index])) at position \(index), expected ]")
            }
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
                    throw ParseError(
                        reason:
                            "a raw control character (U+\(String(scalar.value, radix: 16, uppercase: true))) in a name at position \(index - 1); write it as an escape"
                    )
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
                let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            else {
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
        guard !segments.isEmpty else { return replacement }
        return redactChildren(of: value, active: [0], replacement: replacement)
    }

    /// Walks the document once, carrying for each node the segments it is a
    /// context of (ascending, no repeats). Evaluating segment by segment
    /// instead would visit a node once per way of reaching it, which for
    /// `$..a..a..a` on a deep body grows exponentially; this costs at most
    /// nodes × segments, and its recursion is as deep as the document, which
    /// the parser bounds. A selected node is replaced whole and not searched.
    private func redactChildren(of value: JSONValue, active: [Int], replacement: JSONValue) -> JSONValue {
        switch value {
        case var .object(members):
            for index in members.indices {
                let key = members[index].key
                let next = advance(active) { $0.picks(name: key) }
                guard !next.isEmpty else { continue }
                members[index].value =
                    next.last == segments.count
                    ? replacement
                    : redactChildren(of: members[index].value, active: next, replacement: replacement)
            }
            return .object(members)
        case var .array(elements):
            let count = elements.count
            for index in elements.indices {
                let next = advance(active) { $0.picks(index: index, count: count) }
                guard !next.isEmpty else { continue }
                elements[index] =
                    next.last == segments.count
                    ? replacement
                    : redactChildren(of: elements[index], active: next, replacement: replacement)
            }
            return .array(elements)
        default:
            return value
        }
    }

    /// The segments a child is a context of, given its parent's: a segment
    /// whose selector picks the child hands it to the next segment, and a
    /// descendant segment also applies to the child itself.
    private func advance(_ active: [Int], picks: (Selector) -> Bool) -> [Int] {
        var next: [Int] = []
        for position in active {
            let selector: Selector
            switch segments[position] {
            case let .child(own):
                selector = own
            case let .descendant(own):
                selector = own
                if next.last != position { next.append(position) }
            }
            if picks(selector), next.last != position + 1 { next.append(position + 1) }
        }
        return next
    }
}

extension JSONPath.Selector {
    func picks(name: String) -> Bool {
        switch self {
        case let .name(own): own == name
        case .index: false
        case .wildcard: true
        }
    }

    func picks(index: Int, count: Int) -> Bool {
        switch self {
        case .name: false
        case let .index(own): (own < 0 ? count + own : own) == index
        case .wildcard: true
        }
    }
}
