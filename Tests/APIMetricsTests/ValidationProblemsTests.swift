@testable import APIMetrics
import APIMetricsTestSupport
import Testing

@Suite("Validation problems")
struct ValidationProblemsTests {
    private func parse(_ json: String) -> [ValidationProblem] {
        ValidationProblems.parse(Array(json.utf8))
    }

    @Test func fastAPIDetailList() {
        let problems = parse(
            """
            {"detail":[{"loc":["body","email"],"msg":"value is not a valid email address","type":"value_error.email"},
                       {"loc":["body","items",0,"sku"],"msg":"field required","type":"value_error.missing"}]}
            """)
        #expect(
            problems == [
                ValidationProblem(field: "body.email", type: "value_error.email", message: "value is not a valid email address"),
                ValidationProblem(field: "body.items[0].sku", type: "value_error.missing", message: "field required"),
            ])
    }

    @Test func errorsListsAndMaps() {
        #expect(
            parse(#"{"errors":[{"field":"name","code":"blank","message":"can't be blank"}]}"#)
                == [ValidationProblem(field: "name", type: "blank", message: "can't be blank")])
        #expect(
            parse(#"{"errors":[{"source":{"pointer":"/data/attributes/age"},"title":"must be positive"}]}"#)
                == [ValidationProblem(field: "/data/attributes/age", type: "invalid", message: "must be positive")])
        #expect(
            parse(#"{"errors":{"email":["is invalid","is taken"]}}"#)
                == [ValidationProblem(field: "email", type: "invalid", message: "is invalid")])
    }

    @Test func rfc9457InvalidParams() {
        #expect(
            parse(
                #"{"type":"https://example.net/validation-error","invalid-params":[{"name":"age","reason":"must be a positive integer"}]}"#
            )
                == [ValidationProblem(field: "age", type: "invalid", message: "must be a positive integer")])
    }

    @Test func otherShapesAndHostileBodiesYieldNothingOrABoundedList() {
        #expect(parse(#"{"detail":"Not found"}"#).isEmpty)
        #expect(parse("[1,2]").isEmpty)
        #expect(parse("not json").isEmpty)
        #expect(parse(#"{"errors":[1,"x",null]}"#).isEmpty)
        let many = "{\"errors\":[" + (0..<500).map { #"{"field":"f\#($0)","type":"t"}"# }.joined(separator: ",") + "]}"
        #expect(parse(many).count == ValidationProblems.maxProblems)
        let long = String(repeating: "é", count: 300)
        let cut = parse(#"{"errors":[{"field":"\#(long)"}]}"#)
        #expect(cut.first.map { $0.field.utf8.count <= ValidationProblems.maxTextBytes + 3 } == true)
        var generator = JSONGenerator()
        for _ in 0..<2_000 {
            _ = ValidationProblems.parse(generator.mutate(Array(#"{"detail":[{"loc":["body","a"],"msg":"m","type":"t"}]}"#.utf8)))
        }
    }
}
