@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// A call to learn from: JSON bodies both ways, a query and headers.
func discoveryCall(
    _ method: String = "GET", _ target: String, route: String, status: Int = 200, requestJSON: String? = nil,
    responseJSON: String? = nil, headers: [(String, String)] = [], id: UInt64 = 1
) -> ExchangeRecord {
    var requestHeaders = HeaderFields()
    requestHeaders.append(name: "Host", value: "api.example.com")
    for (name, value) in headers { requestHeaders.append(name: name, value: value) }
    if requestJSON != nil { requestHeaders.append(name: "Content-Type", value: "application/json") }
    let requestBody = requestJSON.map { CapturedBody(bytes: Array($0.utf8), size: $0.utf8.count) } ?? .empty
    let responseBody = responseJSON.map { CapturedBody(bytes: Array($0.utf8), size: $0.utf8.count) } ?? .empty
    return ExchangeRecord(
        id: EventID(high: id, low: 7), direction: .incoming, startTimeNanoseconds: 1_700_000_000_000_000_000 + Int64(id),
        durationNanoseconds: 1_000, request: RequestHead(method: method, target: target, headers: requestHeaders, route: route),
        requestBody: requestBody,
        response: ResponseHead(
            status: status, headers: responseJSON == nil ? [:] : ["content-type": "application/json; charset=utf-8"]),
        responseBody: responseBody)
}

/// The shape of `documents` folded one after the other.
func shape(of documents: [String], limits: JSONShapeLimits = JSONShapeLimits()) -> JSONShape {
    var shape = JSONShape()
    // Each document a call of its own.
    for (call, document) in documents.enumerated() {
        _ = JSONShapeScanner.fold(Array(document.utf8), into: &shape, limits: limits, call: UInt64(call + 1))
    }
    return shape
}

/// The JSON Schema of a shape, parsed back.
func schema(_ shape: JSONShape) -> [String: Any] {
    var writer = JSONWriter()
    OpenAPIDocument.writeSchema(shape, to: &writer)
    return jsonObject(writer.bytes) ?? [:]
}

@Suite("Discovery: shapes")
struct JSONShapeTests {
    @Test func typesRequirednessAndNullableComeFromEveryInstance() throws {
        let learnt = schema(
            shape(of: [
                #"{"id": 1, "name": "a", "price": 1.5, "tags": ["x"], "owner": {"id": 2}, "note": null}"#,
                #"{"id": 2, "name": "b", "price": 2, "tags": [], "owner": {"id": 3, "admin": true}, "note": "n"}"#,
            ]))
        #expect(learnt["type"] as? String == "object")
        let properties = try #require(learnt["properties"] as? [String: [String: Any]])
        #expect(properties["id"]?["type"] as? String == "integer")
        #expect(properties["id"]?["format"] as? String == "int32")
        #expect(properties["price"]?["type"] as? String == "number")
        #expect(properties["note"]?["type"] as? [String] == ["string", "null"])
        #expect((properties["tags"]?["items"] as? [String: Any])?["type"] as? String == "string")
        let owner = try #require(properties["owner"])
        #expect(owner["required"] as? [String] == ["id"])
        #expect(Set(learnt["required"] as? [String] ?? []) == ["id", "name", "price", "tags", "owner", "note"])
    }

    @Test func aMemberMissingFromOneObjectIsOptional() {
        var learnt = JSONShape()
        let limits = JSONShapeLimits()
        #expect(JSONShapeScanner.fold(Array(#"{"a":1,"b":2}"#.utf8), into: &learnt, limits: limits, call: 1).changed)
        // The members' second instance confirms them: a change; the third is none.
        #expect(JSONShapeScanner.fold(Array(#"{"a":3,"b":4}"#.utf8), into: &learnt, limits: limits, call: 2).changed)
        #expect(!JSONShapeScanner.fold(Array(#"{"a":5,"b":6}"#.utf8), into: &learnt, limits: limits, call: 3).changed)
        // b goes missing: a change, and b is no longer required.
        #expect(JSONShapeScanner.fold(Array(#"{"a":7}"#.utf8), into: &learnt, limits: limits, call: 4).changed)
        #expect(schema(learnt)["required"] as? [String] == ["a"])
    }

