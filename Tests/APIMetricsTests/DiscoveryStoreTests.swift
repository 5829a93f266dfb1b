@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("Discovery: the store, restarts and drift")
struct DiscoveryStoreTests {
    /// Records `count` calls of GET /orders/{id} answering `body(n)` with `status(n)`.
    func record(
        _ metrics: APIMetricsService, count: Int, from first: Int = 0, status: (Int) -> Int = { _ in 200 }, body: (Int) -> String
    ) {
        for n in first..<(first + count) {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "GET", target: "/orders/\(n)", headers: ["Host": "127.0.0.1:8080"], route: "/orders/{id}"))
            exchange.recordResponseHead(ResponseHead(status: status(n), headers: ["content-type": "application/json"]))
            exchange.recordResponseBody(Array(body(n).utf8))
            exchange.finish()
        }
    }

    func run(_ path: String, _ body: (APIMetricsService) -> Void) async throws {
        var config = storeConfiguration(path)
        config.identifyConsumer = nil
        let metrics = try APIMetricsService(configuration: config)
        let background = Task { try await metrics.run() }
        body(metrics)
        _ = await metrics.shutdown(timeout: .seconds(10))
        background.cancel()
    }

    @Test func aChangedHandlerIsReportedOnceEachAcrossARestartWithWhenAndAnExample() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        // The first run: the handler's shape as it was.
        try await run(path) { metrics in
            record(metrics, count: 20) { n in #"{"id": \#(n), "total": \#(n), "customer": "c\#(n)"}"# }
        }
        let before = CaptureClock.wallNanoseconds()
        // The second run: `customer` renamed `client`, `total` a string now, a 409 seen.
        try await run(path) { metrics in
            record(metrics, count: 20, from: 100, status: { $0 == 110 ? 409 : 200 }) { n in
                n == 110 ? #"{"error": "conflict"}"# : #"{"id": \#(n), "total": "\#(n).00", "client": "c\#(n)"}"#
            }
        }
        let reader = try StoreReader(path: path)
        let changes = try reader.apiChanges(StoreTimeRange(from: 0, to: .max), limit: 200)
        let summary = changes.map { "\($0.kind.rawValue) \($0.location)" }.sorted()
        #expect(
            summary == [
                "field_gone response 200 application/json $.customer",
                "new_endpoint GET /orders/{id}",
                "new_field response 200 application/json $.client",
                "new_status response 409",
                "type_changed response 200 application/json $.total",
            ])
        // The endpoint is new in the first run only; the rest were first seen in the second, each with its call.
        for change in changes where change.kind != .newEndpoint {
            #expect(change.time >= before - 5_000_000_000)
            #expect(change.example != EventID(high: 0, low: 0))
        }
        #expect(changes.first { $0.kind == .typeChanged }?.detail == "integer → string, integer")
        // What the first run learnt survived: 40 calls of one operation, both shapes merged.
        let operations = try reader.apiOperations()
        #expect(operations.count == 1)
        #expect(operations.first?.calls == 40)
        // The example calls are calls in the store.
        let example = try #require(changes.first { $0.kind == .newStatus }?.example)
        #expect(try reader.call(id: example) != nil)
    }

    @Test func theCommandMergesTheStoresOfTwoInstancesIntoOneDocument() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.file("a.sqlite"), second = directory.file("b.sqlite")
        try await run(first) { metrics in
            record(metrics, count: 5) { n in #"{"id": \#(n)}"# }
        }
        try await run(second) { metrics in
            record(metrics, count: 5, status: { _ in 404 }) { _ in #"{"error": "gone"}"# }
        }
        let stores = [try StoreReader(path: first), try StoreReader(path: second)]
        let document = try #require(jsonObject(try DiscoveredAPI.openAPI(from: stores, title: "orders")))
        let get = try #require(
            ((document["paths"] as? [String: Any])?["/orders/{id}"] as? [String: Any])?["get"] as? [String: Any])
        #expect(Set((get["responses"] as? [String: Any])?.keys.map { $0 } ?? []) == ["200", "404"])
        #expect((get["x-apimetrics"] as? [String: Any])?["calls"] as? Int == 10)
        let yaml = try #require(DiscoveredAPI.yaml(fromJSON: try DiscoveredAPI.openAPI(from: stores, title: "orders")))
        #expect(yaml.contains("\"openapi\": \"3.1.0\""))
        #expect(yaml.contains("\"/orders/{id}\":"))
    }

    @Test func storedShapesReadBackAsWrittenAndHostileBytesAreRefusedWithoutATrap() throws {
        let discovery = APIDiscovery(options: .default, identification: .apiKey())
        for n in 0..<6 {
            discovery.observe(
                discoveryCall(
                    "POST", "/users/\(n)?page=\(n)", route: "/users/{id}", status: n == 5 ? 422 : 201,
                    requestJSON: #"{"name": "n\#(n)", "tags": ["a"], "address": {"city": "x", "zip": \#(n)}}"#,
                    responseJSON: #"{"id": \#(n), "created": "2026-12-06T10:00:00Z"}"#,
                    headers: [("X-Tenant", "t"), ("X-API-Key", "key-\(n)"), ("Authorization", "Bearer a.b.c")], id: UInt64(n + 1))
            )
        }
        let operation = try #require(discovery.snapshot().operations.first)
        let bytes = OperationShapeCodec.encode(operation)
        let decoded = try OperationShapeCodec.decode(bytes)
        let limits = JSONShapeLimits()
        func document(_ operation: OperationShape) -> [UInt8] {
            OpenAPIDocument.render(
                APIDiscovery.Snapshot(operations: [operation], servers: [], figures: .init()),
                identity: ServiceIdentity(service: "s", environment: "e"), schemes: SecuritySchemes())
        }
        #expect(document(decoded) == document(operation))
        var merged = decoded
        merged.merge(decoded, limits: limits)
        #expect(merged.calls == 2 * operation.calls)
        // Every prefix and many flipped bytes: refused or read, never a trap.
        for length in 0..<bytes.count { _ = try? OperationShapeCodec.decode(Array(bytes[..<length])) }
        var generator = SeededGenerator.replayable()
        for _ in 0..<2_000 {
            var mangled = bytes
            mangled[Int.random(in: 1..<mangled.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = try? OperationShapeCodec.decode(mangled)
        }
        // Deeply nested bytes are refused, not followed.
        var deep = BinaryWriter()
        for _ in 0..<100 {
            deep.byte(JSONTypes.object.rawValue)
            deep.count(1)
            deep.count(1)
            deep.byte(0)
            deep.bool(false)
            deep.count(1)
            deep.string("a")
        }
        var reader = BinaryReader(deep.bytes)
        #expect(throws: BinaryReader.Failure.self) { try reader.shape(depth: 0) }
    }
}
