@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Testing

@Suite("Discovery: operations and the document")
struct DiscoveryLearnerTests {
    func document(_ discovery: APIDiscovery, service: String = "orders") -> [String: Any] {
        let bytes = OpenAPIDocument.render(
            discovery.snapshot(), identity: ServiceIdentity(service: service, environment: "test"),
            schemes: discovery.configuredSchemes)
        return jsonObject(bytes) ?? [:]
    }

    func operation(_ document: [String: Any], _ path: String, _ method: String) -> [String: Any]? {
        ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any]
    }

    @Test func parametersBodiesStatusesAndSecurityAreLearntPerOperation() throws {
        let discovery = APIDiscovery(
            options: .default, identification: .firstMatch([.jwtClaim(), .apiKey(header: "X-API-Key")]))
        for n in 1...4 {
            discovery.observe(
                discoveryCall(
                    "GET", "/users/\(n)?page=\(n)&expand=true\(n % 2 == 0 ? "&q=ada" : "")", route: "/users/:id",
                    responseJSON: #"{"id": \#(n), "email": "u\#(n)@example.com", "created": "2026-12-0\#(n)T10:00:00Z"}"#,
                    headers: [("Authorization", "Bearer a.b.c"), ("X-Tenant", "t\(n)"), ("User-Agent", "curl/8")], id: UInt64(n)))
        }
        discovery.observe(
            discoveryCall(
                "GET", "/users/99", route: "/users/:id", status: 404, responseJSON: #"{"error": "not found"}"#,
                headers: [("X-API-Key", "k-123456789012")], id: 9))
        // Twice: a media type, like a name, is described from its second call on.
        for id in [10, 11] as [UInt64] {
            discovery.observe(
                discoveryCall(
                    "POST", "/users", route: "/users", status: 201, requestJSON: #"{"name": "Ada", "age": 36}"#,
                    responseJSON: #"{"id": 7}"#, id: id))
        }
        let learnt = document(discovery)
        #expect(learnt["openapi"] as? String == "3.1.0")
        let get = try #require(operation(learnt, "/users/{id}", "get"))
        let parameters = try #require(get["parameters"] as? [[String: Any]])
        func parameter(_ name: String) -> [String: Any]? { parameters.first { $0["name"] as? String == name } }
        #expect(parameter("id")?["in"] as? String == "path")
        #expect(parameter("id")?["required"] as? Bool == true)
        #expect((parameter("id")?["schema"] as? [String: Any])?["type"] as? String == "integer")
        #expect((parameter("page")?["schema"] as? [String: Any])?["type"] as? String == "integer")
        #expect((parameter("expand")?["schema"] as? [String: Any])?["type"] as? String == "boolean")
        #expect(parameter("q")?["required"] as? Bool == false)
        #expect(parameter("x-tenant")?["in"] as? String == "header")
        #expect(parameter("user-agent") == nil)
        #expect(parameter("authorization") == nil)
        #expect(parameter("x-api-key") == nil)
        let responses = try #require(get["responses"] as? [String: [String: Any]])
        #expect(Set(responses.keys) == ["200", "404"])
        let ok = try #require(
            ((responses["200"]?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
        )
        let properties = try #require(ok["properties"] as? [String: [String: Any]])
        #expect(properties["email"]?["format"] as? String == "email")
        #expect(properties["created"]?["format"] as? String == "date-time")
        // Bearer on four calls, the API key on one: both, and no anonymous alternative.
        let security = try #require(get["security"] as? [[String: Any]])
        #expect(security.contains { $0["bearerAuth"] != nil })
        #expect(security.contains { $0["apiKey_x_api_key"] != nil })
        #expect(!security.contains { $0.isEmpty })
        let post = try #require(operation(learnt, "/users", "post"))
        #expect((post["requestBody"] as? [String: Any])?["required"] as? Bool == true)
        #expect((post["security"] as? [[String: Any]])?.contains { $0.isEmpty } == true)
        let schemes = try #require((learnt["components"] as? [String: Any])?["securitySchemes"] as? [String: [String: Any]])
        #expect(schemes["bearerAuth"]?["bearerFormat"] as? String == "JWT")
        #expect(schemes["apiKey_x_api_key"]?["name"] as? String == "x-api-key")
        #expect((learnt["servers"] as? [[String: Any]])?.first?["url"] as? String == "http://api.example.com")
    }

    @Test func noValueFromABodyAQueryOrAHeaderReachesTheDocument() throws {
        let discovery = APIDiscovery(options: .default, identification: .apiKey())
        let secrets = (0..<20).map { "Zq\($0)x" + UUID().uuidString.replacingOccurrences(of: "-", with: "") }
        for (n, secret) in secrets.enumerated() {
            discovery.observe(
                discoveryCall(
                    "POST", "/login/\(secret)?token=\(secret)&note=\(secret)", route: "/login/{code}", status: 200,
                    requestJSON: #"{"password": "\#(secret)", "list": ["\#(secret)"], "nested": {"k": "\#(secret)"}}"#,
                    responseJSON: #"{"session": "\#(secret)", "\#(secret)": 1}"#,
                    headers: [
                        ("Authorization", "Bearer \(secret)"), ("X-API-Key", secret), ("X-Secret", secret),
                        ("Host", "h\(n).example.com"),
                    ],
                    id: UInt64(n + 1)))
        }
        let bytes = OpenAPIDocument.render(
            discovery.snapshot(), identity: ServiceIdentity(service: "s", environment: "e"), schemes: discovery.configuredSchemes)
        let text = String(decoding: bytes, as: UTF8.self)
        for secret in secrets { #expect(!text.contains(secret)) }
        #expect(!text.contains("Zq"))
        // The operation's shape is there all the same.
        #expect(text.contains("\"password\""))
        #expect(text.contains("additionalProperties"))
    }

    @Test func aNameRepeatedWithinOneCallIsStillSeenInOneCallOnly() throws {
        let discovery = APIDiscovery(options: .default, identification: nil)
        func madeUp(_ n: Int) -> String {
            "skLive" + String([n % 26, n / 26 % 26, n / 676 % 26].map { Character(UnicodeScalar(UInt8(97 + $0))) })
        }
        for n in 0..<30 {
            let name = madeUp(n)
            // Duplicate keys, the name in two array items, and a new field under a made-up parent.
            let body =
                #"{"id": \#(n), "\#(name)": 1, "\#(name)": 2, "list": [{"\#(name)x": 1}, {"\#(name)x": 2}], "\#(name)y": [{"a": 1}, {"a": 2}]}"#
            discovery.observe(discoveryCall("POST", "/t", route: "/t", responseJSON: body, id: UInt64(n + 1)))
        }
        let text = String(
            decoding: OpenAPIDocument.render(
                discovery.snapshot(), identity: ServiceIdentity(service: "s", environment: "e"), schemes: SecuritySchemes()),
            as: UTF8.self)
        #expect(!text.contains("skLive"))
        #expect(text.contains("\"id\""))
        let changes = discovery.recentChanges(limit: 1_000)
        #expect(!changes.contains { $0.location.contains("skLive") })
        let stored = try OperationShapeCodec.decode(
            OperationShapeCodec.encode(try #require(discovery.snapshot().operations.first)))
        #expect(!String(decoding: OperationShapeCodec.encode(stored), as: UTF8.self).contains("skLive"))
    }

    @Test func aStableOperationIsLearntFromOneCallInSampleEvery() {
        var options = DiscoveryOptions.default
        options.stableAfter = 10
        options.sampleEvery = 4
        let discovery = APIDiscovery(options: options, identification: nil)
        for n in 0..<110 {
            discovery.observe(discoveryCall("GET", "/a", route: "/a", responseJSON: #"{"n": \#(n)}"#, id: UInt64(n + 1)))
        }
        let figures = discovery.snapshot().figures
        #expect(figures.learnt + figures.sampledOut == 110)
        #expect(figures.sampledOut > 60)
        // A new status is learnt at once, sampling or not.
        discovery.observe(discoveryCall("GET", "/a", route: "/a", status: 503, responseJSON: #"{"retry": true}"#, id: 500))
        let operation = discovery.snapshot().operations[0]
        #expect(operation.responses.contains { $0.status == 503 && !$0.bodies.isEmpty })
        #expect(operation.calls == 111)
    }

    @Test func operationsPastTheLimitAndCallsWithoutARouteAreCountedNotLearnt() {
        var options = DiscoveryOptions.default
        options.maxOperations = 3
        let discovery = APIDiscovery(options: options, identification: nil)
        for n in 0..<10 {
            discovery.observe(discoveryCall("GET", "/r\(n)", route: "/r\(n)", id: UInt64(n + 1)))
        }
        var unrouted = discoveryCall("GET", "/nowhere", route: "/x", id: 99)
        unrouted.request.route = nil
        discovery.observe(unrouted)
        let snapshot = discovery.snapshot()
        #expect(snapshot.operations.count == 3)
        #expect(snapshot.figures.unlearnt == 7)
        #expect(snapshot.figures.unrouted == 1)
    }

    @Test func madeUpMediaTypesAndMethodsNameNothing() {
        let discovery = APIDiscovery(options: .default, identification: nil)
        for n in 0..<6 {
            var call = discoveryCall("POST", "/a", route: "/a", id: UInt64(n + 1))
            call.request.headers = ["Content-Type": "application/sk-live-4f9a8b7c6d5e\(n)"]
            call.requestBody = CapturedBody(bytes: Array("x".utf8), size: 1)
            discovery.observe(call)
            var method = discoveryCall("XTOKEN\(n)", "/a", route: "/a", id: UInt64(n + 100))
            method.request.method = "XTOKEN\(n)"
            discovery.observe(method)
        }
        let snapshot = discovery.snapshot()
        #expect(snapshot.operations.map(\.method) == ["POST"])
        #expect(snapshot.operations.first?.requestBodies.map(\.mediaType) == ["application/octet-stream"])
        #expect(snapshot.figures.unrouted == 6)
    }

    @Test func hostileHostsAndMediaTypesAreLeftOut() {
        let discovery = APIDiscovery(options: .default, identification: nil)
        var call = discoveryCall("GET", "/a", route: "/a", id: 1)
        call.request.headers = ["Host": "evil.com/\"><script>", "Content-Type": "text/html\r\nX: y"]
        call.requestBody = CapturedBody(bytes: Array("x".utf8), size: 1)
        discovery.observe(call)
        let snapshot = discovery.snapshot()
        #expect(snapshot.servers.isEmpty)
        #expect(snapshot.operations[0].requestBodies.map(\.mediaType) == ["application/octet-stream"])
    }

    @Test func theViewServesTheDocumentOfWhatTheServiceRecorded() async throws {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.view = LocalViewOptions(isDashboardEnabled: true)
        config.capture.isBodyCaptureEnabled = true
        let metrics = try APIMetricsService(configuration: config)
        let background = Task { try await metrics.run() }
        for n in 0..<5 {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "GET", target: "/orders/\(n)", headers: ["Host": "127.0.0.1:8080"], route: "/orders/{id}"))
            exchange.recordResponseHead(ResponseHead(status: 200, headers: ["content-type": "application/json"]))
            exchange.recordResponseBody(Array(#"{"id": \#(n), "total": 9.5}"#.utf8))
            exchange.finish()
        }
        let seen = await eventually {
            let answer = metrics.view.response(
                method: "GET", target: MetricsView.openAPIPath, headers: ["Host": "127.0.0.1"], peerAddress: "127.0.0.1")
            guard let answer, answer.status == 200, let document = jsonObject(answer.body) else { return false }
            return ((document["paths"] as? [String: Any])?["/orders/{id}"] as? [String: Any])?["get"] != nil
        }
        #expect(seen)
        _ = await metrics.shutdown(timeout: .seconds(5))
        background.cancel()
    }
}
