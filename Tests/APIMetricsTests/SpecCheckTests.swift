@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// A pet store spec (OpenAPI 3.0, JSON) the tests check calls against.
let petSpec = #"""
    {
      "openapi": "3.0.3",
      "info": {"title": "Pets", "version": "1"},
      "servers": [{"url": "https://api.example.com/v1"}],
      "paths": {
        "/pets": {
          "get": {
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}
          },
          "post": {
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
            "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                          "4XX": {"$ref": "#/components/responses/Problem"}}
          }
        },
        "/pets/{petId}": {
          "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
          "get": {
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                          "404": {"$ref": "#/components/responses/Problem"}}
          },
          "delete": {"responses": {"204": {"description": "gone"}}}
        },
        "/pets/mine": {
          "get": {"parameters": [{"name": "X-Owner", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}],
                  "responses": {"200": {"description": "ok"}}}
        }
      },
      "components": {
        "schemas": {
          "Pet": {"type": "object", "required": ["id", "name"], "additionalProperties": false,
                  "properties": {"id": {"type": "integer", "format": "int64", "readOnly": true},
                                 "name": {"type": "string", "minLength": 1}, "tag": {"type": "string", "nullable": true},
                                 "status": {"type": "string", "enum": ["available", "sold"]}}},
          "Problem": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
        },
        "responses": {"Problem": {"description": "a problem", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}
      }
    }
    """#

/// A call to check: an optional JSON body each way, any response media type.
func specCall(
    _ method: String, _ target: String, route: String?, status: Int = 200, request: String? = nil, response: String? = nil,
    responseType: String = "application/json", headers: [(String, String)] = [], id: UInt64 = 1
) -> ExchangeRecord {
    var record = discoveryCall(
        method, target, route: route ?? "", status: status, requestJSON: request, responseJSON: response, headers: headers, id: id
    )
    record.request.route = route
    if response != nil { record.response?.headers = ["content-type": responseType] }
    return record
}

func loadedSpec(_ text: String = petSpec) throws -> OpenAPISpec {
    try OpenAPISpec.load(Array(text.utf8))
}

@Suite("Spec check: shadow validation against a team's spec")
struct SpecCheckTests {
    let pet = #"{"id": 1, "name": "Rex", "tag": null, "status": "sold"}"#

    @Test func conformingTrafficIsReportedAsConformingWithNothingFound() throws {
        let conformance = SpecConformance(spec: try loadedSpec(), source: "pets.json")
        let calls = [
            specCall("GET", "/pets?limit=10", route: "/pets", response: "[\(pet), {\"id\": 2, \"name\": \"Tom\"}]"),
            specCall("GET", "/pets", route: "/pets", response: "[]"),
            specCall("POST", "/pets", route: "/pets", status: 201, request: #"{"name": "Rex", "tag": "dog"}"#, response: pet),
            // `id` is readOnly: not required of the request, and the 4XX class and `$ref`ed response hold.
            specCall(
                "POST", "/pets", route: "/pets", status: 409, request: #"{"name": "Rex"}"#, response: #"{"error": "taken"}"#),
            specCall("GET", "/pets/7", route: "/pets/:petId", response: pet),
            specCall("GET", "/pets/8", route: nil, status: 404, response: #"{"error": "none"}"#),
            // Through the servers' base path, without a route: the path is matched.
            specCall("GET", "/v1/pets/9", route: nil, response: pet),
            specCall("DELETE", "/pets/9", route: "/pets/{petId}", status: 204),
            // A literal path beats a template: /pets/mine is not /pets/{petId} (whose id would be "mine").
            specCall("GET", "/pets/mine", route: "/pets/mine", headers: [("X-Owner", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")]),
        ]
        for call in calls { conformance.check(call) }
        let result = conformance.snapshot()
        #expect(result.findings.map { "\($0.key.rule) \($0.key.location)" } == [])
        #expect(result.totals.checked == calls.count)
        #expect(result.totals.conforming == calls.count)
        #expect(result.called.count == 5)
    }

    @Test func eachDeliberateMismatchIsReportedOnceWithItsRulePlaceAndExample() throws {
        let conformance = SpecConformance(spec: try loadedSpec(), source: "pets.json")
        let mismatches: [(String, ExchangeRecord)] = [
            ("maximum query limit", specCall("GET", "/pets?limit=500", route: "/pets", response: "[]")),
            ("type query limit", specCall("GET", "/pets?limit=many", route: "/pets", response: "[]")),
            ("type path petId", specCall("GET", "/pets/rex", route: "/pets/{petId}", response: pet)),
            (
                "type response 200 application/json $.id",
                specCall("GET", "/pets/1", route: "/pets/{petId}", response: #"{"id": "1", "name": "R"}"#)
            ),
            (
                "required response 200 application/json $.name",
                specCall("GET", "/pets/2", route: "/pets/{petId}", response: #"{"id": 2}"#)
            ),
            (
                "enum response 200 application/json $[].status",
                specCall("GET", "/pets", route: "/pets", response: #"[{"id": 3, "name": "R", "status": "lost"}]"#)
            ),
            (
                "additional_properties request application/json $.color",
                specCall("POST", "/pets", route: "/pets", status: 201, request: #"{"name": "R", "color": "red"}"#, response: pet)
            ),
            (
                "min_length request application/json $.name",
                specCall("POST", "/pets", route: "/pets", status: 201, request: #"{"name": ""}"#, response: pet)
            ),
            ("missing_body request", specCall("POST", "/pets", route: "/pets", status: 201, response: pet)),
            (
                "undocumented_status response 500",
                specCall("GET", "/pets/4", route: "/pets/{petId}", status: 500, response: #"{"error": "x"}"#)
            ),
            (
                "undocumented_media_type response 200 text/html",
                specCall("GET", "/pets/5", route: "/pets/{petId}", response: "<p>Rex</p>", responseType: "text/html")
            ),
            (
                "invalid_json response 200 application/json",
                specCall("GET", "/pets/6", route: "/pets/{petId}", response: "{\"id\": 6,")
            ),
            (
                "undocumented_body response 204",
                specCall("DELETE", "/pets/7", route: "/pets/{petId}", status: 204, response: "{}")
            ),
            ("missing_parameter header x-owner", specCall("GET", "/pets/mine", route: "/pets/mine")),
            ("format header x-owner", specCall("GET", "/pets/mine", route: "/pets/mine", headers: [("X-Owner", "me")])),
            ("undocumented_operation ", specCall("GET", "/admin/reset", route: "/admin/reset")),
        ]
        for (index, (_, call)) in mismatches.enumerated() {
            var call = call
            call.id = EventID(high: 100 + UInt64(index), low: 1)
            conformance.check(call)
        }
        // A path no operation has and no route: counted, not a finding (the path is the client's).
        conformance.check(specCall("GET", "/wp-login.php", route: nil))
        let result = conformance.snapshot()
        let found = result.findings.map { "\($0.key.rule) \($0.key.location)" }
        #expect(found.sorted() == mismatches.map(\.0).sorted())
        for (index, (expected, _)) in mismatches.enumerated() {
            let finding = result.findings.first { "\($0.key.rule) \($0.key.location)" == expected }
            #expect(finding?.finding.count == 1, "\(expected)")
            #expect(finding?.finding.example == EventID(high: 100 + UInt64(index), low: 1), "\(expected)")
        }
        #expect(result.findings.first { $0.key.rule == "undocumented_operation" }?.key.path == "/admin/reset")
        #expect(result.findings.first { $0.key.rule == "type" && $0.key.location.hasSuffix("$.id") }?.key.path == "/pets/{petId}")
        #expect(result.totals.violating == mismatches.count)
        #expect(result.totals.unmatched == 1)
        // Counted again, not listed again.
        conformance.check(specCall("GET", "/pets?limit=501", route: "/pets", response: "[]"))
        #expect(conformance.snapshot().findings.first { $0.key.rule == "maximum" }?.finding.count == 2)
    }

    @Test func whatServersDoForTheAPIIsNotHeldAgainstIt() throws {
        let text = #"""
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/items": {"get": {
              "parameters": [{"name": "filter", "in": "query", "required": true, "style": "deepObject", "schema": {"type": "object"}},
                             {"name": "Authorization", "in": "header", "required": true, "schema": {"type": "integer"}}],
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}}}}}}
            """#
        let conformance = SpecConformance(spec: try loadedSpec(text), source: "t.json")
        // A HEAD answered for the GET route, the deepObject's members, Authorization described (ignored, as OpenAPI says).
        conformance.check(specCall("HEAD", "/items?filter[name]=a", route: "/items"))
        conformance.check(
            specCall(
                "GET", "/items?filter[name]=a&filter[size]=2", route: "/items", response: "[]",
                headers: [("Authorization", "Bearer x")]))
        // A CORS preflight, and a method a client made up: counted, not findings (the method is the client's).
        conformance.check(specCall("OPTIONS", "/items", route: "/items", status: 204))
        conformance.check(specCall("X-SECRET-\(UInt64.random(in: 1 ... .max))", "/items", route: "/items"))
        let result = conformance.snapshot()
        #expect(result.findings.isEmpty, "\(result.findings.map(\.key))")
        #expect(result.totals.conforming == 2)
        #expect(result.totals.unmatched == 2)
        conformance.check(specCall("GET", "/items", route: "/items", response: "[]"))
        #expect(conformance.snapshot().findings.map { "\($0.key.rule) \($0.key.location)" } == ["missing_parameter query filter"])
    }

    @Test func noValueSentReachesAFindingOnlyNamesAndRules() throws {
        let conformance = SpecConformance(spec: try loadedSpec(), source: "pets.json")
        let secrets = (0..<6).map { "Zq\($0)x\(UInt64.random(in: 1 ... .max))" }
        conformance.check(
            specCall(
                "POST", "/pets?\(secrets[0])=1", route: "/pets", status: 201,
                request:
                    #"{"name": 7, "\#(secrets[1])": "\#(secrets[2])", "tag": ["\#(secrets[3])"], "status": "\#(secrets[4])"}"#,
                response: #"{"id": "\#(secrets[5])"}"#))
        let report = SpecReport(
            spec: conformance.spec, source: "pets.json", learnt: [], called: [], totals: nil,
            findings: conformance.snapshot().findings)
        let text = String(decoding: report.json(), as: UTF8.self) + report.text()
        #expect(!conformance.snapshot().findings.isEmpty)
        for secret in secrets { #expect(!text.contains(secret)) }
        // The undeclared member whose name reads as data is written `*`.
        #expect(
            conformance.snapshot().findings.contains {
                $0.key.rule == "additional_properties" && $0.key.location.hasSuffix("$.*")
            })
    }

    @Test func theLearntAPIIsComparedWithTheSpec() throws {
        let spec = try loadedSpec()
        let discovery = APIDiscovery(options: DiscoveryOptions(), identification: nil)
        for id in 1...3 {
            discovery.observe(
                specCall(
                    "GET", "/pets?limit=2&sort=name", route: "/pets", response: #"[{"id": 1, "name": "R", "age": 3}]"#,
                    id: UInt64(id)))
            discovery.observe(
                specCall(
                    "GET", "/pets/\(id)", route: "/pets/{petId}", status: 500, response: #"{"error": "x"}"#, id: UInt64(id + 10)))
            discovery.observe(specCall("GET", "/admin", route: "/admin", response: "{}", id: UInt64(id + 20)))
        }
        let differences = SpecDiff.compare(spec, learnt: discovery.snapshot().operations).map {
            "\($0.kind.rawValue) \($0.method) \($0.path) \($0.location)"
        }
        #expect(
            differences == [
                "undocumented_operation GET /admin ",
                "undocumented_field GET /pets response 200 application/json $[].age",
                "undocumented_parameter GET /pets query sort",
                "never_called POST /pets ",
                "never_called GET /pets/mine ",
                "never_called DELETE /pets/{petId} ",
                "undocumented_status GET /pets/{petId} response 500",
            ])
    }

    @Test func theSpecIsReadWithItsRulesAndBadDocumentsAreRefusedWithAReason() throws {
        let spec = try loadedSpec()
        #expect(spec.operations.count == 5)
        #expect(spec.basePaths == ["/v1"])
        #expect(spec.digest.count == 16)
        func refused(_ text: String) -> String {
            do {
                _ = try OpenAPISpec.load(Array(text.utf8))
                return "read"
            } catch {
                return error.reason
            }
        }
        #expect(refused(#"{"swagger": "2.0"}"#).contains("Swagger 2.0"))
        #expect(refused(#"{"openapi": "4.0.0"}"#).contains("3.0 and 3.1"))
        #expect(refused(#"{"openapi": "3.1.0", "paths": "#).contains("not valid JSON at byte"))
        #expect(refused("[1]").contains("not an object") || refused("[1]").contains("YAML"))
        #expect(
            refused(String(repeating: "[", count: 200)).contains("deeper")
                || refused(String(repeating: "[", count: 200)).contains("YAML"))
        #expect(refused("{" + String(repeating: "[", count: 200)).contains("JSON"))
        let big = [UInt8](repeating: 0x20, count: OpenAPISpec.maxBytes + 1)
        #expect(throws: OpenAPISpec.LoadError.self) { try OpenAPISpec.load(big) }
    }

    @Test func openAPI31KeywordsAndHostileSchemasAreBoundedAndRight() throws {
        let text = #"""
            {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/n": {"post": {
              "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
              "responses": {"default": {"description": "any"}}}}},
             "components": {"schemas": {
               "Node": {"type": ["object", "null"], "properties": {"next": {"$ref": "#/components/schemas/Node"},
                        "kind": {"const": "node"}, "weight": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5}}},
               "Loop": {"$ref": "#/components/schemas/Loop"},
               "Wide": {"anyOf": [{"oneOf": [{"$ref": "#/components/schemas/Wide"}, {"type": "string"}]}, {"not": {"$ref": "#/components/schemas/Wide"}}]}}}}
            """#
        let spec = try loadedSpec(text)
        let conformance = SpecConformance(spec: spec, source: "n.json")
        // A chain 40 deep, each link checked through the recursive reference.
        var chain = "null"
        for _ in 0..<40 { chain = #"{"kind": "node", "weight": 1.5, "next": \#(chain)}"# }
        conformance.check(specCall("POST", "/n", route: "/n", status: 200, request: chain))
        conformance.check(
            specCall("POST", "/n", route: "/n", status: 200, request: #"{"kind": "leaf", "weight": 0, "next": {"weight": 0.7}}"#))
        let found = Set(conformance.snapshot().findings.map { "\($0.key.rule) \($0.key.location)" })
        #expect(
            found == [
                "const request application/json $.kind", "exclusive_minimum request application/json $.weight",
                "multiple_of request application/json $.next.weight",
            ])
        // A reference to itself and a self-referencing union end within the budget.
        for name in ["Loop", "Wide"] {
            let index = try #require(spec.schemas.indices.first { _ in true })
            _ = index
            var compiler = SpecSchemaCompiler(root: try JSONParser.parse(Array(text.utf8), maxDepth: 128))
            let root = compiler.compile(.object([.init("$ref", .string("#/components/schemas/\(name)"))]))
            var validator = SpecValidator(schemas: compiler.schemas, isRequest: false)
            validator.check(
                try JSONParser.parse(Array(String(repeating: "[", count: 60).appending(String(repeating: "]", count: 60)).utf8)),
                schema: root, location: "$")
            #expect(validator.violations.count <= SpecValidator.maxViolations)
        }
    }
}

@Suite("Spec check: the store, the view and the command")
struct SpecCheckStoreTests {
    @Test func findingsSurviveInTheStoreAndTheCommandPrintsThemWithTheDifferences() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let specPath = directory.file("pets.json")
        try Data(petSpec.utf8).write(to: URL(fileURLWithPath: specPath))
        let path = directory.file("apimetrics.sqlite")
        var config = storeConfiguration(path)
        config.identifyConsumer = nil
        config.discovery.specPath = specPath
        let metrics = try APIMetricsService(configuration: config)
        let background = Task { try await metrics.run() }
        for n in 0..<4 {
            let exchange = metrics.recorder.begin(
                RequestHead(method: "GET", target: "/pets/\(n)", headers: ["Host": "127.0.0.1"], route: "/pets/:petId"))
            exchange.recordResponseHead(ResponseHead(status: 200, headers: ["content-type": "application/json"]))
            // The second half send `id` as a string.
            exchange.recordResponseBody(Array((n < 2 ? #"{"id": \#(n), "name": "R"}"# : #"{"id": "\#(n)", "name": "R"}"#).utf8))
            exchange.finish()
        }
        // The view serves the comparison while running, and Prometheus counts it.
        #expect(await eventually { (metrics.view.specReport()?.totals?.checked ?? 0) == 4 })
        let live = try #require(jsonObject(metrics.view.specReport()?.json() ?? []))
        let liveFindings = try #require(live["findings"] as? [[String: Any]])
        #expect(liveFindings.map { $0["rule"] as? String } == ["type"])
        #expect(liveFindings.first?["count"] as? Int == 2)
        let exposition = PrometheusExposition.render(
            MetricsSnapshot(
                identity: ServiceIdentity(service: "t", environment: "t"),
                totals: Aggregator(options: .init(maxSeries: 10, maxConsumers: 10)).totals(),
                statistics: PipelineCounters().statistics(queued: 0, spool: nil), nowNanoseconds: 0),
            includingConsumers: false, spec: metrics.view.specReport())
        #expect(exposition.contains(#"apimetrics_spec_violations_total{method="GET",route="/pets/{petId}",rule="type"} 2"#))
        #expect(exposition.contains(#"apimetrics_spec_calls_total{result="violating"} 2"#))
        #expect(exposition.contains(#"apimetrics_spec_differences{kind="never_called"} 4"#))
        _ = await metrics.shutdown(timeout: .seconds(10))
        background.cancel()

        let report = try DiscoveredAPI.specReport(spec: specPath, stores: [try StoreReader(path: path)])
        #expect(
            report.findings.map { "\($0.key.method) \($0.key.path) \($0.key.rule) \($0.key.location) \($0.finding.count)" }
                == ["GET /pets/{petId} type response 200 application/json $.id 2"])
        #expect(report.differences.map(\.kind).contains(.neverCalled))
        #expect(!report.agrees)
        let text = report.text()
        #expect(text.contains("In the spec, never called (4):"))
        #expect(text.contains("GET /pets/{petId}  type  response 200 application/json $.id  ×2"))
        // Another version of the spec: the stored findings are not its own.
        try Data(petSpec.replacingOccurrences(of: "\"Pets\"", with: "\"Pets 2\"").utf8).write(to: URL(fileURLWithPath: specPath))
        let other = try DiscoveredAPI.specReport(spec: specPath, stores: [try StoreReader(path: path)])
        #expect(other.findings.isEmpty)
        #expect(other.otherFindings == 1)
    }

    @Test func aSpecThatCannotBeReadStopsStartWithTheFieldAndTheReason() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var config = storeConfiguration(directory.file("s.sqlite"))
        config.discovery.specPath = directory.file("missing.yaml")
        #expect { try APIMetricsService(configuration: config) } throws: { error in
            let error = error as? ConfigurationError
            return error?.field == "discovery.specPath" && error?.reason.contains("cannot open it") == true
        }
        config.discovery.specPath = directory.path
        #expect { try APIMetricsService(configuration: config) } throws: { error in
            (error as? ConfigurationError)?.reason.contains("not a regular file") == true
        }
        config.discovery.isEnabled = false
        #expect(throws: ConfigurationError.self) { try config.validate() }
    }
}
