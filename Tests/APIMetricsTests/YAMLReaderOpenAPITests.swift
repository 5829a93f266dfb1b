import Testing
@testable import APIMetrics

@Suite("YAMLReader: OpenAPI")
struct YAMLReaderOpenAPITests {
    /// An OpenAPI 3.0 document written the way people write them: response
    /// codes quoted and not, `$ref`s, block-scalar descriptions, comments,
    /// `nullable`, a flow list, an anchor shared by two schemas.
    static let petstore = """
        openapi: 3.0.3
        info:
          title: Petstore   # the name users see
          version: '1.0'
          description: |
            A sample API.

            Pets: **dogs** and cats.
        servers:
          - url: https://petstore.example.com/v1
            description: >-
              Production,
              with TLS.
        paths:
          /pets/{petId}:
            get:
              operationId: showPetById
              tags: [pets, "read-only"]
              parameters:
              - name: petId
                in: path
                required: true
                schema:
                  type: string
              responses:
                200:
                  description: >
                    The pet,
                    as stored.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Pet'
                '404':
                  description: Not found
                default:
                  $ref: "#/components/responses/Error"
        components:
          schemas:
            Pet:
              type: object
              required:
                - id
                - name
              properties:
                id: &id
                  type: integer
                  format: int64
                  minimum: 1
                ownerId: *id
                name:
                  type: string
                  maxLength: 0x40
                tag:
                  type: string
                  nullable: true
                  default: ~
                weight:
                  type: number
                  multipleOf: 0.5
                  example: 1e2
        """

    @Test func aPetstoreDocumentReadsAsItsJSON() throws {
        let expected = try JSONParser.parse(
            Array(
                """
                {"openapi":"3.0.3",
                 "info":{"title":"Petstore","version":"1.0","description":"A sample API.\\n\\nPets: **dogs** and cats.\\n"},
                 "servers":[{"url":"https://petstore.example.com/v1","description":"Production, with TLS."}],
                 "paths":{"/pets/{petId}":{"get":{
                   "operationId":"showPetById","tags":["pets","read-only"],
                   "parameters":[{"name":"petId","in":"path","required":true,"schema":{"type":"string"}}],
                   "responses":{
                     "200":{"description":"The pet, as stored.\\n","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
                     "404":{"description":"Not found"},
                     "default":{"$ref":"#/components/responses/Error"}}}}},
                 "components":{"schemas":{"Pet":{"type":"object","required":["id","name"],"properties":{
                   "id":{"type":"integer","format":"int64","minimum":1},
                   "ownerId":{"type":"integer","format":"int64","minimum":1},
                   "name":{"type":"string","maxLength":64},
                   "tag":{"type":"string","nullable":true,"default":null},
                   "weight":{"type":"number","multipleOf":0.5,"example":1e2}}}}}}
                """.utf8))
        let value = try readYAML(Self.petstore)
        // Exact, numbers' text included: what the loader gets is what it would from JSON.
        #expect(value == expected, "\(String(decoding: value.serialized, as: UTF8.self))")
    }
}
