@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing

struct UpstreamTimeout: Error, CustomStringConvertible {
    var description: String { "upstream timed out" }
}

@Suite("Alerts: delivery")
struct AlertDeliveryTests {
    /// RFC 4231's test cases 1, 2, 3, 6 and 7 (keys of 20 bytes, 4 bytes, 20 bytes, and 131 bytes, hashed first).
    @Test(arguments: [
        (
            [UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        (
            Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            [UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        (
            [UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            [UInt8](repeating: 0xAA, count: 131),
            Array(
                "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                    .utf8),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func hmacMatchesRFC4231(key: [UInt8], message: [UInt8], expected: String) {
        #expect(HMACSHA256.hex(key: key, message: message) == expected)
    }

    @Test func theWebhookGetsOneSignedFiringAndOneResolvedAndTheSecretIsNeverShown() async throws {
        let receiver = try TestCollector()
        defer { receiver.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let secret = "whsec-\(UInt64.random(in: 1 ... .max))-test"
        var config = storeConfiguration(directory.file("apimetrics.sqlite"))
        config.identifyConsumer = nil
        config.exporters.append(.alertWebhook(url: receiver.url, secret: secret))
        config.alerts.rules = [AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 5), window: .seconds(1))]
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let background = Task { try await metrics.run() }
        // The states an earlier run left come first: windows cut before them move no alert.
        #expect(await eventually { !metrics.isLoadingAlerts })
        func calls(status: Int) {
            for n in 0..<10 {
                let exchange = metrics.recorder.begin(
                    RequestHead(method: "GET", target: "/fail/\(n)", headers: ["Host": "127.0.0.1"], route: "/fail/:n"))
                exchange.recordResponseHead(ResponseHead(status: status))
                exchange.finish()
            }
        }
        calls(status: 500)
        #expect(await clock.run { receiver.requests.count >= 1 })
        func firingRows() -> String {
            (try? sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM alert_states WHERE firing = 1"))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        // The store writes what changed: the firing alert's row, then its removal once resolved.
        #expect(await eventually(timeout: .seconds(10)) { firingRows() == "1" })
        // Still failing: the alert fires once, not once a window.
        calls(status: 500)
        await clock.run(for: .milliseconds(2_500))
        #expect(receiver.requests.count == 1)
        for _ in 0..<3 { calls(status: 200) }
        #expect(await clock.run { receiver.requests.count >= 2 })
        _ = await clock.shutdown(metrics, timeout: .seconds(10))
        background.cancel()

        let requests = receiver.requests
        #expect(requests.count == 2)
        var states: [String] = []
        for request in requests {
            let body = try #require(jsonObject(request.body))
            states.append(body["state"] as? String ?? "")
            #expect(body["rule"] as? String == "errors")
            #expect(body["scope"] as? String == "all")
            #expect(body["threshold"] as? Double == 0.05)
            #expect(body["type"] as? String == "apimetrics.alert")
            #expect((body["id"] as? String)?.count == 32)
            // The receiver's check: the HMAC of "timestamp.body" under the secret.
            let timestamp = try #require(request.header("APIMetrics-Timestamp"))
            let signature = try #require(request.header("APIMetrics-Signature"))
            #expect(
                signature == "v1="
                    + HMACSHA256.hex(key: Array(secret.utf8), message: Array(timestamp.utf8) + [0x2E] + request.rawBody))
            #expect(
                signature != "v1="
                    + HMACSHA256.hex(
                        key: Array("another-secret-16b".utf8), message: Array(timestamp.utf8) + [0x2E] + request.rawBody))
            #expect(abs((Int64(timestamp) ?? 0) - Int64(Date().timeIntervalSince1970)) < 120)
        }
        #expect(states == ["firing", "resolved"])
        #expect(firingRows() == "0")
        #expect(!AlertWebhookExporter(options: .init(url: receiver.url, secret: secret)).name.contains(secret))
    }

    @Test func aRestartNeitherRepeatsNorLosesAFiringAlert() async throws {
        let receiver = try TestCollector()
        defer { receiver.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Each run on a clock of its own, the first from an hour ago and the next
        // after it (the states a run restores are from before the real now).
        var wall = CaptureClock.wallNanoseconds() - 3_600_000_000_000
        func run(_ body: (APIMetricsService, TestClock) async -> Void) async throws {
            var config = storeConfiguration(directory.file("apimetrics.sqlite"))
            config.identifyConsumer = nil
            config.exporters.append(.alertWebhook(url: receiver.url))
            config.alerts.rules = [
                AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 5), window: .seconds(1)),
                AlertRule("new errors", when: .newServerErrorGroup, window: .seconds(600)),
            ]
            let clock = TestClock(wallOrigin: wall)
            let metrics = try APIMetricsService(configuration: config, clock: clock)
            let background = Task { try await metrics.run() }
            // The states an earlier run left come first: windows cut before them move no alert.
            #expect(await eventually { !metrics.isLoadingAlerts })
            await body(metrics, clock)
            _ = await clock.shutdown(metrics, timeout: .seconds(10))
            background.cancel()
            wall = clock.wallNow() + 1_000_000_000
        }
        func calls(_ metrics: APIMetricsService, status: Int) {
            for n in 0..<10 {
                let exchange = metrics.recorder.begin(
                    RequestHead(method: "GET", target: "/fail/\(n)", headers: ["Host": "127.0.0.1"], route: "/fail/:n"))
                if status >= 500 { exchange.reportError(UpstreamTimeout()) }
                exchange.recordResponseHead(ResponseHead(status: status))
                exchange.finish()
            }
        }
        func told() -> [String] {
            receiver.requests.compactMap { jsonObject($0.body) }.map {
                "\($0["state"] as? String ?? "") \($0["rule"] as? String ?? "")"
            }
        }
        try await run { metrics, clock in
            calls(metrics, status: 500)
            _ = await clock.run { told().count >= 2 }
        }
        #expect(told().sorted() == ["firing errors", "firing new errors"])
        // The second run: still failing (the same error), then well again.
        try await run { metrics, clock in
            for _ in 0..<3 {
                calls(metrics, status: 500)
                await clock.run(for: .milliseconds(1_100))
            }
            for _ in 0..<3 { calls(metrics, status: 200) }
            _ = await clock.run { told().count >= 3 }
        }
        #expect(told().sorted() == ["firing errors", "firing new errors", "resolved errors"])
        let history = try sqlite3(
            directory.file("apimetrics.sqlite"), "SELECT state || ' ' || rule FROM alert_events ORDER BY id")
        #expect(
            history.split(separator: "\n").map(String.init).sorted() == ["firing errors", "firing new errors", "resolved errors"])
        #expect(
            try sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM alert_states WHERE firing = 1")
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        // A run without rules forgets the states (nothing shows as firing for ever) and keeps the history.
        var config = storeConfiguration(directory.file("apimetrics.sqlite"))
        config.identifyConsumer = nil
        let quiet = try APIMetricsService(configuration: config)
        let background = Task { try await quiet.run() }
        // The states an earlier run left come first: windows cut before them move no alert.
        #expect(await eventually { !quiet.isLoadingAlerts })
        _ = await quiet.shutdown(timeout: .seconds(10))
        background.cancel()
        #expect(
            try sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM alert_states").trimmingCharacters(
                in: .whitespacesAndNewlines) == "0")
        #expect(
            try sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM alert_events").trimmingCharacters(
                in: .whitespacesAndNewlines) == "3")
    }

    /// The webhook is down past the retry budget, across a restart: the
    /// transitions wait in the spool and arrive once it is back, in order,
    /// each once, with the ids they had; nothing is counted lost.
    @Test func transitionsAWebhookDidNotTakeWaitInTheSpool() async throws {
        let isDown = Atomic<Bool>(true)
        let receiver = try TestCollector { _ in isDown.load(ordering: .relaxed) ? .status(503) : .status(200) }
        defer { receiver.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func configuration() -> APIMetricsConfiguration {
            var config = storeConfiguration(directory.file("apimetrics.sqlite"))
            config.identifyConsumer = nil
            config.exporters.append(.alertWebhook(url: receiver.url))
            config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), jitter: 0)
            config.spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
            config.alerts.rules = [AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 5), window: .seconds(1))]
            return config
        }
        func calls(_ metrics: APIMetricsService, status: Int) {
            for n in 0..<10 {
                let exchange = metrics.recorder.begin(
                    RequestHead(method: "GET", target: "/fail/\(n)", headers: ["Host": "127.0.0.1"], route: "/fail/:n"))
                exchange.recordResponseHead(ResponseHead(status: status))
                exchange.finish()
            }
        }
        func told(_ state: String) throws -> Bool {
            try sqlite3(directory.file("apimetrics.sqlite"), "SELECT count(*) FROM alert_events WHERE state = '\(state)'")
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        // The first process, in a scope of its own (it holds the spool's lock while it lives).
        var refusedIDs = Set<String>()
        do {
            let clock = TestClock()
            let first = try APIMetricsService(configuration: configuration(), clock: clock)
            let firstRun = Task { try await first.run() }
            // The states an earlier run left come first: windows cut before them move no alert.
            #expect(await eventually { !first.isLoadingAlerts })
            calls(first, status: 500)
            #expect(await clock.run { receiver.requests.count >= 2 })
            calls(first, status: 200)
            #expect(await clock.run { (try? told("resolved")) == true })
            let report = await clock.shutdown(first, timeout: .seconds(10))
            try await firstRun.value
            #expect(receiver.requests.allSatisfy { !$0.isAccepted })
            #expect(report.statistics.alertsLost == 0, "\(report.statistics)")
            refusedIDs = Set(receiver.requests.compactMap { jsonObject($0.body)?["id"] as? String })
            #expect(!refusedIDs.isEmpty)
        }

        // Back up, and a new process: the spool delivers what waited.
        isDown.store(false, ordering: .relaxed)
        let clock = TestClock()
        let second = try APIMetricsService(configuration: configuration(), clock: clock)
        let secondRun = Task { try await second.run() }
        // The states an earlier run left come first: windows cut before them move no alert.
        #expect(await eventually { !second.isLoadingAlerts })
        #expect(await clock.run { receiver.requests.filter(\.isAccepted).count >= 2 })
        await clock.run(for: .milliseconds(1_500))
        let secondReport = await clock.shutdown(second, timeout: .seconds(10))
        secondRun.cancel()
        let accepted = receiver.requests.filter(\.isAccepted).compactMap { jsonObject($0.body) }
        #expect(accepted.map { $0["state"] as? String ?? "" } == ["firing", "resolved"])
        // Those tried before are sent with the ids they had.
        #expect(refusedIDs.isSubset(of: Set(accepted.compactMap { $0["id"] as? String })))
        #expect(secondReport.statistics.alertsLost == 0 && secondReport.statistics.spoolPending == 0)
    }

    /// Without a spool, a transition the webhook never took is counted lost
    /// and named in the diagnostics.
    @Test func transitionsAWebhookDidNotTakeWithoutASpoolAreCountedLost() async throws {
        let receiver = try TestCollector { _ in .status(503) }
        defer { receiver.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let lines = Mutex<[String]>([])
        var config = storeConfiguration(directory.file("apimetrics.sqlite"))
        config.identifyConsumer = nil
        config.exporters.append(.alertWebhook(url: receiver.url))
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), jitter: 0)
        config.diagnostics = .custom(minimumLevel: .warning) { message in lines.withLock { $0.append(message.text) } }
        config.alerts.rules = [AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 5), window: .seconds(1))]
        let clock = TestClock()
        let metrics = try APIMetricsService(configuration: config, clock: clock)
        let background = Task { try await metrics.run() }
        // The states an earlier run left come first: windows cut before them move no alert.
        #expect(await eventually { !metrics.isLoadingAlerts })
        for n in 0..<10 {
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/fail/\(n)", route: "/fail/:n"))
            exchange.recordResponseHead(ResponseHead(status: 500))
            exchange.finish()
        }
        #expect(await clock.run { metrics.statistics.alertsLost == 1 }, "\(metrics.statistics)")
        _ = await clock.shutdown(metrics, timeout: .seconds(10))
        background.cancel()
        #expect(lines.withLock { $0 }.contains { $0.contains("lost 1 alert transition(s) (firing errors)") })
    }

    @Test func aSlackWebhookGetsTextAndItsURLIsASecret() throws {
        let event = AlertEvent(
            rule: "p99 above 1 s", state: .firing, value: 1.4, threshold: 1, scope: "all", instance: "",
            timeNanoseconds: 0, firingSinceNanoseconds: 0, isRepeat: false, summary: "p99 1.4 s over 5m (40 calls), threshold 1 s"
        )
        let body = try #require(
            jsonObject(
                AlertWebhookExporter.body(
                    event, format: .slack, identity: ServiceIdentity(service: "orders", environment: "production"))))
        #expect(
            body["text"] as? String
                == ":rotating_light: *FIRING* p99 above 1 s on orders (production): p99 1.4 s over 5m (40 calls), threshold 1 s")
        var hostile = event
        hostile.summary = "new server error: <!channel> <https://evil.example|Open the runbook> & more"
        let escaped = try #require(
            jsonObject(
                AlertWebhookExporter.body(
                    hostile, format: .slack, identity: ServiceIdentity(service: "orders", environment: "production"))))
        #expect(
            (escaped["text"] as? String)?.contains("&lt;!channel&gt; &lt;https://evil.example|Open the runbook&gt; &amp; more")
                == true)
        #expect(
            AlertWebhookExporter(options: .init(url: "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX", format: .slack))
                .name == "slack(hooks.slack.com)")
        var config = APIMetricsConfiguration.default
        config.exporters = [.alertWebhook(url: "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX", format: .slack)]
        let secrets = ConfiguredSecrets(configuration: config)
        #expect(
            !secrets.scrub("failed to reach https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX").contains("XXXXSECRETXXXX")
        )
        #expect(throws: ConfigurationError.self) {
            var wrong = APIMetricsConfiguration.default
            wrong.exporters.append(.alertWebhook(url: "https://example.com/hook", secret: "short"))
            try wrong.validate()
        }
    }
}
