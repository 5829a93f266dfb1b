import Foundation
import Testing
@testable import APIMetrics

/// Generates random JSON documents, and random bytes that are almost JSON.
struct JSONGenerator {
    var generator = SystemRandomNumberGenerator()
    let keys = ["a", "b", "password", "Token", "id", "items", "card_number", "name", "key with space", "ünï", "e\"q", ""]

    mutating func value(depth: Int = 0) -> JSONValue {
        let choice = Int.random(in: 0..<(depth > 5 ? 4 : 7), using: &generator)
        switch choice {
        case 0: return .string(string())
        case 1: return .number(["0", "-1", "3.25", "1e10", "-0.5E-3", "12345678901234567890"].randomElement(using: &generator) ?? "0")
        case 2: return .bool(Bool.random(using: &generator))
        case 3: return .null
        case 4, 5:
            let count = Int.random(in: 0...4, using: &generator)
            return .object((0..<count).map { _ in JSONValue.Member(keys.randomElement(using: &generator) ?? "a", value(depth: depth + 1)) })
        default:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth: depth + 1) })
        }
    }

    mutating func string() -> String {
        let pool = Array("ab \"\\\n\té😀\u{0}\u{1F}/".unicodeScalars)
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &generator) {
            text.unicodeScalars.append(pool.randomElement(using: &generator) ?? "a")
        }
        return text
    }

    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard !bytes.isEmpty else { return [UInt8.random(in: 0...255, using: &generator)] }
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.remove(at: index)
            default: bytes.insert(Array("{}[],:\"\\".utf8).randomElement(using: &generator) ?? 0, at: index)
            }
        }
        return bytes
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test func roundTripsGeneratedDocumentsAndAgreesWithFoundation() throws {
        var generator = JSONGenerator()
        for _ in 0..<2000 {
            let value = generator.value()
            let bytes = value.serialized
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed == value)
            #expect(parsed.serialized == bytes)
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil)
        }
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"control \u{1} char\"", "[1 2]", "{\"a\":1,}",
        "NaN", "Infinity", "1 2", "\"\\u12\"",
    ])
    func rejectsInvalidDocuments(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func acceptsWhatRFC8259Allows() throws {
        #expect(try JSONParser.parse(Array(" \t\n{ \"a\" : [ 1 , -0.5e+3 , true , null , \"\\u00e9\\ud83d\\ude00\" ] } \r\n".utf8))
            == .object([.init("a", .array([.number("1"), .number("-0.5e+3"), .bool(true), .null, .string("é😀")]))]))
        #expect(try JSONParser.parse(Array("\"\\ud800\"".utf8)) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == .array([]))
        #expect(try JSONParser.parse(Array("{\"a\":1,\"a\":2}".utf8)) == .object([.init("a", .number("1")), .init("a", .number("2"))]))
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: JSONParser.Failure.tooDeep) { try JSONParser.parse(deep) }
        let fine = Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test func invalidUTF8InStringsIsRefused() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }
}

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
}
