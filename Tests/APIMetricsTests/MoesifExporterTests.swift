import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The Moesif exporter against a Moesif ingest on loopback: the paths,
/// headers and compression Moesif's SDKs use, every event field, the
/// profiles' batches, and the remote sampling configuration.
@Suite("Moesif exporter")
struct MoesifExporterTests {
    static let applicationID = "eyJhcHAiOiIxOTg6NzQ0IiwidmVyIjoiMi4xIn0.test"

    /// An ingest that answers `/v1/config` with `config` and everything else
    /// with `status`, each with the header `X-Moesif-Config-ETag: etag` (of
    /// the request's number), as Moesif does.
    private func ingest(
        config: String = #"{"sample_rate":100}"#,
        status: @escaping @Sendable (Int) -> Int = { _ in 201 }, etag: @escaping @Sendable (Int) -> String = { _ in "e1" }
    ) throws -> TestCollector {
        try TestCollector(answering: { number, request, _ in
            if request == "GET /v1/config" {
                return .body(
                    200, headers: [("Content-Type", "application/json"), ("X-Moesif-Config-ETag", etag(number))],
                    body: Array(config.utf8))
            }
            return .body(status(number), headers: [("X-Moesif-Config-ETag", etag(number))], body: [])
        })
    }

    private func service(
        _ ingest: TestCollector, configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) throws -> APIMetricsService {
        var config = testConfiguration([
            .moesif(
                MoesifExporter.Options(
                    applicationID: Self.applicationID, baseURL: ingest.baseURL, apiVersion: "2.1.0",
                    configRefreshInterval: .zero))
        ])
        config.capture.isBodyCaptureEnabled = true
        config.capture.bodyContentTypes = .all
        config.identifyConsumer = ConsumerIdentifier { request in
            request.headers["x-user"].map { Consumer(id: $0, name: "Ann", email: "ann@example.com", company: "acme") }
        }
        config.sessionToken = { request in request.headers["x-session"] }
        config.metadata = { _, _ in ["plan": "gold"] }
        configure(&config)
        return try APIMetricsService(configuration: config)
    }

