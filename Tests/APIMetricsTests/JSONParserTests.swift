import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

/// Generates random JSON documents, and random bytes that are almost JSON.
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
        #expect(
            try JSONParser.parse(Array(" \t\n{ \"a\" : [ 1 , -0.5e+3 , true , null , \"\\u00e9\\ud83d\\ude00\" ] } \r\n".utf8))
                == .object([.init("a", .array([.number("1"), .number("-0.5e+3"), .bool(true), .null, .string("é😀")]))]))
        #expect(try JSONParser.parse(Array("\"\\ud800\"".utf8)) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == .array([]))
        #expect(
            try JSONParser.parse(Array("{\"a\":1,\"a\":2}".utf8))
                == .object([.init("a", .number("1")), .init("a", .number("2"))]))
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
