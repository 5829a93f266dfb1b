import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("JSONPath")
struct JSONPathTests {
    private let document = #"""
        {"a":{"b":1,"c":{"b":2}},"items":[{"id":1,"card":"4111"},{"id":2,"card":"5500"},{"other":3}],
         "list":[10,20,30],"key with space":"x","it's":"q","d":{"e":{"key":"deep"},"key":"mid"},"key":"top"}
        """#

    private func apply(_ path: String) throws -> Any {
        let redacted = try JSONPath(path).redact(JSONParser.parse(Array(document.utf8)), with: .string("R"))
        return try JSONSerialization.jsonObject(with: Data(redacted.serialized))
    }

    private func value(_ object: Any, _ keys: Any...) -> Any? {
        var current: Any? = object
        for key in keys {
            if let name = key as? String {
                current = (current as? [String: Any])?[name]
            } else if let index = key as? Int {
                current = (current as? [Any]).flatMap { index < $0.count ? $0[index] : nil }
            }
        }
        return current
    }

    @Test func childPaths() throws {
        let result = try apply("$.a.b")
        #expect(value(result, "a", "b") as? String == "R")
        #expect(value(result, "a", "c", "b") as? Int == 2)
    }

    @Test func wildcardOverAnArrayOfObjects() throws {
        let result = try apply("$.items[*].card")
        #expect(value(result, "items", 0, "card") as? String == "R")
        #expect(value(result, "items", 1, "card") as? String == "R")
        #expect(value(result, "items", 0, "id") as? Int == 1)
        #expect(value(result, "items", 2, "other") as? Int == 3)
    }

    @Test func indexesIncludingNegativeAndOutOfRange() throws {
        #expect(value(try apply("$.list[0]"), "list") as? [AnyHashable] == ["R", 20, 30])
        #expect(value(try apply("$.list[-1]"), "list") as? [AnyHashable] == [10, 20, "R"])
        #expect(value(try apply("$.list[7]"), "list") as? [AnyHashable] == [10, 20, 30])
        #expect(value(try apply("$.items[1].card"), "items", 0, "card") as? String == "4111")
    }

    @Test func recursiveDescent() throws {
        let result = try apply("$..key")
        #expect(value(result, "key") as? String == "R")
        #expect(value(result, "d", "key") as? String == "R")
        #expect(value(result, "d", "e", "key") as? String == "R")
        let nested = try apply("$..c.b")
        #expect(value(nested, "a", "c", "b") as? String == "R")
        #expect(value(nested, "a", "b") as? Int == 1)
    }

    @Test func bracketedNames() throws {
        #expect(value(try apply("$['key with space']"), "key with space") as? String == "R")
        #expect(value(try apply(#"$["a"]['b']"#), "a", "b") as? String == "R")
        #expect(value(try apply(#"$['it\'s']"#), "it's") as? String == "R")
        #expect(value(try apply("$.d.*"), "d", "key") as? String == "R")
    }

    @Test func pathsThatMatchNothingChangeNothing() throws {
        for path in ["$.missing", "$.a.b.c", "$.list.x", "$.items[*].nope", "$..nothing", "$.key[0]"] {
            let original = try JSONParser.parse(Array(document.utf8))
            let redacted = try JSONPath(path).redact(original, with: .string("R"))
            #expect(redacted == original, "\(path)")
        }
    }

    @Test(arguments: ["", "a.b", "$.", "$..", "$[", "$[abc]", "$['open", "$.a b", "$.a]", "$.'x'", "$", "$.a[1", "$[\"x']"])
    func invalidPathsAreConfigurationErrorsNamingThePath(path: String) {
        #expect {
            _ = try JSONPath(path, field: "redaction.requestBody.paths[0]")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "redaction.requestBody.paths[0]" && error.reason.contains("\"\(path)\"")
        }
    }

    /// RFC 9535 name selectors (the JSONPath compliance suite's
    /// `name_selector` cases): escapes decoded, blank space in brackets.
    @Test(arguments: [
        (#"$['\u0070assword']"#, "password"), (#"$["\u0070assword"]"#, "password"),
        (#"$["\n"]"#, "\n"), (#"$['\t']"#, "\t"), (#"$["\b\f\r"]"#, "\u{08}\u{0C}\r"),
        (#"$['\/']"#, "/"), (#"$['\\']"#, "\\"), (#"$["\""]"#, "\""), (#"$['\'']"#, "'"),
        (#"$["'"]"#, "'"), (#"$['"']"#, "\""), (#"$['\uD834\uDD1E']"#, "\u{1D11E}"),
        (#"$[ 'a' ]"#, "a"), ("$[\n\"a\"\t]", "a"), (#"$['☺']"#, "☺"), (#"$['']"#, ""),
    ])
    func quotedNamesFollowRFC9535(path: String, name: String) throws {
        let parsed = try JSONPath(path)
        #expect(parsed.segments == [.child(.name(name))], "\(path)")
        // And it matches: the member is redacted.
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(escaping: name)
        writer.string("secret")
        writer.endObject()
        let redacted = parsed.redact(try JSONParser.parse(writer.bytes), with: .string("R"))
        #expect(redacted == .object([JSONValue.Member(name, .string("R"))]), "\(path)")
    }

    @Test(arguments: [
        ("$['\u{01}']", "control character"), (#"$['\a']"#, "unknown escape"), (#"$['\u00']"#, "four hex digits"),
        (#"$['\uDD1E']"#, "lone low surrogate"), (#"$['\uD834']"#, "high surrogate"), (#"$["\'"]"#, "unknown escape"),
        ("$[?@.a]", "filter selectors"), ("$[1:2]", "slices"), ("$['a','b']", "several selectors"),
        ("$[01]", "leading zero"), ("$[-0]", "-0 is not an index"), ("$['a'", "unclosed"), ("$[:]", "slices"),
    ])
    func unsupportedOrInvalidNamesSayWhy(path: String, reason: String) {
        do {
            _ = try JSONPath(path)
            Issue.record("\(path) was accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(path): \(error.reason)")
        }
    }

    @Test func whitespaceAroundIndexesAndWildcards() throws {
        #expect(try JSONPath("$.list[ 1 ]").segments == [.child(.name("list")), .child(.index(1))])
        #expect(try JSONPath("$[ * ]").segments == [.child(.wildcard)])
        #expect(try JSONPath("$..[ 'key' ]").segments == [.descendant(.name("key"))])
    }

    /// RFC 9535 `segments = *(S segment)`: blank space between segments and
    /// after `$`, but not before `$`, after the last segment, or inside
    /// `.name`, `..name` and `.*`.
    @Test func blankSpaceBetweenSegments() throws {
        let expected: [JSONPath.Segment] = [.child(.name("a")), .child(.index(0)), .descendant(.name("b")), .child(.wildcard)]
        for path in ["$.a[0]..b.*", "$ .a [0] ..b .*", "$\t.a\n[0]\r..b\r\n\t .*", "$ \n['a']\t[ 0 ]  ..['b'] [*]"] {
            #expect(try JSONPath(path).segments == expected, "\(path)")
        }
        for (path, reason) in [
            (" $.a", "must start with $"), ("$.a ", "blank space after the last segment"),
            ("$.a\n", "blank space after the last segment"),
            ("$. a", "blank space after ."), ("$.. a", "blank space after .."), ("$.\ta", "blank space after ."),
            ("$ . a", "blank space after ."), ("$. *", "blank space after ."), ("$..\r*", "blank space after .."),
            ("$ ", "blank space after the last segment"), ("$.a\u{B}", "U+000B cannot be part"),
            ("$\u{C}.a", "unexpected U+000C"),
        ] {
            #expect(refusal(path)?.contains(reason) == true, "\(path): \(refusal(path) ?? "accepted")")
        }
    }

    /// RFC 9535 member-name-shorthand: name-first = ALPHA / "_" /
    /// %x80-D7FF / %xE000-10FFFF; name-char adds DIGIT.
    @Test func memberNameShorthandGrammar() throws {
        for name in [
            "a", "_", "_1", "a1b2", "Z", "ü", "☺", "😀", "\u{80}", "\u{D7FF}", "\u{E000}", "\u{10FFFF}", "a\u{80}9", "true",
            "null",
            // Blank to the eye, but only space, tab, LF and CR are blank space to RFC 9535.
            "a\u{A0}", "\u{3000}", "\u{2028}",
        ] {
            #expect(try JSONPath("$.\(name)").segments == [.child(.name(name))], "\(name)")
            #expect(try JSONPath("$..\(name)").segments == [.descendant(.name(name))], "\(name)")
        }
        for (path, reason) in [
            ("$.&", "\"&\" cannot start a name"), ("$.1", "\"1\" cannot start a name"), ("$..1", "\"1\" cannot start a name"),
            ("$.-a", "\"-\" cannot start"), ("$.a-b", "\"-\" cannot be part of a name"), ("$.a$", "\"$\" cannot be part"),
            ("$.a'", "\"'\" cannot be part"), ("$.$", "cannot start"), ("$.'a'", "cannot start"),
            ("$.\u{7F}", "U+007F cannot start"),
            ("$.a\u{0}", "U+0000 cannot be part"), ("$...a", "\".\" cannot start"), ("$.[0]", "\"[\" cannot start"),
            ("$.", "nothing after ."), ("$..", "nothing after .."), ("$.a.", "nothing after ."), ("$.*a", "unexpected \"a\""),
        ] {
            #expect(refusal(path)?.contains(reason) == true, "\(path): \(refusal(path) ?? "accepted")")
        }
    }

    /// RFC 9535 int, within I-JSON's exact range.
    @Test func indicesWithinIJSONRange() throws {
        for (text, value) in [
            ("0", 0), ("7", 7), ("-1", -1), ("9007199254740991", 9_007_199_254_740_991),
            ("-9007199254740991", -9_007_199_254_740_991),
        ] {
            #expect(try JSONPath("$[\(text)]").segments == [.child(.index(value))], "\(text)")
            #expect(try JSONPath("$..[\(text)]").segments == [.descendant(.index(value))], "\(text)")
        }
        for (text, reason) in [
            ("9007199254740992", "out of range"), ("-9007199254740992", "out of range"),
            ("99999999999999999999999999", "out of range"),
            ("01", "leading zero"), ("-01", "leading zero"), ("00", "leading zero"), ("-0", "-0 is not an index"),
            ("+1", "expected an index"), ("- 1", "expected digits after -"), ("-", "expected digits after -"),
            ("1.0", "unexpected \".\""),
            ("1e3", "unexpected \"e\""), ("0x1", "unexpected \"x\""), ("١", "expected an index"),
        ] {
            #expect(refusal("$[\(text)]")?.contains(reason) == true, "\(text): \(refusal("$[\(text)]") ?? "accepted")")
        }
        // The extremes select like any index: -(2^53 - 1) and 2^53 - 1 are far outside any body.
        let list = try JSONParser.parse(Array(#"[1,2]"#.utf8))
        #expect(try JSONPath("$[9007199254740991]").redact(list, with: .string("R")) == list)
        #expect(try JSONPath("$[-9007199254740991]").redact(list, with: .string("R")) == list)
    }

    /// `..[…]` takes every selector a bracket takes.
    @Test func descendantBracketSegments() throws {
        #expect(try JSONPath("$..['a']").segments == [.descendant(.name("a"))])
        #expect(try JSONPath("$..[0]").segments == [.descendant(.index(0))])
        #expect(try JSONPath("$..[-1]").segments == [.descendant(.index(-1))])
        #expect(try JSONPath("$..[*]").segments == [.descendant(.wildcard)])
        #expect(try JSONPath("$..*").segments == [.descendant(.wildcard)])
        let body = try JSONParser.parse(Array(#"{"a":[1,[2,3]],"b":{"c":[4]},"d":[]}"#.utf8))
        let first = try JSONPath("$..[0]").redact(body, with: .string("R"))
        #expect(String(decoding: first.serialized, as: UTF8.self) == #"{"a":["R",["R",3]],"b":{"c":["R"]},"d":[]}"#)
        let last = try JSONPath("$..[-1].x").redact(
            try JSONParser.parse(Array(#"[{"x":1},{"x":2,"y":[{"x":3}]}]"#.utf8)), with: .string("R"))
        #expect(String(decoding: last.serialized, as: UTF8.self) == #"[{"x":1},{"x":"R","y":[{"x":"R"}]}]"#)
        for (path, reason) in [
            ("$..[?@.a]", "filter selectors"), ("$..[0:1]", "slices"), ("$..['a','b']", "several selectors"),
            ("$..[", "unclosed"),
        ] {
            #expect(refusal(path)?.contains(reason) == true, "\(path): \(refusal(path) ?? "accepted")")
        }
    }

    private func refusal(_ path: String) -> String? {
        do {
            _ = try JSONPath(path)
            return nil
        } catch {
            #expect(error.reason.contains("invalid JSONPath \"\(path)\""), "\(error.reason)")
            return error.reason
        }
    }
}

/// The JSONPath Compliance Test Suite's cases (JSONPathComplianceSuite.swift
/// says which and why): what is valid and supported selects exactly the
/// suite's nodes, what is valid but not supported is refused saying so, and
/// every invalid selector is refused.
@Suite("JSONPath compliance suite")
struct JSONPathComplianceTests {
    struct Cases: Decodable {
        var valid: [Valid]
        var unsupported: [Named]
        var invalid: [Invalid]
    }

    struct Valid: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var selector: String
        var document: String
        var selects: [[Step]]
        var testDescription: String { name }
    }

    struct Named: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var selector: String
        var testDescription: String { name }
    }

    struct Invalid: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var selector: String
        var inScope: Bool
        var testDescription: String { name }
    }

    /// One step of a normalized path: a member name or an array index.
    enum Step: Decodable, Sendable {
        case name(String)
        case index(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let index = try? container.decode(Int.self) {
                self = .index(index)
            } else {
                self = .name(try container.decode(String.self))
            }
        }
    }

    static let cases = try! JSONDecoder().decode(Cases.self, from: Data(jsonPathComplianceSuite.utf8))
    static let replacement = JSONValue.string("\u{1}selected")

    @Test func theFixtureIsWhole() {
        #expect(Self.cases.valid.count == 90)
        #expect(Self.cases.unsupported.count == 366)
        #expect(Self.cases.invalid.count == 247)
        #expect(Self.cases.invalid.filter(\.inScope).count == 119)
    }

    /// Redacting with the path must hide exactly the suite's result nodes:
    /// the expected body is the document with each of them replaced.
    @Test(arguments: cases.valid)
    func validSelectorsSelectTheSuitesNodes(_ test: Valid) throws {
        let path = try JSONPath(test.selector)
        let document = try JSONParser.parse(Array(test.document.utf8))
        var expected = document
        // Deepest first, so that a selected node inside a selected node is
        // still there to replace before its ancestor is.
        for steps in test.selects.sorted(by: { $0.count > $1.count }) {
            expected = replacing(steps[...], in: expected)
        }
        #expect(path.redact(document, with: Self.replacement) == expected, "\(test.selector)")
    }

    @Test(arguments: cases.unsupported)
    func validButUnsupportedSelectorsAreRefusedSayingSo(_ test: Named) {
        do {
            _ = try JSONPath(test.selector)
            Issue.record("\(test.selector) was accepted")
        } catch {
            let reason = test.selector == "$" ? "names no member" : "not supported"
            #expect(error.reason.contains(reason), "\(test.selector): \(error.reason)")
        }
    }

    /// In the grammar JSONPath implements, an invalid selector is refused for
    /// what is wrong with it, never as something not supported.
    @Test(arguments: cases.invalid)
    func invalidSelectorsAreRefused(_ test: Invalid) {
        do {
            _ = try JSONPath(test.selector, field: "paths[0]")
            Issue.record("\(test.selector) was accepted")
        } catch {
            #expect(error.field == "paths[0]")
            #expect(error.reason.hasPrefix("invalid JSONPath \"\(test.selector)\": "), "\(error.reason)")
            if test.inScope {
                #expect(!error.reason.contains("not supported"), "\(test.selector): \(error.reason)")
            }
        }
    }

    private func replacing(_ steps: ArraySlice<Step>, in value: JSONValue) -> JSONValue {
        guard let step = steps.first else { return Self.replacement }
        switch (step, value) {
        case (let .name(name), var .object(members)):
            guard let index = members.firstIndex(where: { $0.key == name }) else { break }
            members[index].value = replacing(steps.dropFirst(), in: members[index].value)
            return .object(members)
        case (let .index(index), var .array(elements)) where elements.indices.contains(index):
            elements[index] = replacing(steps.dropFirst(), in: elements[index])
            return .array(elements)
        default:
            break
        }
        Issue.record("the suite's path step \(step) is not in the document")
        return value
    }
}
