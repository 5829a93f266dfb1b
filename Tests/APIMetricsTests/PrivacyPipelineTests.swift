import Foundation
import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics

@Suite("Privacy through the pipeline")
struct PrivacyPipelineTests {
    private func run(
        _ configure: (inout APIMetricsConfiguration) -> Void,
        record: (APIMetricsService) -> Void
    ) async throws -> (CollectingExporter, ShutdownReport) {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        configure(&config)
        let metrics = try APIMetricsService(configuration: config)
        record(metrics)
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(report.unsent == 0)
        return (exporter, report)
    }

    @Test func excludedPathsAndHealthCheckersAreNotLoggedButCounted() async throws {
        let (exporter, report) = try await run({ config in
            config.eventFilter.excludedPaths.append("/internal/*")
        }) { metrics in
            for target in [
                "/health", "/healthz?x=1", "/.well-known/openid", "/internal/a/b", "/robots.txt", "/orders", "/Health",
            ] {
                recordExchange(metrics.recorder, target: target)
            }
            recordExchange(metrics.recorder, target: "/orders/1", headers: ["User-Agent": "kube-probe/1.29"])
            recordExchange(metrics.recorder, target: "/orders/2", headers: ["User-Agent": "ELB-HealthChecker/2.0"])
            recordExchange(metrics.recorder, target: "/orders/3", headers: ["User-Agent": "curl/8"])
        }
        #expect(exporter.events.map(\.record.request.target) == ["/orders", "/orders/3"])
        #expect(report.statistics.skipped == 8)
        #expect(report.statistics.recorded == 10)
    }

    @Test func onlyAllowedHostsAreLogged() async throws {
        let (exporter, _) = try await run({ $0.eventFilter.allowedHosts = ["api.example.com"] }) { metrics in
            recordExchange(metrics.recorder, target: "/a", headers: ["Host": "API.example.com:8443"])
            recordExchange(metrics.recorder, target: "/b", headers: ["Host": "internal"])
            recordExchange(metrics.recorder, target: "/c")
        }
        #expect(exporter.events.map(\.record.request.target) == ["/a"])
    }

    @Test func samplingKeepsAShareAndWeighsIt() async throws {
        let (exporter, report) = try await run({ config in
            config.eventFilter.sampleRate = 0.25
            config.queue.maxEvents = 10_000
        }) { metrics in
            for n in 0..<4000 { recordExchange(metrics.recorder, target: "/n/\(n)") }
        }
        // Binomial(4000, 0.25): mean 1000, σ ≈ 27; ten σ either way.
        #expect((730...1270).contains(exporter.events.count))
        #expect(exporter.events.allSatisfy { $0.record.weight == 4 })
        #expect(jsonObject(try #require(exporter.events.first).json)?["weight"] as? Double == 4)
        #expect(report.statistics.skipped + exporter.events.count == 4000)
        // Every skip here is sampling's.
        #expect(report.statistics.sampledOut == report.statistics.skipped)
    }

    @Test func theSkipSessionAndMetadataClosuresRun() async throws {
        let (exporter, report) = try await run({ config in
            config.skipRequest = { request, response in request.path == "/noise" || response?.status == 418 }
            config.sessionToken = { request in request.headers["x-session"].map { "s-\($0)" } }
            config.metadata = { request, response in ["status_class": "\((response?.status ?? 0) / 100)xx"] }
        }) { metrics in
            recordExchange(metrics.recorder, target: "/noise")
            recordExchange(metrics.recorder, target: "/teapot", status: 418)
            recordExchange(metrics.recorder, target: "/kept", headers: ["X-Session": "42"], status: 201)
        }
        let event = try #require(exporter.events.first)
        #expect(exporter.events.count == 1)
        #expect(event.record.sessionToken == "s-42")
        #expect(event.record.metadata == ["status_class": "2xx"])
        let json = try #require(jsonObject(event.json))
        #expect(json["session_token"] as? String == "s-42")
        #expect(report.statistics.skipped == 2)
    }

    @Test func aHangingIdentifyClosureCostsOnlyThatEventItsConsumer() async throws {
        let gate = DispatchSemaphore(value: 0)
        defer { gate.signal() }
        let (exporter, _) = try await run({ config in
            config.userClosureTimeout = .milliseconds(100)
            config.identifyConsumer = .custom { request in
                if request.path == "/hang" { gate.wait() }
                return Consumer(id: "c-\(request.path.dropFirst())")
            }
        }) { metrics in
            recordExchange(metrics.recorder, target: "/a")
            recordExchange(metrics.recorder, target: "/hang")
            recordExchange(metrics.recorder, target: "/b")
        }
        let consumers = exporter.events.map { "\($0.record.request.target)=\($0.record.consumer?.id ?? "-")" }
        #expect(consumers == ["/a=c-a", "/hang=-", "/b=c-b"])
    }

