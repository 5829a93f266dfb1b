import Foundation
import Testing
@testable import APIMetrics

/// The YAML test suite's cases (YAMLTestSuite.swift says which were kept and why).
@Suite("YAMLReader: yaml-test-suite")
struct YAMLReaderSuiteTests {
    struct Valid: Decodable, Sendable, CustomTestStringConvertible {
        var id: String
        var name: String
        var yaml: String
        var json: String
        var testDescription: String { "\(id) \(name)" }
    }

    struct Invalid: Decodable, Sendable, CustomTestStringConvertible {
        var id: String
        var name: String
        var yaml: String
        var testDescription: String { "\(id) \(name)" }
    }

    struct Cases: Decodable {
        var valid: [Valid]
        var invalid: [Invalid]
    }

    static let cases = try! JSONDecoder().decode(Cases.self, from: Data(yamlTestSuite.utf8))

    @Test func theFixtureIsWhole() {
        #expect(Self.cases.valid.count == 220)
        #expect(Self.cases.invalid.count == 86)
    }

    @Test(arguments: cases.valid)
    func validCasesReadAsTheSuitesJSON(_ test: Valid) throws {
        let expected = try JSONParser.parse(Array(test.json.utf8))
        let value: JSONValue
        do {
            value = try YAMLReader.parse(Array(test.yaml.utf8))
        } catch {
            Issue.record("\(test.id): \(error)")
            return
        }
        #expect(sameJSON(value, expected), "\(test.id): \(String(decoding: value.serialized, as: UTF8.self)) != \(test.json)")
    }

    @Test(arguments: cases.invalid)
    func invalidCasesFail(_ test: Invalid) {
        #expect(throws: YAMLReader.Failure.self, "\(test.id)") { try YAMLReader.parse(Array(test.yaml.utf8)) }
    }
}

/// Equal JSON. Integers must have the same text (both sides write them in
/// decimal without leading zeros, and a double would hide a wrong digit past
/// 2^53); floats are compared by value, as PyYAML writes `1.0e-05` where
/// JSON has `1e-05`.
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)):
        return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && sameJSON($0.value, $1.value) }
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
    case let (.number(x), .number(y)):
        if x == y { return true }
        let isInteger = { (text: String) in text.allSatisfy { $0 == "-" || $0.isASCII && $0.isNumber } }
        guard !isInteger(x) || !isInteger(y), let p = Double(x), let q = Double(y) else { return false }
        return p == q
    default:
        return a == b
    }
}

/// Documents PyYAML wrote in several styles (YAMLCorpus.swift says how they
/// were made): each must read as the JSON PyYAML reads back from it.
@Suite("YAMLReader: PyYAML corpus")
struct YAMLReaderCorpusTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var json: String
        var testDescription: String { name }
    }

    struct Corpus: Decodable {
        var cases: [Case]
    }

    static let cases = try! JSONDecoder().decode(Corpus.self, from: Data(yamlCorpus.utf8)).cases

    @Test func theCorpusIsWhole() {
        #expect(Self.cases.count == 423)
    }

    @Test(arguments: cases)
    func readsAsPyYAMLDoes(_ test: Case) throws {
        let expected = try JSONParser.parse(Array(test.json.utf8))
        let value: JSONValue
        do {
            value = try YAMLReader.parse(Array(test.yaml.utf8))
        } catch {
            Issue.record("\(test.name): \(error)")
            return
        }
        #expect(sameJSON(value, expected), "\(test.name): \(String(decoding: value.serialized, as: UTF8.self)) != \(test.json)")
    }
}
