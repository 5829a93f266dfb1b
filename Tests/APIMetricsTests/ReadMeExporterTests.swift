import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The ReadMe exporter against a ReadMe Metrics ingest on loopback: the
/// path, Basic auth, the log and its HAR entry field by field, the masks,
/// the grouping rule and the 15-second pause. That the entries are valid
/// HAR 1.2 is checked by a JSON-schema validator in
/// Tests/EndToEnd/vendor-check.sh.
@Suite("ReadMe exporter")
struct ReadMeExporterTests {
    static let projectKey = "rdme_xn8s9h0123456789"

    private func service(
        _ ingest: TestCollector, pause: Duration = .seconds(15), configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) throws -> APIMetricsService {
        var config = testConfiguration([
            .readMe(
                ReadMeExporter.Options(
                    apiKey: Self.projectKey, baseURL: ingest.baseURL, isDevelopment: true, pauseDuration: pause))
        ])
        config.capture.isBodyCaptureEnabled = true
        config.identifyConsumer = ConsumerIdentifier { request in
            request.headers["x-user"].map { Consumer(id: $0, name: "Ann Lee", email: "ann@example.com") }
        }
        configure(&config)
        return try APIMetricsService(configuration: config)
    }

    private func logs(_ ingest: TestCollector) -> [[String: Any]] {
        ingest.requests.filter(\.isAccepted).flatMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? []
        }
    }

    private func call(_ recorder: Recorder, user: String? = "5afa21b97011c63320226ef3", status: Int = 201) {
        var headers: HeaderFields = [
            "Host": "api.example.com", "Content-Type": "application/json", "Authorization": "Bearer 123456",
        ]
        if let user { headers.append(name: "X-User", value: user) }
        let exchange = recorder.begin(
            RequestHead(
                method: "POST", target: "/orders/7/items?expand=price&note=a%20b", headers: headers,
                route: "/orders/{id}/items", clientAddress: "198.51.100.4"))
        exchange.recordRequestBody(Array(#"{"sku":"A-1"}"#.utf8))
        exchange.recordResponseHead(
            ResponseHead(status: status, headers: ["Content-Type": "application/json", "Location": "/orders/7/items/1"]))
        exchange.recordResponseBody(Array(#"{"id":1}"#.utf8))
        exchange.finish()
    }

    @Test func logsGoToV1RequestWithBasicAuthAsReadMesSDKsSendThem() async throws {
        let ingest = try TestCollector { _ in .status(202) }
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let post = try #require(ingest.requests.first)
        #expect(post.method == "POST" && post.target == "/v1/request")
        // Basic auth: the project key as the user, an empty password.
        #expect(post.header("authorization") == "Basic " + Data("\(Self.projectKey):".utf8).base64EncodedString())
        #expect(post.header("content-type") == "application/json")
        let log = try #require(logs(ingest).first)
        let id = try #require(log["_id"] as? String)
        #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
        #expect(log["_version"] as? Int == 3)
        #expect(
            log["group"] as? [String: String] == [
                "id": "sha512-+MnFCkFeabWc/YaeOiMTjE5giOSFEQnar9xWSjm/BSYjNAoDmRQJvSyPZ3mYv0u9orXbfYWBqepmtY0SGBTF1A==?6ef3",
                "label": "Ann Lee", "email": "ann@example.com",
            ])
        #expect(log["clientIPAddress"] as? String == "198.51.100.4")
        #expect(log["development"] as? Bool == true)
        let har = try #require((log["request"] as? [String: Any])?["log"] as? [String: Any])
        #expect(har["version"] as? String == "1.2")
        let creator = try #require(har["creator"] as? [String: String])
        #expect(creator["name"] == "apimetrics-swift" && creator["version"] == APIMetricsService.libraryVersion)
        let entries = try #require(har["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        let entry = entries[0]
        #expect(entry["pageref"] as? String == "http://api.example.com/orders/{id}/items")
        #expect((entry["startedDateTime"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect(entry["time"] is NSNumber)
        let request = try #require(entry["request"] as? [String: Any])
        #expect(request["method"] as? String == "POST")
        #expect(request["url"] as? String == "http://api.example.com/orders/7/items?expand=price&note=a%20b")
        #expect(request["httpVersion"] as? String == "HTTP/1.1")
        let queryString = try #require(request["queryString"] as? [[String: String]])
        #expect(queryString == [["name": "expand", "value": "price"], ["name": "note", "value": "a b"]])
        let headers = try #require(request["headers"] as? [[String: String]])
        // The default redaction hides Authorization before any exporter sees it.
        #expect(headers.contains(["name": "Authorization", "value": "[REDACTED]"]))
        #expect(request["postData"] as? [String: String] == ["mimeType": "application/json", "text": #"{"sku":"A-1"}"#])
        let response = try #require(entry["response"] as? [String: Any])
        #expect(response["status"] as? Int == 201 && response["statusText"] as? String == "Created")
        #expect(response["redirectURL"] as? String == "/orders/7/items/1")
        let content = try #require(response["content"] as? [String: Any])
        #expect(content["text"] as? String == #"{"id":1}"# && content["size"] as? Int == 8)
        #expect(content["mimeType"] as? String == "application/json")
        #expect(entry["cache"] is [String: Any] && entry["timings"] is [String: Any])
    }

    /// With Authorization taken out of the redaction list, its value goes
    /// as ReadMe's mask, as the SDKs send it (their own test's vector).
    @Test func anUnredactedAuthorizationGoesMasked() async throws {
        let ingest = try TestCollector { _ in .status(202) }
        defer { ingest.stop() }
        let metrics = try service(ingest) { config in
            config.redaction.headers = []
        }
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let headers =
            (((((logs(ingest).first?["request"] as? [String: Any])?["log"] as? [String: Any])?["entries"] as? [[String: Any]])?
                .first?["request"] as? [String: Any])?["headers"] as? [[String: String]]) ?? []
        #expect(
            headers.contains([
                "name": "Authorization",
                "value": "sha512-31rXi6lhQcMvMwee0P6yu9xyHuAWDUEuDzcSBQCCUUvlQ6BZXcu67qy1hrD2nbrjeDLKrYrBbQoMOrLnJVmbCw==?3456",
            ]))
    }

    @Test func aCallWithoutAConsumerIsNotSentAndIsCounted() async throws {
        let ingest = try TestCollector { _ in .status(202) }
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder, user: nil)
        call(metrics.recorder, user: "u-1")
        call(metrics.recorder, user: nil)
        await metrics.shutdown(timeout: .seconds(30))
        #expect(logs(ingest).count == 1)
        #expect(metrics.statistics.exported == 1 && metrics.statistics.destinationLeftOut == 2)
    }

    /// After each of the statuses ReadMe's SDKs back off on, nothing is
    /// sent for the pause; what comes in that time is counted, not held;
    /// after it, sending resumes.
    @Test(arguments: [401, 403, 429, 500, 503])
    func aRefusalPausesSending(status: Int) async throws {
        let ingest = try TestCollector { $0 == 0 ? .status(status) : .status(202) }
        defer { ingest.stop() }
        // Long enough that a busy machine processes the three calls inside it.
        let metrics = try service(ingest, pause: .seconds(4))
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.failed == 1 })
        for _ in 0..<3 { call(metrics.recorder) }
        #expect(await eventually { metrics.statistics.destinationPaused == 3 })
        #expect(ingest.requests.count == 1, "nothing is sent while paused")
        try await Task.sleep(for: .milliseconds(4_100))
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        #expect(ingest.requests.count == 2)
        #expect(metrics.statistics.exported == 1 && metrics.statistics.failed == 1 && metrics.statistics.destinationPaused == 3)
        #expect(metrics.statistics.retried == 0, "a pause status is not retried")
    }

    @Test(arguments: [502, 504])
    func otherServerErrorsAreRetried(status: Int) async throws {
        let ingest = try TestCollector { $0 == 0 ? .status(status) : .status(202) }
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        #expect(ingest.requests.count == 2 && metrics.statistics.exported == 1)
    }

    @Test func aRetriedBatchKeepsItsLogIDs() async throws {
        let ingest = try TestCollector { $0 == 0 ? .status(502) : .status(202) }
        defer { ingest.stop() }
        let metrics = try service(ingest)
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let ids = ingest.requests.compactMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]])?.first?["_id"] as? String
        }
        #expect(ids.count == 2 && ids[0] == ids[1])
    }

    /// The README's example, as it is there.
    @Test func theReadmesExampleAddsTheVendors() throws {
        var config = APIMetricsConfiguration(service: "orders-api", exporters: [.file(path: "apimetrics.ndjson")])
        let moesifApplicationID = "eyJhcHAiOiIxIn0", readMeAPIKey = "rdme_1",
            apitallyClientID = "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f"
        config.exporters.append(.moesif(applicationID: moesifApplicationID))
        config.exporters.append(.readMe(apiKey: readMeAPIKey))
        config.exporters.append(.apitally(clientID: apitallyClientID, environment: "prod"))
        #expect(
            config.exporters.map(\.summary) == [
                "file apimetrics.ndjson", "moesif https://api.moesif.net", "readme https://metrics.readme.io",
                "apitally https://hub.apitally.io (prod)",
            ])
        #expect(throws: Never.self) { try config.validate() }
    }

    @Test func theEnvironmentTurnsItOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_README_API_KEY": "rdme_1", "APIMETRICS_README_BASE_URL": "http://127.0.0.1:9",
            "APIMETRICS_DEVELOPMENT": "true",
        ])
        #expect(config.exporters.map(\.summary).contains("readme http://127.0.0.1:9"))
        let error = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_README_API_KEY": "two words"])
        }
        #expect(error?.field == "APIMETRICS_README_API_KEY")
    }
}