    @Test func aBatchWithAHungClosureStillAttributesEveryCallToItsConsumer() async throws {
        // The calls before and after the hung one are processed in two
        // places (the worker, then the sender): the batch's tally from the
        // worker does not cover them all, and the sender tallies the batch.
        let gate = DispatchSemaphore(value: 0)
        defer { gate.signal() }
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.userClosureTimeout = .milliseconds(100)
        config.identifyConsumer = .custom { request in
            if request.path == "/hang" { gate.wait() }
            return Consumer(id: request.path.hasPrefix("/a") ? "acme" : "globex")
        }
        let metrics = try APIMetricsService(configuration: config)
        for target in ["/a1", "/b1", "/hang", "/a2", "/b2", "/a3"] { recordExchange(metrics.recorder, target: target) }
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(report.unsent == 0)
        #expect(exporter.events.count == 6)
        let totals = metrics.aggregator.totals()
        let calls = Dictionary(uniqueKeysWithValues: totals.consumers.map { ($0.id, $0.requests) })
        #expect(calls == ["acme": 3, "globex": 2])
        #expect(totals.anonymousRequests == 1)
    }

    @Test func aFailingLastWordClosureStripsHeadersAndBodies() async throws {
        struct Refused: Error {}
        let (exporter, _) = try await run({ config in
            config.capture.isBodyCaptureEnabled = true
            config.redaction.redactEvent = { record in
                if record.request.path == "/refuse" { throw Refused() }
                record.request.headers.remove(name: "x-internal")
            }
        }) { metrics in
            for target in ["/ok", "/refuse?email=a@b.c"] {
                recordExchange(
                    metrics.recorder, method: "POST", target: target,
                    headers: ["Content-Type": "application/json", "X-Internal": "i", "X-Visible": "v"],
                    requestBody: Array(#"{"email":"a@b.c"}"#.utf8))
            }
        }
        let ok = try #require(exporter.events.first { $0.record.request.path == "/ok" }?.record)
        #expect(ok.request.headers["x-internal"] == nil)
        #expect(ok.request.headers["x-visible"] == "v")
        #expect(!ok.requestBody.bytes.isEmpty)
        let refused = try #require(exporter.events.first { $0.record.request.path == "/refuse" })
        #expect(refused.record.request.headers.isEmpty)
        #expect(refused.record.requestBody.bytes.isEmpty)
        #expect(refused.record.requestBody.size == 17)
        #expect(refused.record.request.target == "/refuse")
        #expect(!String(decoding: refused.json, as: UTF8.self).contains("a@b.c"))
    }

    @Test func profileUpdatesTravelAsTheirOwnRecords() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("events.ndjson")
        var config = testConfiguration([.http(endpoint: collector.url), .file(path: file)])
        config.instanceID = "host-1"
        config.isDevelopment = true
        let metrics = try APIMetricsService(configuration: config)
        metrics.updateConsumer(
            Consumer(id: " u1 ", name: "Ann", email: "ann@example.com", company: "acme", metadata: ["plan": "pro"]))
        metrics.updateCompanies([CompanyProfile(id: "acme", name: "Acme", domain: "acme.test"), CompanyProfile(id: "globex")])
        metrics.updateSubscription(
            SubscriptionProfile(
                id: "sub1", companyID: "acme", plan: "pro", status: "active",
                currentPeriodStartNanoseconds: 1_795_255_200_000_000_000))
        recordExchange(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(60))
        let batch = try #require(collector.requests.first?.batch)
        #expect(batch["instance_id"] as? String == "host-1")
        let entities = try #require(batch["entities"] as? [[String: Any]])
        #expect(entities.map { $0["kind"] as? String } == ["consumer", "company", "company", "subscription"])
        let consumer = try #require(entities[0]["consumer"] as? [String: Any])
        #expect(consumer["id"] as? String == "u1")
        #expect(consumer["email"] as? String == "ann@example.com")
        #expect((consumer["metadata"] as? [String: String]) == ["plan": "pro"])
        let subscription = try #require(entities[3]["subscription"] as? [String: Any])
        #expect(subscription["company_id"] as? String == "acme")
        #expect(subscription["current_period_start"] as? String == "2026-11-21T10:00:00.000Z")
        let events = try #require(batch["events"] as? [[String: Any]])
        #expect(events.first?["development"] as? Bool == true)
        #expect(events.first?["instance_id"] as? String == "host-1")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        // The events and profile updates, then the metrics records (the
        // startup record rode with the first batch; the last window and its
        // heartbeat came at shutdown).
        let kinds = lines.map { jsonObject(Array($0.utf8))?["kind"] as? String }
        #expect(kinds.filter { !["startup", "metrics", "heartbeat"].contains($0) }.count == 5)
        #expect(
            kinds.filter { ["startup", "metrics", "heartbeat"].contains($0) }.sorted { ($0 ?? "") < ($1 ?? "") }
                == ["heartbeat", "metrics", "startup"])
    }
}