    private func events(_ ingest: TestCollector) -> [[String: Any]] {
        ingest.requests.filter { $0.target == "/v1/events/batch" && $0.isAccepted }.flatMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? []
        }
    }

    @Test func eventsGoToTheBatchEndpointGzippedWithTheApplicationID() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let requests = ingest.requests
        #expect(requests.map { "\($0.method) \($0.target)" } == ["GET /v1/config", "POST /v1/events/batch"])
        #expect(requests.allSatisfy { $0.header("x-moesif-application-id") == Self.applicationID })
        let post = try #require(requests.last)
        #expect(post.header("content-type") == "application/json; charset=utf-8")
        #expect(post.header("content-encoding") == "gzip")
        #expect(post.rawBody.starts(with: [0x1F, 0x8B]))
        #expect(metrics.statistics.exported == 1 && metrics.statistics.failed == 0)
    }

    @Test func everyFieldOfACallIsWhereMoesifReadsIt() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "POST", target: "/orders?page=2",
                headers: [
                    "Host": "api.example.com", "X-Forwarded-Proto": "https", "Content-Type": "application/json",
                    "Authorization": "Bearer secret-token", "X-User": "u-42", "X-Session": "s-1", "Accept": "a", "accept": "b",
                ],
                route: "/orders", clientAddress: "203.0.113.9"))
        exchange.recordRequestBody(Array(#"{"item":"lamp","password":"hunter2"}"#.utf8))
        exchange.recordResponseHead(ResponseHead(status: 201, headers: ["Content-Type": "application/octet-stream"]))
        exchange.recordResponseBody([0x00, 0xFF, 0x10])
        exchange.reportError(UpstreamTimeout())
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(30))
        let event = try #require(events(ingest).first)
        let request = try #require(event["request"] as? [String: Any])
        let response = try #require(event["response"] as? [String: Any])
        let time = try #require(request["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}/) != nil, "\(time)")
        #expect((response["time"] as? String).map { $0 >= time } == true)
        #expect(request["uri"] as? String == "https://api.example.com/orders?page=2")
        #expect(request["verb"] as? String == "POST")
        #expect(request["api_version"] as? String == "2.1.0")
        #expect(request["ip_address"] as? String == "203.0.113.9")
        let headers = try #require(request["headers"] as? [String: String])
        #expect(headers["Authorization"] == "[REDACTED]")
        #expect(headers["Accept"] == "a, b" || headers["Accept"] == "a" && headers["accept"] == "b")
        // A JSON body goes as JSON, already redacted; any other as base64.
        #expect(request["transfer_encoding"] as? String == "json")
        let body = try #require(request["body"] as? [String: Any])
        #expect(body["item"] as? String == "lamp" && body["password"] as? String == "[REDACTED]")
        #expect(response["status"] as? Int == 201)
        #expect(response["transfer_encoding"] as? String == "base64")
        #expect(response["body"] as? String == "AP8Q")
        #expect(event["user_id"] as? String == "u-42")
        #expect(event["company_id"] as? String == "acme")
        #expect(event["session_token"] as? String == "s-1")
        #expect((event["metadata"] as? [String: Any])?["plan"] as? String == "gold")
        // The call's errors, where Moesif shows metadata: `metadata.errors`, each with its type and message.
        let errors = try #require((event["metadata"] as? [String: Any])?["errors"] as? [[String: Any]])
        #expect(errors.count == 1 && errors.first?["type"] as? String == "UpstreamTimeout")
        #expect((errors.first?["message"] as? String)?.isEmpty == false)
        #expect(event["direction"] as? String == "Incoming")
        #expect(event["weight"] as? Int == 1)
        #expect((event["transaction_id"] as? String)?.isEmpty == false)
        #expect(event["tags"] as? String == "route:/orders")
    }

    @Test func profilesGoToTheirOwnBatchEndpointsBeforeTheCalls() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest)
        metrics.updateConsumer(
            Consumer(id: "u-42", name: "Ann", email: "ann@example.com", company: "acme", metadata: ["tier": "1"]))
        metrics.updateCompany(CompanyProfile(id: "acme", name: "Acme", domain: "acme.example", metadata: ["size": "50"]))
        metrics.updateSubscription(
            SubscriptionProfile(
                id: "sub-1", companyID: "acme", plan: "gold", status: "active",
                currentPeriodStartNanoseconds: 1_795_000_000_000_000_000, currentPeriodEndNanoseconds: 1_797_000_000_000_000_000))
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let requests = ingest.requests.filter { $0.method == "POST" }
        let targets = requests.map(\.target)
        #expect(Set(targets) == ["/v1/users/batch", "/v1/companies/batch", "/v1/subscriptions/batch", "/v1/events/batch"])
        #expect(targets.last == "/v1/events/batch")
        func array(_ target: String) -> [[String: Any]] {
            requests.first { $0.target == target }.flatMap {
                (try? JSONSerialization.jsonObject(with: Data($0.body))) as? [[String: Any]]
            } ?? []
        }
        let user = try #require(array("/v1/users/batch").first)
        #expect(user["user_id"] as? String == "u-42" && user["company_id"] as? String == "acme")
        #expect(user["metadata"] as? [String: String] == ["tier": "1", "name": "Ann", "email": "ann@example.com"])
        #expect((user["modified_time"] as? String)?.count == 23)
        let company = try #require(array("/v1/companies/batch").first)
        #expect(company["company_id"] as? String == "acme" && company["company_domain"] as? String == "acme.example")
        #expect(company["metadata"] as? [String: String] == ["size": "50", "name": "Acme"])
        let subscription = try #require(array("/v1/subscriptions/batch").first)
        #expect(subscription["subscription_id"] as? String == "sub-1" && subscription["company_id"] as? String == "acme")
        #expect(subscription["status"] as? String == "active")
        #expect(subscription["current_period_start"] as? String == "2026-11-18T11:06:40.000")
        #expect(subscription["current_period_end"] as? String == "2026-12-11T14:40:00.000")
        #expect((subscription["items"] as? [[String: String]]) == [["plan_id": "gold"]])
        #expect(subscription["metadata"] == nil)
    }

    /// The configuration's rates, in the SDKs' order: a matching regex rule,
    /// the user's rate, the company's, the application's.
    @Test func remoteSamplingAppliesTheRulesInOrderWithTheirWeights() async throws {
        let config = #"""
            {"sample_rate":50,"user_sample_rate":{"vip":100,"muted":0},"company_sample_rate":{"acme":25},
             "regex_config":[{"conditions":[{"path":"request.route","value":"/health.*"}],"sample_rate":0},
                             {"conditions":[{"path":"request.verb","value":"DELETE"},{"path":"response.status","value":"^5"}],"sample_rate":100}]}
            """#
        let ingest = try ingest(config: config)
        defer { ingest.stop() }
        let metrics = try service(ingest) { config in
            config.eventFilter = .everything
            config.identifyConsumer = ConsumerIdentifier { request in
                request.headers["x-user"].map { Consumer(id: $0, company: request.headers["x-company"]) }
            }
        }
        let recorder = metrics.recorder
        for _ in 0..<50 {
            recordExchange(recorder, target: "/healthz")
            recordExchange(recorder, target: "/a", headers: ["X-User": "vip", "X-Company": "acme"])
            recordExchange(recorder, target: "/b", headers: ["X-User": "muted"])
            recordExchange(recorder, method: "DELETE", target: "/c", status: 503)
        }
        for _ in 0..<400 { recordExchange(recorder, target: "/d", headers: ["X-User": "other", "X-Company": "acme"]) }
        for _ in 0..<400 { recordExchange(recorder, target: "/e") }
        await metrics.shutdown(timeout: .seconds(30))
        let sent = events(ingest)
        func to(_ path: String) -> [[String: Any]] {
            sent.filter { ($0["request"] as? [String: Any])?["uri"] as? String == "http://localhost\(path)" }
        }
        #expect(to("/healthz").isEmpty)
        #expect(to("/a").count == 50 && to("/a").allSatisfy { $0["weight"] as? Int == 1 })
        // Moesif's SDKs send a user at rate 0 once in a while at weight 1;
        // here rate 0 means none, as the configuration says.
        #expect(to("/b").isEmpty)
        #expect(to("/c").count == 50)
        // 25 % of 400 and 50 % of 400: far enough from 0 and 400 that a fair draw cannot miss.
        #expect((50...150).contains(to("/d").count) && to("/d").allSatisfy { $0["weight"] as? Int == 4 })
        #expect((140...260).contains(to("/e").count) && to("/e").allSatisfy { $0["weight"] as? Int == 2 })
        let statistics = metrics.statistics
        #expect(statistics.exported + statistics.destinationLeftOut == 1000)
        #expect(statistics.exported == sent.count)
    }

    /// A new ETag on a batch's answer has the configuration read again.
    @Test func aChangedConfigETagHasTheConfigurationReadAgain() async throws {
        let ingest = try ingest(etag: { $0 >= 2 ? "e2" : "e1" })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let runner = Task { try await metrics.run() }
        recordExchange(metrics.recorder)
        #expect(await eventually { ingest.requests.count >= 2 })
        recordExchange(metrics.recorder)
        #expect(await eventually { ingest.requests.count >= 4 })
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        let order = ingest.requests.map { "\($0.method) \($0.target)" }
        #expect(
            order == [
                "GET /v1/config", "POST /v1/events/batch", "POST /v1/events/batch", "GET /v1/config", "POST /v1/events/batch",
            ])
    }

    @Test(arguments: [429, 500, 503])
    func aFailedUploadIsRetried(status: Int) async throws {
        let ingest = try ingest(status: { $0 == 1 ? status : 201 })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        #expect(ingest.requests.filter { $0.target == "/v1/events/batch" }.count == 2)
        #expect(metrics.statistics.exported == 1 && metrics.statistics.retried == 1)
    }

    @Test func aRefusedApplicationIDIsNotRetried() async throws {
        let ingest = try ingest(status: { _ in 401 })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        #expect(ingest.requests.filter { $0.target == "/v1/events/batch" }.count == 1)
        #expect(metrics.statistics.failed == 1)
    }

    /// When the configuration cannot be read everything is sent, as Moesif's SDKs do.
    @Test func anUnreadableConfigurationSendsEverything() async throws {
        let ingest = try TestCollector(answering: { _, request, _ in
            request == "GET /v1/config" ? .status(500) : .status(201)
        })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        for _ in 0..<20 { recordExchange(metrics.recorder) }
        await metrics.shutdown(timeout: .seconds(30))
        #expect(metrics.statistics.exported == 20 && metrics.statistics.destinationLeftOut == 0)
    }

    @Test func theEnvironmentTurnsItOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_MOESIF_APPLICATION_ID": "app-1", "APIMETRICS_MOESIF_BASE_URL": "http://127.0.0.1:9/",
            "APIMETRICS_VERSION": "3.0",
        ])
        #expect(config.exporters.map(\.summary).contains("moesif http://127.0.0.1:9/"))
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_MOESIF_BASE_URL": "http://127.0.0.1:9"])
        }
        let error = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment([
                "APIMETRICS_MOESIF_APPLICATION_ID": "app-1", "APIMETRICS_MOESIF_BASE_URL": "ftp://x",
            ])
        }
        #expect(error?.field == "APIMETRICS_MOESIF_BASE_URL")
    }

    /// The first event of the batch fixture in Moesif's Python SDK tests
    /// (`test_add_batched_events`), made here through the pipeline: every
    /// field the fixture holds has the fixture's value.
    @Test func moesifsBatchFixtureComesOutTheSame() async throws {
        let fixture = #"""
            {"metadata":{"foo":"bar"},
             "request":{"uri":"https://api.acmeinc.com/items/reviews/","verb":"PATCH","api_version":"1.1.0","ip_address":"61.48.220.123",
               "headers":{"Host":"api.acmeinc.com","Accept":"*/*","Connection":"Keep-Alive",
                 "User-Agent":"Dalvik/2.1.0 (Linux; U; Android 5.0.2; C6906 Build/14.5.A.0.242)","Content-Type":"application/json",
                 "Content-Length":"126","Accept-Encoding":"gzip"},
               "body":{"items":[{"direction_type":1,"discovery_id":"fwfrf","liked":false},{"direction_type":2,"discovery_id":"d43d3f","liked":true}]}},
             "response":{"status":500,
               "headers":{"Date":"Tue, 23 Aug 2016 23:46:49 GMT","Vary":"Accept-Encoding","Pragma":"no-cache","Expires":"-1",
                 "Content-Type":"application/json; charset=utf-8","X-Powered-By":"ARR/3.0","Cache-Control":"no-cache",
                 "Arr-Disable-Session-Affinity":"true"},
               "body":{"Error":"InvalidArgumentException","Message":"Missing field field_a"}},
             "user_id":"mndug437f43","session_token":"23jdf0owekfmcn4u3qypxg09w4d8ayrcdx8nu2ng]s98y18cx98q3yhwmnhcfx43f"}
            """#
        let expected = try #require(jsonObject(Array(fixture.utf8)))
        let request = try #require(expected["request"] as? [String: Any])
        let response = try #require(expected["response"] as? [String: Any])
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(ingest) { config in
            config.exporters = [
                .moesif(MoesifExporter.Options(applicationID: Self.applicationID, baseURL: ingest.baseURL, apiVersion: "1.1.0"))
            ]
            config.identifyConsumer = ConsumerIdentifier { _ in Consumer(id: "mndug437f43") }
            config.sessionToken = { _ in "23jdf0owekfmcn4u3qypxg09w4d8ayrcdx8nu2ng]s98y18cx98q3yhwmnhcfx43f" }
            config.metadata = { _, _ in ["foo": "bar"] }
        }
        var requestHeaders = HeaderFields()
        for (name, value) in (request["headers"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) {
            requestHeaders.append(name: name, value: value)
        }
        var responseHeaders = HeaderFields()
        for (name, value) in (response["headers"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) {
            responseHeaders.append(name: name, value: value)
        }
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: "PATCH", target: "https://api.acmeinc.com/items/reviews/", headers: requestHeaders,
                clientAddress: "61.48.220.123"))
        exchange.recordRequestBody(
            Array(
                #"{"items":[{"direction_type":1,"discovery_id":"fwfrf","liked":false},{"direction_type":2,"discovery_id":"d43d3f","liked":true}]}"#
                    .utf8))
        exchange.recordResponseHead(ResponseHead(status: 500, headers: responseHeaders))
        exchange.recordResponseBody(Array(#"{"Error":"InvalidArgumentException","Message":"Missing field field_a"}"#.utf8))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(30))
        let event = try #require(events(ingest).first)
        let sentRequest = try #require(event["request"] as? [String: Any])
        let sentResponse = try #require(event["response"] as? [String: Any])
        for key in ["uri", "verb", "api_version", "ip_address"] {
            #expect(sentRequest[key] as? String == request[key] as? String, "request.\(key)")
        }
        #expect(sentRequest["headers"] as? [String: String] == request["headers"] as? [String: String])
        #expect(
            NSDictionary(dictionary: sentRequest["body"] as? [String: Any] ?? [:]).isEqual(
                to: request["body"] as? [String: Any] ?? [:]))
        #expect(sentResponse["status"] as? Int == 500)
        // The default redaction hides every header whose name holds "session"; the rest is as sent.
        var responseHeaderValues = response["headers"] as? [String: String] ?? [:]
        responseHeaderValues["Arr-Disable-Session-Affinity"] = "[REDACTED]"
        #expect(sentResponse["headers"] as? [String: String] == responseHeaderValues)
        #expect(
            NSDictionary(dictionary: sentResponse["body"] as? [String: Any] ?? [:]).isEqual(
                to: response["body"] as? [String: Any] ?? [:]))
        #expect(event["user_id"] as? String == "mndug437f43")
        #expect(event["session_token"] as? String == expected["session_token"] as? String)
        #expect(event["metadata"] as? [String: String] == ["foo": "bar"])
    }

    @Test func theTimeFormatIsMoesifs() {
        #expect(MoesifEncoding.time(0) == "1970-01-01T00:00:00.000")
        #expect(MoesifEncoding.time(1_795_255_200_123_456_789) == "2026-11-21T10:00:00.123")
    }

    @Test func weightsFollowTheSDKs() {
        #expect(MoesifSampling.weight(atRate: 100) == 1)
        #expect(MoesifSampling.weight(atRate: 50) == 2)
        #expect(MoesifSampling.weight(atRate: 30) == 3)
        #expect(MoesifSampling.weight(atRate: 0) == 1)
    }
}
