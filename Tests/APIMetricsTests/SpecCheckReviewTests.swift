@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// Cases an attacker's review of the spec check raised: each a client's
/// input (or a spec) that cost unbounded work, leaked a name it chose, or
/// was reported although it conforms.
@Suite("Spec check: hostile input and conforming oddities")
struct SpecCheckReviewTests {
    func conformance(_ json: String) throws -> SpecConformance {
        SpecConformance(spec: try loadedSpec(json), source: "t.json")
    }

    func places(_ conformance: SpecConformance) -> [String] {
        conformance.snapshot().findings.map { "\($0.key.rule) \($0.key.location)" }.sorted()
    }

    let tagsSpec = #"""
        {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/t": {"post": {
          "requestBody": {"content": {"*/*": {"schema": {"type": "object", "additionalProperties": false, "properties": {
            "tags": {"type": "array", "uniqueItems": true, "items": {"enum": ["a", "b", "c", "d", "e", "f", "g", "h"]}},
            "balances": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}},
          "responses": {"default": {"description": "any"}}}}}}
        """#

    @Test func lookalikeItemsAndLongEnumsCostAtMostTheBudget() throws {
        let checker = try conformance(tagsSpec)
        // Two objects of 4,000 members alike but for the last, under uniqueItems: quadratic to compare unbounded.
        let members = (0..<4_000).map { "\"k\($0)\": 0" }.joined(separator: ", ")
        let body =
            #"{"tags": [{\#(members), "z": 1}, {\#(members), "z": 2}, \#(Array(repeating: "\"q\"", count: 2_000).joined(separator: ", "))]}"#
        checker.check(specCall("POST", "/t", route: "/t", status: 200, request: body))
        let result = checker.snapshot()
        #expect(result.totals.exhausted == 1)
        #expect(result.findings.count <= SpecValidator.maxViolations)
    }

    @Test func namesAClientMakesUpAreNeverListedPastABound() throws {
        let checker = try conformance(tagsSpec)
        for call in 0..<40 {
            let names = (0..<6).map { "\"made\(call)x\($0)\": 1" }.joined(separator: ", ")
            // A map's keys, and media types a client makes up, are never a place either.
            checker.check(
                specCall(
                    "POST", "/t", route: "/t", status: 200,
                    request: #"{\#(names), "balances": {"alice": "x", "sk_live_\#(call)": "y"}}"#,
                    headers: [("Content-Type", "application/made\(call)+json")]))
        }
        let found = places(checker)
        let extra = found.filter { $0.hasPrefix("additional_properties") }
        #expect(extra.count == SpecConformance.maxPlacesPerRule + 1)
        #expect(extra.contains("additional_properties *"))
        #expect(
            checker.snapshot().findings.first { $0.key.location == "*" }?.finding.count == 40 * 6
                - SpecConformance.maxPlacesPerRule)
        #expect(found.contains("type request */* $.balances.*"))
        #expect(!found.contains { $0.contains("alice") || $0.contains("sk_live") || $0.contains("+json") })
    }

    @Test func conformingCallsServersAnswerInTheirOwnWayAreNotReported() throws {
        let checker = try conformance(
            #"""
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "servers": [{"url": "https://api.example.com/v1"}],
             "paths": {
              "/events/{at}": {"get": {"parameters": [{"name": "at", "in": "path", "required": true, "schema": {"type": "string", "format": "date-time"}},
                                                      {"name": "X-Ids", "in": "header", "schema": {"type": "array", "items": {"type": "integer"}}}],
                "responses": {"200": {"description": "ok", "content": {"application/vnd.acme.v20240101+json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}},
              "/near/{lat},{lon}": {"get": {"responses": {"200": {"description": "ok"}}}},
              "/tree": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}},
             "components": {"schemas": {
              "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}], "discriminator": {"propertyName": "kind"}},
              "Cat": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
              "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}}}}}
            """#)
        // The framework's route has the base path; `+` in a path is a plus; a header list has spaces; a vendor's JSON type.
        checker.check(
            specCall(
                "GET", "/v1/events/2024-01-01T00:00:00+01:00", route: "/v1/events/:at", response: #"{"kind": "cat"}"#,
                responseType: "application/vnd.acme.v20240101+json", headers: [("X-Ids", "1, 2,3")]))
        checker.check(specCall("HEAD", "/v1/events/2024-01-01T00:00:00Z", route: "/v1/events/:at"))
        checker.check(specCall("GET", "/events/2024-01-01T00:00:00Z", route: nil, status: 304))
        checker.check(specCall("GET", "/near/52.5,13.4", route: nil))
        // Valid JSON deeper than is parsed: cut short, not "invalid".
        let deep = String(repeating: #"{"a": "#, count: 70) + "1" + String(repeating: "}", count: 70)
        checker.check(specCall("GET", "/tree", route: "/tree", response: deep))
        let result = checker.snapshot()
        #expect(result.findings.isEmpty, "\(result.findings.map(\.key))")
        #expect(result.totals.conforming == 5)
        #expect(result.totals.exhausted == 1)
    }

    @Test func aLongChainOfReferencesLoadsWithoutRecursion() throws {
        let count = 50_000
        var schemas = (0..<count).map {
            ##""S\##($0)": {"type": "object", "properties": {"n": {"$ref": "#/components/schemas/S\##($0 + 1)"}}}"##
        }
        schemas.append(#""S\#(count)": {"type": "integer"}"#)
        let text = #"""
            {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/c": {"post": {
              "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}},
              "responses": {"default": {"description": "any"}}}}}, "components": {"schemas": {\#(schemas.joined(separator: ","))}}}
            """#
        let checker = try conformance(text)
        #expect(checker.spec.schemas.count > count)
        checker.check(specCall("POST", "/c", route: "/c", request: #"{"n": {"n": {"n": "x"}}}"#))
        #expect(places(checker) == ["type request application/json $.n.n.n"])
    }

    @Test func theDiffFollowsAMemberOnceHoweverManyBranchesDeclareIt() throws {
        let branches = (0..<10).map { _ in
            ##"{"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}"##
        }
        let text = #"""
            {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/n": {"get": {
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}}},
             "components": {"schemas": {"Node": {"allOf": [\#(branches.joined(separator: ","))]}}}}
            """#
        let spec = try loadedSpec(text)
        let discovery = APIDiscovery(options: DiscoveryOptions(), identification: nil)
        var body = #"{"extra": 1}"#
        for _ in 0..<7 { body = #"{"child": \#(body)}"# }
        for id in 1...3 { discovery.observe(specCall("GET", "/n", route: "/n", response: body, id: UInt64(id))) }
        let differences = SpecDiff.compare(spec, learnt: discovery.snapshot().operations)
        #expect(
            differences.map(\.location) == ["response 200 application/json $.child.child.child.child.child.child.child.extra"])
    }

    @Test func yamlAnchorsCannotNestPastTheDepthLimit() throws {
        var text = "a0: &a0 [1]\n"
        for level in 1..<80 { text += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        #expect(throws: YAMLReader.Failure.self) { try YAMLReader.parse(Array(text.utf8)) }
        do {
            _ = try YAMLReader.parse(Array(text.utf8))
        } catch {
            #expect(error.reason.contains("nested more than"))
        }
    }
}
