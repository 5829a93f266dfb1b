@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Testing

@Suite("Metrics view")
struct MetricsViewTests {
    private func service(_ view: LocalViewOptions) throws -> APIMetricsService {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.view = view
        return try APIMetricsService(configuration: config)
    }

    private func record(_ metrics: APIMetricsService, route: String, status: Int, milliseconds: Int64, method: String = "GET") {
        metrics.recorder.recordShedCall(
            CallSummary(
                method: method, route: route, status: status, durationNanoseconds: milliseconds * 1_000_000,
                requestBodyBytes: 100, responseBodyBytes: 3_000))
    }

    /// A request from this machine, as a browser or a scraper on it sends it.
    private func local(_ method: String, _ target: String) -> ServerRequest {
        ServerRequest(method: method, target: target, headers: ["Host": "localhost:8080"], clientAddress: "127.0.0.1")
    }

    /// The exposition's samples: `name{labels}` → value.
    private func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    @Test func thePrometheusExpositionIsCumulativeAndWellFormed() throws {
        let metrics = try service(.init(isPrometheusEnabled: true))
        for n in 0..<10 { record(metrics, route: "/orders/{id}", status: 200, milliseconds: Int64(n * 30)) }
        record(metrics, route: "/a\"b\\c\nd", status: 500, milliseconds: 20_000)
        _ = metrics.aggregator.cutWindow()
        record(metrics, route: "/orders/{id}", status: 200, milliseconds: 1)
        let answer = try #require(metrics.view.response(to: local("GET", "/metrics")))
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == PrometheusExposition.contentType)
        let text = String(decoding: answer.body, as: UTF8.self)
        let values = samples(text)
        let labels = #"method="GET",route="/orders/{id}",status="200""#
        // 11 calls: the window cut and the one after it, summed.
        #expect(values["http_server_request_duration_seconds_count{\(labels)}"] == "11")
        #expect(values["http_server_request_duration_seconds_bucket{\(labels),le=\"+Inf\"}"] == "11")
        // 0, 1 (the last call) ≤ 5 ms; 0, 30, 60, 90 ms ≤ 100 ms …
        #expect(values["http_server_request_duration_seconds_bucket{\(labels),le=\"0.005\"}"] == "2")
        #expect(values["http_server_request_duration_seconds_bucket{\(labels),le=\"0.1\"}"] == "5")
        #expect(values["http_server_request_duration_seconds_bucket{\(labels),le=\"0.25\"}"] == "10")
        #expect(values["http_server_response_body_size_bytes_sum{\(labels)}"] == "33000")
        #expect(values["http_server_request_body_size_bytes_bucket{\(labels),le=\"256\"}"] == "11")
        #expect(values["http_server_request_body_size_bytes_bucket{\(labels),le=\"64\"}"] == "0")
        // Label values escape quote, backslash and line feed.
        let odd = #"method="GET",route="/a\"b\\c\nd",status="500""#
        #expect(values["http_server_request_duration_seconds_bucket{\(odd),le=\"10\"}"] == "0")
        #expect(values["http_server_request_duration_seconds_count{\(odd)}"] == "1")
        #expect(values["apimetrics_events_dropped_total{reason=\"shed\"}"] == "12")
        // Every family is introduced once, before its samples.
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(Set(types).count == types.count)
        // Buckets never decrease.
        for family in ["http_server_request_duration_seconds", "http_server_response_body_size_bytes"] {
            let counts = text.split(separator: "\n").filter { $0.hasPrefix(family + "_bucket{" + labels) }.compactMap {
                Int($0.split(separator: " ").last ?? "")
            }
            #expect(counts == counts.sorted() && !counts.isEmpty)
        }
        // The dashboard is off: its paths are not the view's.
        #expect(metrics.view.response(to: local("GET", "/_apimetrics")) == nil)
        #expect(metrics.view.response(to: local("GET", "/orders")) == nil)
    }

    @Test func theJSONHasTheEndpointsAndConsumersItPromises() throws {
        let metrics = try service(.init(isDashboardEnabled: true))
        for n in 1...100 {
            record(metrics, route: "/orders/{id}", status: n <= 90 ? 200 : (n <= 95 ? 404 : 503), milliseconds: Int64(n))
        }
        record(metrics, route: "/orders", status: 201, milliseconds: 5, method: "POST")
        let answer = try #require(metrics.view.response(to: local("GET", "/_apimetrics/api")))
        let json = try #require(jsonObject(answer.body))
        let endpoints = try #require(json["endpoints"] as? [[String: Any]])
        let orders = try #require(endpoints.first)
        #expect(orders["method"] as? String == "GET" && orders["route"] as? String == "/orders/{id}")
        #expect(orders["requests"] as? Int == 100 && orders["client_errors"] as? Int == 5 && orders["server_errors"] as? Int == 5)
        // Durations 1…100 ms: p50 50 ms, p95 95 ms, p99 99 ms, each within 1%.
        for (key, expected) in [("p50_ms", 50.0), ("p95_ms", 95.0), ("p99_ms", 99.0)] {
            let value = try #require(orders[key] as? Double)
            #expect(abs(value - expected) / expected <= 0.01, "\(key) \(value)")
        }
        #expect((orders["statuses"] as? [String: Int]) == ["200": 90, "404": 5, "503": 5])
        #expect(endpoints.count == 2)
        #expect(json["consumers"] is [Any] && json["requests"] as? Int == 101)
        #expect((json["pipeline"] as? [String: Any])?["dropped_shed"] as? Int == 101)
    }

    @Test func theDashboardIsOnePageWithNothingToFetchAndEverythingEscaped() throws {
        let metrics = try service(.init(isDashboardEnabled: true))
        record(metrics, route: "/<script>alert(1)</script>", status: 200, milliseconds: 3)
        _ = metrics.aggregator.cutWindow()
        let answer = try #require(metrics.view.response(to: local("GET", "/_apimetrics")))
        #expect(answer.headers["content-type"] == Dashboard.contentType)
        let html = String(decoding: answer.body, as: UTF8.self)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("src=") && !html.contains("@import") && !html.contains("url("))
        // The one link is the icon, inline, so that a browser asks for no /favicon.ico.
        #expect(html.components(separatedBy: "<link").count == 2 && html.contains(#"<link rel="icon" href="data:,">"#))
        #expect(html.contains("<svg") && html.contains("<rect"))
        #expect(metrics.view.response(to: local("HEAD", "/_apimetrics"))?.body.isEmpty == true)
        #expect(metrics.view.response(to: local("POST", "/_apimetrics"))?.status == 405)
    }

    /// Every field the page shows from a client or a server, hostile: a
    /// consumer's id and name, an error's type, message and location, a
    /// validation error's field, type and message, a target and a route.
    /// None reaches the page as markup.
    @Test func everyFieldOfTheDashboardIsEscaped() throws {
        let metrics = try service(.init(isDashboardEnabled: true))
        let hostile = [#"<script>alert(1)</script>"#, #""><img src=x onerror=alert(2)>"#, #"'><svg onload=alert(3)>"#]
        var records: [ExchangeRecord] = []
        for (n, text) in hostile.enumerated() {
            var call = ExchangeRecord(
                id: EventID(high: UInt64(n), low: 1), direction: .incoming, startTimeNanoseconds: CaptureClock.wallNanoseconds(),
                durationNanoseconds: 1_000_000, request: RequestHead(method: "POST", target: "/t?q=\(text)", route: "/r/\(text)"),
                response: ResponseHead(status: n == 0 ? 500 : 422))
            call.consumer = Consumer(id: "c-\(text)", name: "n-\(text)")
            call.errors = [RecordedError(type: "T\(text)", message: "m\(text)", location: "l\(text)")]
            records.append(call)
            record(metrics, route: "/r/\(text)", status: n == 0 ? 500 : 422, milliseconds: 1)
        }
        metrics.aggregator.attribute(records) { record in
            [
                ValidationProblem(
                    field: "f\(record.request.target)", type: "t\(record.request.target)", message: "m\(record.request.target)")
            ]
        }
        _ = metrics.aggregator.cutWindow()
        let answer = try #require(metrics.view.response(to: local("GET", "/_apimetrics")))
        let html = String(decoding: answer.body, as: UTF8.self).lowercased()
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<svg onload"))
        // Shown, escaped: the route, the consumer's id, the server error's message.
        for shown in [
            "/r/&lt;script&gt;alert(1)&lt;/script&gt;", "c-&lt;script&gt;alert(1)&lt;/script&gt;",
            "m&lt;script&gt;alert(1)&lt;/script&gt;",
        ] {
            #expect(html.contains(shown), "\(shown)")
        }
    }

    @Test func aBearerTokenGuardsEveryPath() throws {
        let metrics = try service(.init(isDashboardEnabled: true, isPrometheusEnabled: true, bearerToken: "s3cret"))
        for path in ["/metrics", "/_apimetrics", "/_apimetrics/api"] {
            #expect(metrics.view.response(to: ServerRequest(method: "GET", target: path))?.status == 401)
            #expect(
                metrics.view.response(to: ServerRequest(method: "GET", target: path, headers: ["Authorization": "Bearer wrong"]))?
                    .status == 401)
            #expect(
                metrics.view.response(to: ServerRequest(method: "GET", target: path, headers: ["Authorization": "Bearer s3cre"]))?
                    .status == 401)
            #expect(
                metrics.view.response(
                    to: ServerRequest(method: "GET", target: path, headers: ["Authorization": "bearer s3cret"]))?.status == 200)
            #expect(metrics.view.response(to: ServerRequest(method: "GET", target: path + "?token=s3cret"))?.status == 200)
        }
        #expect(throws: ConfigurationError.self) { try service(.init(isDashboardEnabled: true, bearerToken: "two words")) }
        #expect(throws: ConfigurationError.self) { try service(.init(isDashboardEnabled: true, address: "nowhere")) }
    }

    @Test func theOwnListenerServesTheViewOnARealSocket() async throws {
        let metrics = try service(.init(isPrometheusEnabled: true, address: "127.0.0.1:0"))
        let port = try #require(metrics.viewPort)
        record(metrics, route: "/x", status: 200, milliseconds: 2)
        let answer = try await RawClient.exchange(
            port: port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.contains(#"http_server_request_duration_seconds_count{method="GET",route="/x",status="200"} 1"#))
        let missing = try await RawClient.exchange(
            port: port, "GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404"))
        await metrics.shutdown(timeout: .seconds(10))
        // Stopped with the service.
        await #expect(throws: (any Error).self) { _ = try await RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n") }
    }

    @Test func environmentVariablesTurnTheViewOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_DASHBOARD": "1", "APIMETRICS_PROMETHEUS": "true", "APIMETRICS_METRICS_ADDR": "127.0.0.1:9465",
            "APIMETRICS_DASHBOARD_TOKEN": "t", "APIMETRICS_METRICS_INTERVAL_S": "15",
        ])
        #expect(
            config.view
                == LocalViewOptions(
                    isDashboardEnabled: true, isPrometheusEnabled: true, address: "127.0.0.1:9465", bearerToken: "t"))
        #expect(config.metrics.interval == .seconds(15))
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_METRICS_ADDR": "9465"])
        }
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_METRICS_INTERVAL_S": "0"])
        }
    }
}
