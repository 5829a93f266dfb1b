import Testing
@testable import APIMetrics

/// The spec validator (``SpecSchemaCompiler`` and ``SpecValidator``) against
/// the JSON Schema Test Suite's draft 2020-12 cases kept in
/// JSONSchemaSuite.swift (what is kept, and why the rest is not, is in its
/// header).
@Suite("JSONSchemaSuite")
struct JSONSchemaSuiteTests {
    /// One test of the suite, with its group's schema.
    struct Case: Sendable, CustomTestStringConvertible {
        var isFormat: Bool
        var file: String
        var group: String
        var test: String
        var isValid: Bool
        var schema: JSONValue
        var data: JSONValue

        var testDescription: String { "\(file): \(group): \(test)" }

        /// A line of the fixture; `nil` when it is not one (the count test says so).
        init?(line: Substring) {
            guard case let .object(members)? = try? JSONParser.parse(Array(line.utf8)) else { return nil }
            func member(_ name: String) -> JSONValue? { members.first { $0.key == name }?.value }
            guard case let .string(kind)? = member("kind"), case let .string(file)? = member("file"),
                case let .string(group)? = member("group"), case let .string(test)? = member("test"),
                case let .bool(isValid)? = member("valid"), let schema = member("schema"), let data = member("data")
            else { return nil }
            self.isFormat = kind == "format"
            self.file = file
            self.group = group
            self.test = test
            self.isValid = isValid
            self.schema = schema
            self.data = data
        }
    }

    static let lines = jsonSchemaSuite.split(separator: "\n")
    static let cases = lines.compactMap(Case.init(line:))
    static let keywordCases = cases.filter { !$0.isFormat }
    static let formatCases = cases.filter(\.isFormat)

    /// What the validator says of a case: its violations, and what the
    /// compiler could not follow or check (which would make a pass hollow).
    struct Outcome {
        var violations: [SpecValidator.Violation]
        var notes: [String]
        var unchecked: Set<String>
        var isExhausted: Bool
    }

    static func run(_ test: Case) -> Outcome {
        var compiler = SpecSchemaCompiler(root: test.schema)
        let root = compiler.compile(test.schema)
        var validator = SpecValidator(schemas: compiler.schemas, isRequest: false)
        validator.check(test.data, schema: root, location: "$")
        return Outcome(
            violations: validator.violations, notes: compiler.notes, unchecked: compiler.unchecked,
            isExhausted: validator.isExhausted)
    }

    @Test func theFixtureIsWhole() {
        #expect(Self.cases.count == Self.lines.count, "a line of JSONSchemaSuite.swift is not a case")
        #expect(Self.keywordCases.count == 606)
        #expect(Self.formatCases.count == 298)
        #expect(Set(Self.formatCases.map(\.file)).count == 7)
    }

    /// Every kept keyword case: valid exactly when the suite says so, with
    /// every `$ref` followed and nothing left unchecked.
    @Test(arguments: keywordCases)
    func keywordCasesAgreeWithTheSuite(_ test: Case) {
        let outcome = Self.run(test)
        #expect(outcome.violations.isEmpty == test.isValid, "\(test.testDescription): \(outcome.violations)")
        #expect(outcome.notes.isEmpty, "\(test.testDescription): \(outcome.notes)")
        #expect(outcome.unchecked.isEmpty, "\(test.testDescription): \(outcome.unchecked)")
        #expect(!outcome.isExhausted, "\(test.testDescription)")
    }

    /// A string of an asserted format that conforms must never be reported:
    /// shadow validation of conforming traffic reports nothing.
    @Test(arguments: formatCases.filter(\.isValid))
    func validFormatInstancesPass(_ test: Case) {
        let outcome = Self.run(test)
        #expect(outcome.violations.isEmpty, "\(test.testDescription): \(outcome.violations)")
    }

    /// Invalid instances may be missed (the formats are told from shape, and
    /// a missed one is a report not made), but no fewer are caught than when
    /// last measured: the figures below, per file, are a floor (of 19, 58,
    /// 13, 11, 25, 30 and 25; email and uri are not asserted at all).
    @Test func invalidFormatInstancesCaught() {
        let floor: [String: Int] = [
            "optional/format/date-time.json": 16, "optional/format/date.json": 50, "optional/format/uuid.json": 13,
            "optional/format/email.json": 0, "optional/format/uri.json": 0, "optional/format/ipv4.json": 30,
            "optional/format/ipv6.json": 25,
        ]
        var caught: [String: Int] = [:], total: [String: Int] = [:]
        for test in Self.formatCases where !test.isValid {
            total[test.file, default: 0] += 1
            if !Self.run(test).violations.isEmpty { caught[test.file, default: 0] += 1 }
        }
        #expect(Set(total.keys) == Set(floor.keys))
        for (file, minimum) in floor {
            #expect(
                caught[file, default: 0] >= minimum,
                "\(file): \(caught[file, default: 0]) of \(total[file, default: 0]) invalid instances caught")
        }
    }
}
