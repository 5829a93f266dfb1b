import Testing
@testable import APIMetrics

/// The spec validator's reading of numbers on their digits: `integer` and
/// `multipleOf`, where a `Double` answers wrongly for large values.
@Suite("SpecNumbers")
struct SpecNumberTests {
    @Test func integersAreToldFromTheDigits() {
        for text in [
            "0", "-0", "1", "1.0", "-1.000", "1e2", "1E+2", "100e-2", "0.5e1", "1e308", "1e400", "12345678901234567890123",
            "1e999999999999", "0e-999999999999", "0.0e-5",
        ] {
            #expect(SpecValidator.isInteger(text), "\(text)")
        }
        for text in [
            "0.5", "-1.5", "1e-1", "10e-2", "12345678901234567.5", "9007199254740993.1", "1e-999999999999",
            "1.00000000000000000001",
        ] {
            #expect(!SpecValidator.isInteger(text), "\(text)")
        }
    }

    /// Generated: every pair of small integers in several notations agrees
    /// with integer remainder, the step scaled by powers of ten too.
    @Test func multiplesAgreeWithIntegerRemainder() {
        for value in 0...200 {
            for step in 1...40 {
                let expected = value % step == 0
                for (valueText, stepText) in [
                    ("\(value)", "\(step)"), ("\(value).0", "\(step)e0"), ("\(value)0e-1", "\(step)00e-2"),
                    ("\(value)e-3", "\(step)e-3"), ("-\(value)e5", "\(step).0e5"),
                ] {
                    #expect(SpecValidator.isMultiple(valueText, of: stepText) == expected, "\(valueText) % \(stepText)")
                }
            }
        }
    }

    /// Hostile: values a `Double` quotient gets wrong, and steps too long to read exactly.
    @Test func largeAndLongNumbers() {
        #expect(SpecValidator.isMultiple("1000000000000001", of: "2") == false)
        #expect(SpecValidator.isMultiple("1e308", of: "0.5") == true)
        #expect(SpecValidator.isMultiple("1e308", of: "0.123456789") == false)
        #expect(SpecValidator.isMultiple("1e999999999", of: "7") == false)
        #expect(SpecValidator.isMultiple("7e999999999", of: "7") == true)
        #expect(SpecValidator.isMultiple("1", of: "0.1234567891") == nil)
        #expect(SpecValidator.isMultiple("1e1234567890", of: "2") == nil)
        #expect(SpecValidator.isMultiple("0.3", of: "0.1") == true)
        #expect(SpecValidator.isMultiple("0.35", of: "0.1") == false)

        let schema: JSONValue = .object([.init("type", .string("integer")), .init("multipleOf", .number("2"))])
        var compiler = SpecSchemaCompiler(root: schema)
        let root = compiler.compile(schema)
        for (text, isValid) in [("1000000000000001", false), ("1000000000000002", true), ("1e400", true), ("2.5", false)] {
            var validator = SpecValidator(schemas: compiler.schemas, isRequest: false)
            validator.check(.number(text), schema: root, location: "$")
            #expect(validator.violations.isEmpty == isValid, "\(text): \(validator.violations)")
        }
    }
}
