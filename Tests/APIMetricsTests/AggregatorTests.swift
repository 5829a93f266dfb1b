@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Dispatch
import Foundation
import Testing

@Suite("Aggregator")
struct AggregatorTests {
    private func series(_ totals: Aggregator.Totals, _ method: String, _ route: String, _ status: Int) -> SeriesMetrics? {
        totals.series.first { $0.key == SeriesKey(method: method, route: route, status: status) }
    }

    private func recordRouted(_ recorder: Recorder, method: String = "GET", route: String, target: String, status: Int = 200) {
        let exchange = recorder.begin(RequestHead(method: method, target: target, route: route))
        exchange.recordResponseHead(ResponseHead(status: status))
        exchange.finish()
    }

    @Test func countsAreExactUnderConcurrency() throws {
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(CollectingExporter())]))
        let threads = 8, calls = 2_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for call in 0..<calls {
                // Half through exchanges, half as shed summaries; four routes, two statuses.
                let route = "/r/\(call % 4)", status = call % 10 == 0 ? 503 : 200
                if call % 2 == 0 {
                    recordRouted(metrics.recorder, route: route, target: "/r/x", status: status)
                } else {
                    metrics.recorder.recordShedCall(
                        CallSummary(
                            method: "GET", route: route, status: status, durationNanoseconds: Int64(thread * 1_000 + call),
                            requestBodyBytes: 10, responseBodyBytes: 100))
                }
            }
        }
        let totals = metrics.aggregator.totals()
        #expect(totals.requests == threads * calls)
        for route in 0..<4 {
            let ok = series(totals, "GET", "/r/\(route)", 200), failed = series(totals, "GET", "/r/\(route)", 503)
            let failing = (0..<calls).filter { $0 % 4 == route && $0 % 10 == 0 }.count
            #expect(ok?.requests == threads * (calls / 4 - failing) && ok?.serverErrors == 0)
            #expect((failed?.requests ?? 0) == threads * failing && failed?.serverErrors ?? 0 == failed?.requests ?? 0)
            #expect(ok?.latency.count == UInt64(ok?.requests ?? -1))
            #expect(ok?.durationBuckets.reduce(0, +) == UInt64(ok?.requests ?? -1))
        }
    }

    @Test func everyCallCountsWhateverBecomesOfItsEvent() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.queue = .init(maxEvents: 5, maxBytes: 1 << 20)
        config.eventFilter = .init(excludedPaths: ["/health"], sampleRate: 0.5)
        let metrics = try APIMetricsService(configuration: config)
        // No sender runs yet: the queue fills after five events.
        for n in 0..<1_000 { recordRouted(metrics.recorder, route: "/orders/{id}", target: "/orders/\(n)") }
        for _ in 0..<100 { recordRouted(metrics.recorder, route: "/health", target: "/health") }
        for _ in 0..<50 {
            metrics.recorder.recordShedCall(
                CallSummary(method: "POST", route: "/orders", status: 201, durationNanoseconds: 5_000))
        }
        let statistics = metrics.statistics
        #expect(statistics.dropped > 400)
        #expect(statistics.skipped > 400)
        let totals = metrics.aggregator.totals()
        #expect(series(totals, "GET", "/orders/{id}", 200)?.requests == 1_000)
        #expect(series(totals, "GET", "/health", 200)?.requests == 100)
        #expect(series(totals, "POST", "/orders", 201)?.requests == 50)
        #expect(totals.requests == 1_150)
        await metrics.shutdown(timeout: .seconds(30))
    }

    @Test func pathsWithoutARouteFoldIntoTemplatesAndUnmatchedIntoOne() throws {
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(CollectingExporter())]))
        for n in 0..<300 {
            recordExchange(metrics.recorder, target: "/users/\(n)/orders/\(UUID().uuidString.lowercased())?page=\(n)")
            recordExchange(metrics.recorder, target: "/nope/\(UUID().uuidString)/x\(n)", status: 404)
            recordExchange(metrics.recorder, method: "DELETE", target: "/static/page-\(n)", status: 405)
        }
        let totals = metrics.aggregator.totals()
        #expect(series(totals, "GET", "/users/{id}/orders/{id}", 200)?.requests == 300)
        #expect(series(totals, "GET", SeriesKey.unmatchedRoute, 404)?.requests == 300)
        #expect(series(totals, "DELETE", SeriesKey.unmatchedRoute, 405)?.requests == 300)
        #expect(totals.series.count == 3)
    }

    @Test func pathsSeenAgainKeepTheirTemplateWhateverTheyCollideWith() throws {
        // Far more distinct paths than the recent-paths cache has places,
        // each seen three times in a shuffled order: every one lands on
        // its own template, whichever path held its place before.
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(CollectingExporter())]))
        var targets: [(target: String, template: String)] = []
        for n in 0..<700 {
            targets.append(("/users/\(n)", "/users/{id}"))
            targets.append(("/users/\(n)/orders", "/users/{id}/orders"))
            targets.append(("/static/file\(n % 7).css", "/static/file\(n % 7).css"))
        }
        var generator = SeededGenerator(seed: 7)
        for target in (targets + targets + targets).shuffled(using: &generator) {
            recordExchange(metrics.recorder, target: target.target)
        }
        let totals = metrics.aggregator.totals()
        let expected = Dictionary(targets.map { ($0.template, 3) }, uniquingKeysWith: +)
        #expect(totals.series.count == expected.count)
        for (template, count) in expected {
            #expect(series(totals, "GET", template, 200)?.requests == count, "\(template)")
        }
    }

    @Test func pastTheSeriesLimitNewSeriesFoldIntoOtherAndAreCounted() throws {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.metrics.maxSeries = 10
        let metrics = try APIMetricsService(configuration: config)
        for n in 0..<50 { recordRouted(metrics.recorder, route: "/r\(n)", target: "/r") }
        for n in 0..<10 { recordRouted(metrics.recorder, route: "/r\(n)", target: "/r") }
        let totals = metrics.aggregator.totals()
        #expect(totals.requests == 60)
        #expect(series(totals, "GET", SeriesKey.otherRoute, 200)?.requests == 40)
        #expect(totals.foldedRequests == 40)
        #expect((0..<10).allSatisfy { series(totals, "GET", "/r\($0)", 200)?.requests == 2 })
    }

    /// One route past the limit called again and again: every call is
    /// folded and counted so, the recent-series cache notwithstanding.
    @Test func aFoldedRouteCalledAgainCountsEachCallAsFolded() throws {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.metrics.maxSeries = 2
        let metrics = try APIMetricsService(configuration: config)
        for n in 0..<2 { recordRouted(metrics.recorder, route: "/r\(n)", target: "/r") }
        for _ in 0..<5 { recordRouted(metrics.recorder, route: "/past", target: "/past") }
        let totals = metrics.aggregator.totals()
        #expect(series(totals, "GET", SeriesKey.otherRoute, 200)?.requests == 5)
        #expect(totals.foldedRequests == 5)
        // Calls of the folded series' own name are not folded ones.
        #expect(metrics.aggregator.cutWindow().foldedRequests == 5)
    }

    @Test func consumersPlusAnonymousPlusUnattributedAddUpToTheTotal() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.identifyConsumer = .header("x-customer")
        config.queue = .init(maxEvents: 20, maxBytes: 1 << 20)
        let metrics = try APIMetricsService(configuration: config)
        // Thirty calls before the sender runs: twenty are queued, ten dropped.
        for n in 0..<30 {
            recordExchange(metrics.recorder, headers: n % 3 == 0 ? [:] : ["x-customer": n % 3 == 1 ? "acme" : "globex"])
        }
        let runner = Task { try await metrics.run() }
        #expect(await eventually { exporter.events.count == 20 })
        let totals = metrics.aggregator.totals()
        let attributed = totals.consumers.reduce(0) { $0 + $1.requests } + totals.anonymousRequests
        #expect(totals.requests == 30)
        #expect(attributed == 20)
        #expect(totals.unattributedRequests == 10)
        #expect(Set(totals.consumers.map(\.id)) == ["acme", "globex"])
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
    }

    /// Calls left out on purpose (health checks, the view) are counted as
    /// excluded, not as unattributed: nothing was dropped. Sampled-out calls
    /// are neither (the logged ones carry their weight).
    @Test func excludedCallsAreCountedApartFromDroppedOrUnprocessedOnes() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.identifyConsumer = .header("x-customer")
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        for _ in 0..<3 { recordExchange(metrics.recorder, target: "/health") }
        recordExchange(metrics.recorder, target: "/metrics")
        for _ in 0..<4 { recordExchange(metrics.recorder, headers: ["x-customer": "acme"]) }
        #expect(await eventually { exporter.events.count == 4 })
        let totals = metrics.aggregator.totals()
        #expect(totals.requests == 8 && totals.excludedRequests == 4 && totals.unattributedRequests == 0)
        let window = metrics.aggregator.cutWindow()
        #expect(window.excludedRequests == 4 && window.unattributedRequests == 0)
        #expect(window.consumers.reduce(0) { $0 + $1.requests } + window.anonymousRequests + window.excludedRequests == 8)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value

        // Sampling: none excluded, the weights account for every call.
        var sampled = testConfiguration([.custom(CollectingExporter())])
        sampled.eventFilter = EventFilterOptions(excludedPaths: [], excludedUserAgents: [], sampleRate: 0.5)
        let half = try APIMetricsService(configuration: sampled)
        for _ in 0..<40 { recordExchange(half.recorder) }
        #expect(half.aggregator.totals().excludedRequests == 0)
    }

    /// A consumer's group (plan, tier) as identification gives it rides
    /// with its figures, for alerts scoped to a group.
    @Test func aConsumersGroupIsInItsFigures() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.identifyConsumer = .custom { head in
            head.headers["x-customer"].map { Consumer(id: $0, group: $0 == "acme" ? "paid" : nil) }
        }
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        for n in 0..<6 { recordExchange(metrics.recorder, headers: ["x-customer": n % 2 == 0 ? "acme" : "globex"]) }
        #expect(await eventually { exporter.events.count == 6 })
        let window = metrics.aggregator.cutWindow()
        #expect(
            Dictionary(uniqueKeysWithValues: window.consumers.map { ($0.id, $0.group ?? "-") }) == [
                "acme": "paid", "globex": "-",
            ])
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
    }

    @Test func serverErrorsAreGroupedByRouteTypeAndMessage() async throws {
        struct StoreDown: Error, CustomStringConvertible { var description: String { "the store is down" } }
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let runner = Task { try await metrics.run() }
        for _ in 0..<3 {
            let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/orders/1", route: "/orders/{id}"))
            exchange.fail(StoreDown())
        }
        recordRouted(metrics.recorder, route: "/orders/{id}", target: "/orders/2", status: 502)
        #expect(await eventually { exporter.events.count == 4 })
        let groups = metrics.aggregator.totals().serverErrors
        #expect(groups.count == 2)
        let first = try #require(groups.first)
        #expect(
            first.count == 3 && first.type == "StoreDown" && first.message == "the store is down" && first.route == "/orders/{id}"
        )
        #expect(first.location?.contains("AggregatorTests.swift") == true)
        #expect(first.firstSeenNanoseconds <= first.lastSeenNanoseconds)
        #expect(groups.last?.type == "HTTP 502")
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
    }

    @Test func validationErrorsComeFromTheServerOrElseFromTheBodyNeverBoth() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.capture.isBodyCaptureEnabled = true
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        let body = Array(#"{"detail":[{"loc":["body","email"],"msg":"field required","type":"missing"}]}"#.utf8)
        func call(status: Int, reports: Int) {
            let exchange = metrics.recorder.begin(
                RequestHead(
                    method: "POST", target: "/users", headers: ["content-type": "application/json"], route: "/users"))
            exchange.recordResponseHead(ResponseHead(status: status, headers: ["content-type": "application/json"]))
            exchange.recordResponseBody(body)
            for n in 0..<reports {
                exchange.reportValidationError(field: "items[\(n)].sku", type: "format", message: "not a SKU")
            }
            exchange.finish()
        }
        call(status: 422, reports: 0)  // read from the body
        call(status: 422, reports: 0)
        call(status: 422, reports: 1)  // reported: the body is not read too
        call(status: 200, reports: 25)  // reported whatever the status; 20 kept, 5 omitted
        #expect(await eventually { exporter.events.count == 4 })
        let groups = metrics.aggregator.totals().validationErrors
        let counts = Dictionary(uniqueKeysWithValues: groups.map { ("\($0.field) \($0.type)", $0.count) })
        #expect(counts["body.email missing"] == 2)
        #expect(counts["items[0].sku format"] == 2)
        #expect(counts["items[19].sku format"] == 1)
        #expect(counts["items[20].sku format"] == nil)
        #expect(counts["(omitted) omitted"] == 1)
        #expect(groups.first { $0.type == "omitted" }?.message == "5 more validation errors were reported")
        #expect(groups.allSatisfy { $0.method == "POST" && $0.route == "/users" })
        #expect(groups.count == 22)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
    }

    @Test func theWindowIsCutClearedAndAddedToTheTotals() throws {
        let aggregator = Aggregator(now: 1_000)
        for n in 0..<10 {
            aggregator.observe(
                CallSummary(method: "GET", route: "/a", status: n < 7 ? 200 : 404, durationNanoseconds: 1_000_000),
                outcome: .queued)
        }
        let first = aggregator.cutWindow(at: 2_000)
        #expect(first.startNanoseconds == 1_000 && first.endNanoseconds == 2_000)
        #expect(first.requests == 10 && first.series.count == 2)
        aggregator.observe(CallSummary(method: "GET", route: "/a", status: 200, durationNanoseconds: 1), outcome: .shed)
        let second = aggregator.cutWindow(at: 3_000, isFinal: true)
        #expect(second.startNanoseconds == 2_000 && second.requests == 1 && second.isFinal)
        #expect(aggregator.cutWindow(at: 4_000).series.isEmpty)
        let totals = aggregator.totals()
        #expect(totals.requests == 11)
        #expect(totals.windows.map(\.requests) == [10, 1, 0])
        #expect(totals.windows.first?.clientErrors == 3)
    }
}