    @Test func integersPastThirtyTwoBitsAreInt64AndStringsKeepTheFormatAllShare() throws {
        let learnt = schema(
            shape(of: [
                #"{"big": 4294967296, "small": -5, "at": "2026-12-06T10:00:00Z", "day": "2026-12-06", "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "mixed": "2026-12-06"}"#,
                #"{"big": 7, "small": 3, "at": "2026-12-06T10:00:00.123+01:00", "day": "2025-01-31", "id": "6FA459EA-EE8A-3CA4-894E-DB77E160355E", "mixed": "soon"}"#,
            ]))
        let properties = try #require(learnt["properties"] as? [String: [String: Any]])
        #expect(properties["big"]?["format"] as? String == "int64")
        #expect(properties["small"]?["format"] as? String == "int32")
        #expect(properties["at"]?["format"] as? String == "date-time")
        #expect(properties["day"]?["format"] as? String == "date")
        #expect(properties["id"]?["format"] as? String == "uuid")
        #expect(properties["mixed"]?["format"] == nil)
    }

    @Test(
        arguments: [
            ("2026-12-06T10:00:00Z", "date-time"), ("2026-12-06t10:00:00.5-07:30", "date-time"), ("2026-02-30", "date"),
            ("ada@example.com", "email"), ("https://example.com/a?b=c", "uri"), ("urn:isbn:0451450523", "uri"),
            ("192.168.0.1", "ipv4"), ("2001:db8::1", "ipv6"), ("::1", "ipv6"), ("::ffff:192.0.2.1", "ipv6"),
            ("fe80:0:0:0:0:0:0:1", "ipv6"), ("2026-13-01", nil), ("2026-12-06T25:00:00Z", nil), ("256.1.1.1", nil),
            ("01.1.1.1", nil), ("a@b", nil), ("not a uri: really", nil), ("1:2", nil), ("hello", nil), ("12345", nil),
            (":::", nil), ("1::2::3", nil),
        ] as [(String, String?)])
    func stringFormatsAreToldFromTheShapeOfTheValue(value: String, format: String?) {
        var bytes = Array(value.utf8)
        let formats = bytes.withUnsafeMutableBufferPointer { StringFormats.of(UnsafeBufferPointer($0)) }
        #expect(formats.name == format, "\(value)")
    }

    @Test func membersThatReadAsDataMakeTheObjectAMap() throws {
        let learnt = schema(
            shape(of: [
                #"{"byUser": {"8f14e45f-ceea-467f-a9e2-4b5d3a6c1e20": 1, "u_1234567": 2, "ada@example.com": 3, "42": 4}}"#,
                #"{"byUser": {"Zq7x7CA5DF366D1243CAAA5905FE6EDAAC80": 1, "zQxkTbWmRvNcLpYs": 2}}"#,
            ]))
        let byUser = try #require((learnt["properties"] as? [String: [String: Any]])?["byUser"])
        #expect(byUser["properties"] == nil)
        #expect(byUser["additionalProperties"] as? Bool == true)
    }

