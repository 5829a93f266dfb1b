@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Synchronization
import Testing

/// The view's defaults in front of a hostile network: authentication on the
/// head, loopback only without a token, security headers on every answer.
@Suite("View security")
struct ViewSecurityTests {
    private func service(_ view: LocalViewOptions) throws -> APIMetricsService {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.view = view
        return try APIMetricsService(configuration: config)
    }

    private func status(_ metrics: APIMetricsService, host: String?, peer: String?, token: String? = nil) -> Int? {
        var headers = HeaderFields()
        if let host { headers.append(name: "Host", value: host) }
        if let token { headers.append(name: "Authorization", value: "Bearer \(token)") }
        return metrics.view.response(method: "GET", target: "/metrics", headers: headers, peerAddress: peer)?.status
    }

    @Test func withoutATokenOnlyALoopbackPeerNamingALoopbackHostIsAnswered() throws {
        let metrics = try service(.init(isDashboardEnabled: true, isPrometheusEnabled: true))
        for host in [
            "localhost", "localhost:8080", "LOCALHOST", "127.0.0.1", "127.0.0.1:9465", "127.1.2.3", "[::1]", "[::1]:9465",
        ] {
            for peer in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.9"] {
                #expect(status(metrics, host: host, peer: peer) == 200, "\(host) from \(peer)")
            }
        }
        // Another machine, whatever Host it names.
        for peer in [
            "10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "128.0.0.1", "1270.0.0.1", "127.0.0", "", "unknown",
        ] {
            #expect(status(metrics, host: "localhost", peer: peer) == 403, "peer \(peer)")
        }
        #expect(status(metrics, host: "localhost", peer: nil) == 403)
        // A page on another site reaching loopback through DNS rebinding names its own host.
        for host in [
            "evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.evil.example", "[::1]x",
            "127.0.0.1:80@evil", "localhost:80x", "[::2]", "0.0.0.0", "", " ",
        ] {
            #expect(status(metrics, host: host, peer: "127.0.0.1") == 403, "host \(host)")
        }
        #expect(status(metrics, host: nil, peer: "127.0.0.1") == 403)
        let refusal = try #require(
            metrics.view.response(
                method: "GET", target: "/_apimetrics", headers: ["Host": "evil.example"], peerAddress: "127.0.0.1"))
        #expect(String(decoding: refusal.body, as: UTF8.self).contains("APIMETRICS_DASHBOARD_TOKEN"))
        // With a token, the token decides, wherever the call comes from.
        let guarded = try service(.init(isPrometheusEnabled: true, bearerToken: "s3cret"))
        #expect(status(guarded, host: "metrics.example", peer: "10.0.0.5", token: "s3cret") == 200)
        #expect(status(guarded, host: "localhost", peer: "127.0.0.1") == 401)
    }

    @Test func withoutATokenARequestAProxyPassedOnIsRefused() throws {
        let metrics = try service(.init(isPrometheusEnabled: true))
        func status(_ headers: HeaderFields) -> Int? {
            metrics.view.response(method: "GET", target: "/metrics", headers: headers, peerAddress: "127.0.0.1")?.status
        }
        #expect(status(["Host": "127.0.0.1:8080"]) == 200)
        // nginx by default passes Host as the upstream's address; Apache adds X-Forwarded-*.
        for field in ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Via"] {
            #expect(status(["Host": "127.0.0.1:8080", field: "203.0.113.9"]) == 403, "\(field)")
        }
        // Two Hosts, one of them elsewhere: refused.
        #expect(status(HeaderFields([("Host", "localhost"), ("Host", "evil.example")])) == 403)
        #expect(status(HeaderFields([("Host", "localhost"), (":authority", "evil.example")])) == 403)
    }

    @Test func everyAnswerCarriesTheSecurityHeaders() throws {
        let metrics = try service(.init(isDashboardEnabled: true, isPrometheusEnabled: true, bearerToken: "s3cret"))
        let answers = [
            metrics.view.response(
                method: "GET", target: "/_apimetrics", headers: ["Authorization": "Bearer s3cret", "Host": "x"],
                peerAddress: "10.1.1.1"),
            metrics.view.response(method: "GET", target: "/metrics", headers: ["Host": "x"], peerAddress: "10.1.1.1"),
            metrics.view.response(
                method: "POST", target: "/_apimetrics/api", headers: ["Authorization": "Bearer s3cret", "Host": "x"],
                peerAddress: nil),
        ].compactMap { $0 }
        #expect(answers.map(\.status) == [200, 401, 405])
        for answer in answers {
            let policy = answer.headers["content-security-policy"] ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("script-src"))
            #expect(answer.headers["x-content-type-options"] == "nosniff")
            #expect(answer.headers["referrer-policy"] == "no-referrer")
            #expect(answer.headers["cache-control"] == "no-store")
        }
        // The page's one style element is the one the policy allows by hash.
        let html = String(decoding: answers[0].body, as: UTF8.self)
        let style = try #require(
            html.components(separatedBy: "<style>").dropFirst().first?.components(separatedBy: "</style>").first)
        #expect(style == Dashboard.style)
        #expect(html.components(separatedBy: "<style").count == 2 && !html.contains("style=\""))
        let hash = "'sha256-" + Base64.encode(SHA256.hash(Array(style.utf8))) + "'"
        #expect(answers[0].headers["content-security-policy"]?.contains("style-src \(hash)") == true)
    }

    @Test func aBlankTokenIsAnErrorNotAnOpenView() throws {
        for blank in ["", " ", "\t", "  \n"] {
            do {
                _ = try APIMetricsConfiguration.fromEnvironment([
                    "APIMETRICS_DASHBOARD": "1", "APIMETRICS_DASHBOARD_TOKEN": blank,
                ])
                Issue.record("a blank token (\(blank.debugDescription)) was taken as no token")
            } catch {
                #expect(error.field == "APIMETRICS_DASHBOARD_TOKEN" && error.reason.contains("blank"))
            }
        }
        for blank in ["", "   ", "a b"] {
            #expect(throws: ConfigurationError.self) { try service(.init(isDashboardEnabled: true, bearerToken: blank)) }
        }
    }

    @Test func theListenersConnectionLimitIsConfigurable() async throws {
        let config = try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_METRICS_MAX_CONNECTIONS": "2"])
        #expect(config.view.maxConnections == 2)
        #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment(["APIMETRICS_METRICS_MAX_CONNECTIONS": "0"])
        }
        let metrics = try service(
            .init(isPrometheusEnabled: true, address: "127.0.0.1:0", bearerToken: "s3cret", maxConnections: 2))
        defer { Task { await metrics.shutdown(timeout: .seconds(5)) } }
        let port = try #require(metrics.viewPort)
        let held = try [RawClient(port: port), RawClient(port: port)]
        defer { for client in held { client.close() } }
        usleep(200_000)
        let third = try RawClient(port: port)
        defer { third.close() }
        #expect(third.waitForClose(timeout: .seconds(10)))
    }

    /// With a token, only that token opens the view: an empty one, a
    /// prefix, a longer one, another case, in the header or the query, are
    /// all refused.
    @Test func onlyTheExactTokenOpensTheView() throws {
        let metrics = try service(.init(isPrometheusEnabled: true, bearerToken: "s3cret-token"))
        func status(_ target: String, _ authorization: String? = nil) -> Int? {
            var headers: HeaderFields = ["Host": "metrics.example.com"]
            if let authorization { headers.append(name: "Authorization", value: authorization) }
            return metrics.view.response(method: "GET", target: target, headers: headers, peerAddress: "10.1.1.1")?.status
        }
        #expect(status("/metrics?token=s3cret-token") == 200)
        #expect(status("/metrics", "Bearer s3cret-token") == 200)
        for wrong in ["", "s3cret", "s3cret-token2", "S3CRET-TOKEN", "s3cret-tokeN"] {
            #expect(status("/metrics?token=\(wrong)") == 401, "?token=\(wrong)")
            #expect(status("/metrics", "Bearer \(wrong)") == 401, "Bearer \(wrong)")
        }
        // In the query, spaces are part of what was offered (a header's own are not: HTTP trims them).
        for wrong in ["%20s3cret-token", "s3cret-token%20", "s3cret&token=s3cret-token"] {
            #expect(status("/metrics?token=\(wrong)") == 401, "?token=\(wrong)")
        }
        #expect(status("/metrics?token") == 401)
        #expect(status("/metrics", "Bearer") == 401)
        #expect(status("/metrics", "Basic czNjcmV0LXRva2Vu") == 401)
    }

    /// One info line at start: what is recorded, where calls go, where the
    /// view is and who it answers; a warning for what is on without protection.
    @Test func startupSaysWhereCallsGoAndTheViewIsLoopbackOnlyWithoutAToken() throws {
        let messages = Mutex<[Diagnostics.Message]>([])
        var config = testConfiguration([
            .custom(CollectingExporter()), .http(endpoint: "http://collector.example.com:8080/v1/events"),
        ])
        config.view = .init(isDashboardEnabled: true)
        config.diagnostics = .custom(minimumLevel: .info) { message in messages.withLock { $0.append(message) } }
        _ = try APIMetricsService(configuration: config)
        let said = messages.withLock { $0 }
        let info = said.filter { $0.level == .info }.map(\.text)
        #expect(info.count == 1)
        #expect(info.first?.contains("recording test-service (test)") == true)
        #expect(info.first?.contains("http http://collector.example.com:8080") == true)
        #expect(info.first?.contains("dashboard /_apimetrics") == true)
        #expect(info.contains { $0.contains("this machine only") && $0.contains("APIMETRICS_DASHBOARD_TOKEN") })
        #expect(said.contains { $0.level == .warning && $0.text.contains("plain HTTP to another machine") })
        // A loopback collector is no warning; off is one line saying so.
        #expect(
            !StartupLine.isPlainRemote("http http://127.0.0.1:4318/v1/traces")
                && StartupLine.isPlainRemote("otlp protobuf (traces http://10.0.0.2:4318/v1/traces)"))
        var off = testConfiguration([])
        off.isEnabled = false
        #expect(
            StartupLine.messages(off, viewPort: nil).map(\.1) == [
                "recording is off (APIMETRICS_DISABLED or isEnabled): calls pass through unrecorded"
            ])
    }

    @Test func theListenerRefusesOnTheHeadWithoutReadingTheBody() async throws {
        let metrics = try service(.init(isPrometheusEnabled: true, address: "127.0.0.1:0", bearerToken: "s3cret"))
        defer { Task { await metrics.shutdown(timeout: .seconds(5)) } }
        let port = try #require(metrics.viewPort)
        let client = try RawClient(port: port)
        defer { client.close() }
        // 16 MiB announced and never sent: the 401 comes at once, no 100 Continue.
        client.send(
            "POST /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 16777216\r\nExpect: 100-continue\r\n\r\n"
        )
        let answer = client.read()
        #expect(answer.hasPrefix("HTTP/1.1 401"))
        #expect(!answer.contains("100 Continue"))
        #expect(answer.contains("Content-Security-Policy:") && answer.contains("X-Content-Type-Options: nosniff"))
        // Authorised, a body-carrying method is still not the view's.
        let post = try await RawClient.exchange(
            port: port, "POST /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 1000000\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405"))
        let missing = try await RawClient.exchange(port: port, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404") && missing.contains("X-Frame-Options: DENY"))
    }
}
