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
        #expect(parsed.segments == [.child(name)], "\(path)")
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
        ("$[01]", "expected an index"), ("$[-0]", "expected an index"), ("$['a'", "unclosed"),
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
        #expect(try JSONPath("$.list[ 1 ]").segments == [.child("list"), .index(1)])
        #expect(try JSONPath("$[ * ]").segments == [.wildcard])
        #expect(try JSONPath("$..[ 'key' ]").segments == [.descendant("key")])
    }
}