    @Test func aNameSeenInOneInstanceOnlyIsNeverWrittenAndGivesItsPlaceUp() throws {
        // A name of letters made up for each call: 50 of them, each seen once.
        func madeUp(_ n: Int) -> String {
            "kQx" + String([n % 26, n / 26 % 26, n / 676 % 26].map { Character(UnicodeScalar(UInt8(97 + $0))) }) + "Token"
        }
        var documents = (0..<50).map { n in #"{"id": \#(n), "\#(madeUp(n))": 1}"# }
        documents.append(#"{"id": 99, "later": true}"#)
        documents.append(#"{"id": 100, "later": false}"#)
        let learnt = shape(of: documents, limits: JSONShapeLimits(maxProperties: 4))
        let written = schema(learnt)
        let properties = try #require(written["properties"] as? [String: Any])
        #expect(Set(properties.keys) == ["id", "later"])
        #expect(written["additionalProperties"] as? Bool == true)
    }

    @Test func membersGivingUpTheirPlaceGiveBackWhatTheyHeldWithinTheBudget() {
        // Each call a new name holding an object: when the object is full, the
        // one seen once gives its place (and its nested places) back.
        func madeUp(_ n: Int) -> String {
            "name" + String([n % 26, n / 26 % 26].map { Character(UnicodeScalar(UInt8(97 + $0))) })
        }
        for budget in [Int.max, 50, 3] {
            var learnt = JSONShape()
            for n in 0..<200 {
                let document = #"{"\#(madeUp(n))": {"a": {"b": [1, 2]}}, "id": \#(n)}"#
                _ = JSONShapeScanner.fold(
                    Array(document.utf8), into: &learnt, limits: JSONShapeLimits(maxProperties: 3), call: UInt64(n + 1),
                    budget: budget)
            }
            #expect(learnt.properties.count <= 3)
            #expect(learnt.confirmedProperties.map(\.name) == ["id"] || budget < 5)
        }
    }

    @Test func objectsKeepAtMostTheirLimitOfMembersAndNestingStopsAtItsDepth() throws {
        let members = (0..<100).map {
            #""field\#(String(UnicodeScalar(UInt8(97 + $0 % 26))))\#(String(UnicodeScalar(UInt8(97 + $0 / 26))))x": 1"#
        }
        let wide = "{" + members.joined(separator: ",") + "}"
        var learnt = shape(of: [wide, wide], limits: JSONShapeLimits(maxProperties: 10))
        #expect(learnt.properties.count == 10)
        #expect(learnt.hasUndescribedProperties)
        let deep = String(repeating: #"{"a":"#, count: 20) + "1" + String(repeating: "}", count: 20)
        learnt = shape(of: [deep, deep], limits: JSONShapeLimits(maxDepth: 3))
        var depth = 0
        var place = learnt
        while let next = place.properties.first?.shape { place = next; depth += 1 }
        #expect(depth == 3)
        #expect(place.isCut)
    }

    @Test func bytesThatAreNotJSONAreReportedAsSuch() {
        var learnt = shape(of: [#"{"a": 1}"#])
        for hostile in [
            #"{"a": 1"#, #"{"a": 1}}"#, "[1,]", #"{"a": tru}"#, "\u{0}", "", #"{"a":"\#u{1}"}"#, #"{"a":"\x"}"#,
            #"{"a" 1}"#, #"{"a":01}"#, "[" + String(repeating: "[", count: 100) + "]",
        ] {
            let result = JSONShapeScanner.fold(Array(hostile.utf8), into: &learnt, limits: JSONShapeLimits(), call: 9)
            #expect(!result.isJSON, "\(hostile)")
        }
    }

    @Test func generatedAndMangledDocumentsFoldWithoutTrappingAndCountEveryInstance() {
        var generator = JSONGenerator()
        var learnt = JSONShape()
        var documents = 0
        for _ in 0..<500 {
            var writer = JSONWriter()
            generator.value().write(to: &writer)
            let document = writer.bytes
            if JSONShapeScanner.fold(
                document, into: &learnt, limits: JSONShapeLimits(maxDepth: 4, maxProperties: 8), call: UInt64(documents + 1)
            ).isJSON {
                documents += 1
            }
            // Mangled: JSON or not, never a trap; counted only when JSON.
            // UTF-8 is not checked (values are looked at for their shape only): the
            // scanner may take bytes the parser refuses for that reason alone.
            let mangled = generator.mutate(document)
            let isJSON = (try? JSONParser.parse(mangled)) != nil
            let taken = JSONShapeScanner.fold(
                mangled, into: &learnt, limits: JSONShapeLimits(maxDepth: 4, maxProperties: 8), call: UInt64(documents + 1_000)
            ).isJSON
            #expect(taken == isJSON || (taken && String(bytes: mangled, encoding: .utf8) == nil))
            if taken { documents += 1 }
        }
        #expect(documents >= 500)
        // Every document taken counted once at the top (a refused one may have counted before its fault).
        #expect(learnt.count >= documents)
    }

    @Test func twoShapesMergeAsIfOneHadSeenEverything() {
        let documents = [#"{"a":1,"b":"x"}"#, #"{"a":2}"#, #"{"a":3,"c":[1.5]}"#, #"{"a":null,"b":"y"}"#]
        let whole = shape(of: documents)
        var left = shape(of: Array(documents[..<2]))
        left.merge(shape(of: Array(documents[2...])), limits: JSONShapeLimits())
        #expect(schema(left) as NSDictionary == schema(whole) as NSDictionary)
    }
}
