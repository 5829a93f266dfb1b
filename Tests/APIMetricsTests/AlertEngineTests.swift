@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing
import Synchronization

/// Windows of `seconds` each, made by hand: what the aggregator would cut.
struct WindowMaker {
    var seconds: Int64 = 10
    var start: Int64 = 1_800_000_000_000_000_000
    var index: Int64 = 0

    /// The next window: `calls` calls of each series given as (method, route, status, duration in ms).
    mutating func next(
        _ series: [(method: String, route: String, status: Int, milliseconds: Int64, calls: Int)] = [],
        consumers: [ConsumerMetrics] = [], errors: [ServerErrorGroup] = []
    ) -> MetricsWindow {
        defer { index += 1 }
        let begin = start + index * seconds * 1_000_000_000
        let made = series.map { one -> SeriesMetrics in
            var latency = LatencySketch()
            latency.add(nanoseconds: one.milliseconds * 1_000_000, count: UInt64(one.calls))
            return SeriesMetrics(
                key: SeriesKey(method: one.method, route: one.route, status: one.status), requests: one.calls,
                clientErrors: (400..<500).contains(one.status) ? one.calls : 0, serverErrors: one.status >= 500 ? one.calls : 0,
                latency: latency)
        }
        return MetricsWindow(
            startNanoseconds: begin, endNanoseconds: begin + seconds * 1_000_000_000, series: made, consumers: consumers,
            serverErrors: errors)
    }

    /// Seconds from the first window's start to the end of the last one made.
    var elapsed: Int64 { index * seconds }
}

func mixed(
    ok: Int, failed: Int, route: String = "/orders/{id}"
) -> [(method: String, route: String, status: Int, milliseconds: Int64, calls: Int)] {
    [("GET", route, 200, 20, ok), ("GET", route, 500, 20, failed)].filter { $0.calls > 0 }
}

@Suite("Alerts: states over the windows")
struct AlertEngineTests {
    @Test func anErrorRateFiresAfterItsForDurationRepeatsHoldsWithinTheMarginAndResolvesOnce() {
        let rule = AlertRule(
            "errors", when: .serverErrorRate(above: 0.05, minimumCalls: 20), window: .seconds(10),
            for: .seconds(20), repeatInterval: .seconds(60))
        let engine = AlertEngine(rules: [rule])
        var windows = WindowMaker()
        var told: [(Int64, AlertEvent)] = []
        func feed(_ series: [(method: String, route: String, status: Int, milliseconds: Int64, calls: Int)], times: Int = 1) {
            for _ in 0..<times {
                for event in engine.evaluate(windows.next(series)) { told.append((windows.elapsed, event)) }
            }
        }
        feed(mixed(ok: 100, failed: 0), times: 3)
        // Too few calls to tell: nothing changes, however bad.
        feed(mixed(ok: 0, failed: 10))
        #expect(told.isEmpty)
        let badFrom = windows.elapsed
        feed(mixed(ok: 50, failed: 50), times: 3)
        #expect(told.count == 1)
        let fired = told.first
        #expect(fired?.1.state == .firing)
        // Within `for` (20 s) plus one window (10 s) of the first bad window's start.
        #expect((fired?.0 ?? 0) - badFrom <= 30)
        #expect(fired?.1.value == 0.5)
        #expect(fired?.1.threshold == 0.05)
        #expect(fired?.1.summary == "server errors 50% of 100 calls over 10s, threshold 5%")
        // Still failing: told again after the repeat interval, once.
        feed(mixed(ok: 50, failed: 50), times: 6)
        #expect(told.map(\.1.isRepeat) == [false, true])
        // 4.6% is within the 10% margin (4.5%): still firing, nothing told.
        feed(mixed(ok: 954, failed: 46), times: 2)
        #expect(told.count == 2)
        feed(mixed(ok: 99, failed: 1), times: 4)
        #expect(told.map(\.1.state) == [.firing, .firing, .resolved])
        #expect(engine.firing().isEmpty)
        #expect(engine.recentEvents(limit: 10).first?.state == .resolved)
    }

    @Test func aPendingAlertThatClearsIsNeverTold() {
        let engine = AlertEngine(rules: [
            AlertRule("errors", when: .serverErrorRate(above: 0.05), window: .seconds(10), for: .seconds(30))
        ])
        var windows = WindowMaker()
        var events: [AlertEvent] = []
        for window in 0..<6 {
            events += engine.evaluate(windows.next(window % 2 == 0 ? mixed(ok: 50, failed: 50) : mixed(ok: 100, failed: 0)))
        }
        #expect(events.isEmpty)
    }

    @Test func latencyIsMeasuredOverTheRulesWindowAndScope() {
        let rules = [
            AlertRule(
                "p99 orders", when: .latency(percentile: 99, above: .seconds(1)), scope: .route("/orders/:id", method: "GET"),
                window: .seconds(30)),
            AlertRule("p99 all", when: .latency(percentile: 99, above: .seconds(5)), window: .seconds(30)),
        ]
        let engine = AlertEngine(rules: rules)
        var windows = WindowMaker()
        var events: [AlertEvent] = []
        // A slow route that is not the rule's, then the rule's (written {id} by the router, :id by the rule).
        events += engine.evaluate(windows.next([("GET", "/slow", 200, 3_000, 50), ("GET", "/orders/{id}", 200, 20, 50)]))
        #expect(events.isEmpty)
        events += engine.evaluate(windows.next([("GET", "/orders/{id}", 200, 1_500, 50)]))
        #expect(events.map(\.rule) == ["p99 orders"])
        #expect((events.first?.value ?? 0) > 1 && (events.first?.value ?? 0) < 2)
        // Fast again, but the 30 s window still holds the slow one: firing until it leaves.
        events += engine.evaluate(windows.next([("GET", "/orders/{id}", 200, 20, 50)]))
        events += engine.evaluate(windows.next([("GET", "/orders/{id}", 200, 20, 50)]))
        #expect(events.count == 1)
        events += engine.evaluate(windows.next([("GET", "/orders/{id}", 200, 20, 50)]))
        #expect(events.map(\.state) == [.firing, .resolved])
    }

    @Test func silenceFiresOnlyAfterTrafficAndAWholeWindowAndResolvesWhenCallsCome() {
        let engine = AlertEngine(rules: [AlertRule("quiet", when: .noTraffic, window: .seconds(30))])
        var windows = WindowMaker()
        var events: [AlertEvent] = []
        // No traffic ever: not quiet, a service that has not started.
        for _ in 0..<5 { events += engine.evaluate(windows.next()) }
        #expect(events.isEmpty)
        events += engine.evaluate(windows.next(mixed(ok: 5, failed: 0)))
        for _ in 0..<2 { events += engine.evaluate(windows.next()) }
        #expect(events.isEmpty)
        events += engine.evaluate(windows.next())
        #expect(events.map(\.state) == [.firing])
        #expect(events.first?.summary == "0 calls over 30s, floor 1")
        events += engine.evaluate(windows.next(mixed(ok: 1, failed: 0)))
        #expect(events.map(\.state) == [.firing, .resolved])
    }

    @Test func aNewErrorGroupFiresOnceAndResolvesWhenItStops() {
        let engine = AlertEngine(rules: [AlertRule("new errors", when: .newServerErrorGroup, window: .seconds(20))])
        var windows = WindowMaker()
        func group(_ type: String, count: Double = 3) -> ServerErrorGroup {
            ServerErrorGroup(
                method: "GET", route: "/fail", type: type, message: "it broke", count: count, firstSeenNanoseconds: 0,
                lastSeenNanoseconds: 0)
        }
        var events = engine.evaluate(windows.next(errors: [group("TimeoutError")]))
        #expect(events.map(\.instance) == ["GET /fail TimeoutError"])
        events += engine.evaluate(windows.next(errors: [group("TimeoutError"), group("DatabaseError")]))
        #expect(events.map(\.instance) == ["GET /fail TimeoutError", "GET /fail DatabaseError"])
        events += engine.evaluate(windows.next(errors: [group("DatabaseError")]))
        events += engine.evaluate(windows.next())
        #expect(events.filter { $0.state == .resolved }.map(\.instance) == ["GET /fail TimeoutError"])
        events += engine.evaluate(windows.next())
        events += engine.evaluate(windows.next(errors: [group("TimeoutError")]))
        // Resolved groups are known: they do not fire again.
        #expect(events.filter { $0.state == .firing }.count == 2)
        #expect(events.filter { $0.state == .resolved }.count == 2)
    }

    /// A group's calls are its consumers' together; a consumer-rate rule
    /// over a group watches its consumers only.
    @Test func aConsumerGroupIsTheSumOfItsConsumers() {
        let engine = AlertEngine(rules: [
            AlertRule(
                "free failing", when: .serverErrorRate(above: 0.1, minimumCalls: 20), scope: .consumerGroup("free"),
                window: .seconds(10)),
            AlertRule(
                "paid failing", when: .serverErrorRate(above: 0.1, minimumCalls: 20), scope: .consumerGroup("paid"),
                window: .seconds(10)),
            AlertRule(
                "a free consumer", when: .consumerErrorRate(above: 0.1, minimumCalls: 5), scope: .consumerGroup("free"),
                window: .seconds(10)),
        ])
        var windows = WindowMaker()
        let events = engine.evaluate(
            windows.next(consumers: [
                // Neither free consumer has 20 calls, nor is above 10% with its own: together they are (3 of 24).
                ConsumerMetrics(id: "a", group: "free", requests: 12, serverErrors: 3),
                ConsumerMetrics(id: "b", group: "free", requests: 12),
                ConsumerMetrics(id: "c", group: "paid", requests: 500, serverErrors: 5),
                ConsumerMetrics(id: "d", requests: 50, serverErrors: 50),
            ]))
        #expect(
            events.map { "\($0.rule) \($0.instance) \($0.value)" }.sorted() == [
                "a free consumer consumer a 0.25", "free failing  0.125",
            ])
        #expect(events.first { $0.rule == "free failing" }?.scope == "consumer group free")
    }

    /// A rule over thousands of windows keeps at most `maxWindows`
    /// stretches of them, summed: memory and work are bounded, and the rule
    /// still resolves when its failures leave the window (within a stretch).
    @Test func aLongWindowIsKeptInStretchesAndStillMovesOnTime() {
        let rule = AlertRule(
            "errors", when: .serverErrorRate(above: 0.05, minimumCalls: 1), window: .seconds(24_000), hysteresis: 0)
        let engine = AlertEngine(rules: [
            rule, AlertRule("slow", when: .latency(percentile: 99, above: .seconds(1)), window: .seconds(24_000)),
        ])
        var windows = WindowMaker()
        var moves: [(index: Int, state: AlertEvent.State, rule: String)] = []
        for index in 0..<2_700 {
            // 300 windows of failures (and of slow calls), then calls that are well.
            let failing = index < 300
            let window = windows.next([("GET", "/orders/{id}", failing ? 500 : 200, failing ? 2_000 : 20, 10)])
            moves += engine.evaluate(window).filter { !$0.isRepeat }.map { (index, $0.state, $0.rule) }
        }
        let kept = engine.state.withLock { $0.windows.map(\.count) }
        #expect(kept.allSatisfy { $0 <= AlertEngine.maxWindows + 1 }, "\(kept)")
        // 24,000 s is 2,400 windows: below 5% once at most 120 failing windows are left, at window 2,580 (one stretch is 10 windows).
        let errors = moves.filter { $0.rule == "errors" }
        #expect(errors.map(\.state) == [.firing, .resolved])
        #expect(errors.first?.index == 0)
        #expect((2_570...2_600).contains(errors.last?.index ?? 0), "\(errors)")
        // p99 over the kept stretches' sketches: above 1 s while more than 1% of the calls were slow (24 windows of 2,400, at 2,676).
        let slow = moves.filter { $0.rule == "slow" }
        #expect(slow.map(\.state) == [.firing, .resolved] && slow.first?.index == 0)
        #expect((2_660...2_699).contains(slow.last?.index ?? 0), "\(slow)")
    }

    /// Windows cut on a timer last a little longer than the interval: an
    /// eight-hour rule at one-minute windows still sums eight hours of them.
    @Test func aLongWindowOfWindowsALittleLongerThanTheIntervalIsKeptWhole() {
        let engine = AlertEngine(rules: [AlertRule("quiet", when: .traffic(below: 1), window: .seconds(8 * 3_600))])
        let length: Int64 = 60_005_000_000
        for index in Int64(0)..<1_000 {
            let begin = 1_800_000_000_000_000_000 + index * length
            var latency = LatencySketch()
            latency.add(nanoseconds: 1_000_000, count: 1)
            let series = SeriesMetrics(
                key: SeriesKey(method: "GET", route: "/a", status: 200), requests: 1, clientErrors: 0, serverErrors: 0,
                latency: latency)
            _ = engine.evaluate(MetricsWindow(startNanoseconds: begin, endNanoseconds: begin + length, series: [series]))
        }
        let (stretches, calls) = engine.state.withLock { ($0.windows[0].count, $0.windows[0].reduce(0) { $0 + $1.calls }) }
        #expect(stretches <= AlertEngine.maxWindows + 1)
        // 8 h of 60.005 s windows is 479.96 of them: 480 or, with the stretch the window's edge falls in, one more.
        #expect((480...482).contains(Int(calls)), "\(calls) calls in \(stretches) stretches")
    }

    @Test func eachConsumerIsAnAlertOfItsOwn() {
        let engine = AlertEngine(rules: [
            AlertRule("consumer errors", when: .consumerErrorRate(above: 0.2, minimumCalls: 10), window: .seconds(10))
        ])
        var windows = WindowMaker()
        let events = engine.evaluate(
            windows.next(consumers: [
                ConsumerMetrics(id: "acme", requests: 100, serverErrors: 50),
                ConsumerMetrics(id: "globex", requests: 100, serverErrors: 1),
                ConsumerMetrics(id: "tiny", requests: 5, serverErrors: 5),
            ]))
        #expect(events.map(\.instance) == ["consumer acme"])
        let later = engine.evaluate(windows.next(consumers: [ConsumerMetrics(id: "globex", requests: 100)]))
        #expect(later.map { "\($0.state) \($0.instance)" } == ["resolved consumer acme"])
    }

    @Test func anAPIChangeOfTheKindsNamedFires() {
        let engine = AlertEngine(rules: [
            AlertRule("breaking", when: .apiChange(["field_gone"]), scope: .route("/orders/{id}"), window: .seconds(10))
        ])
        var windows = WindowMaker()
        let gone = APIChange(
            time: 1, method: "GET", route: "/orders/{id}", kind: .fieldGone, location: "response 200 application/json $.total",
            detail: "", example: EventID(high: 1, low: 2))
        var other = gone
        other.kind = .newField
        var elsewhere = gone
        elsewhere.route = "/users"
        var clients = gone
        clients.location = "request application/json $.total"
        let events = engine.evaluate(windows.next(), changes: [gone, other, elsewhere, clients])
        #expect(events.map(\.instance) == ["GET /orders/{id} field_gone response 200 application/json $.total"])
        #expect(engine.evaluate(windows.next()).map(\.state) == [.resolved])
    }

    @Test func aPendingAlertStartsAgainAfterWindowsTooQuietToTell() {
        let engine = AlertEngine(rules: [
            AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 20), window: .seconds(10), for: .seconds(30))
        ])
        var windows = WindowMaker()
        var events = engine.evaluate(windows.next(mixed(ok: 50, failed: 50)))
        for _ in 0..<10 { events += engine.evaluate(windows.next(mixed(ok: 1, failed: 1))) }
        // One breaching window after the quiet ones: pending again, not firing at once.
        events += engine.evaluate(windows.next(mixed(ok: 50, failed: 50)))
        #expect(events.isEmpty)
        for _ in 0..<3 { events += engine.evaluate(windows.next(mixed(ok: 50, failed: 50))) }
        #expect(events.map(\.state) == [.firing])
    }

    @Test func whatAClientChoseIsOneLineAndOneRuleCannotTakeEveryPlace() {
        let engine = AlertEngine(rules: [
            AlertRule("consumers", when: .consumerErrorRate(above: 0.1, minimumCalls: 1), window: .seconds(10)),
            AlertRule("errors", when: .serverErrorRate(above: 0.05, minimumCalls: 1), window: .seconds(10)),
        ])
        var windows = WindowMaker()
        let many = (0..<(AlertEngine.maxInstancesPerRule + 50)).map {
            ConsumerMetrics(id: "c\($0)\n[apimetrics] error: forged", requests: 10, serverErrors: 10)
        }
        let events = engine.evaluate(windows.next(mixed(ok: 1, failed: 9), consumers: many))
        #expect(events.filter { $0.rule == "consumers" }.count == AlertEngine.maxInstancesPerRule)
        #expect(events.contains { $0.rule == "errors" })
        #expect(!events.contains { $0.instance.contains("\n") || $0.summary.contains("\n") })
    }

    @Test func aRestartThatGetsNoCallIsQuietWhenAnEarlierRunSawSome() {
        let engine = AlertEngine(rules: [AlertRule("quiet", when: .noTraffic, window: .seconds(30))])
        engine.restore([], knownGroups: [], callsSeen: true)
        var windows = WindowMaker()
        var events: [AlertEvent] = []
        for _ in 0..<3 { events += engine.evaluate(windows.next()) }
        #expect(events.map(\.state) == [.firing])
    }

    /// A scoped rule: the first run marks that it saw calls in its scope
    /// (kept with the known groups); a restart given that mark and no call
    /// there is quiet; without it, it waits for a call.
    @Test func aScopedRestartThatGetsNoCallIsQuietWhenAnEarlierRunSawSomeThere() {
        let rule = AlertRule("orders quiet", when: .noTraffic, scope: .route("/orders/:id"), window: .seconds(30))
        let first = AlertEngine(rules: [rule])
        var windows = WindowMaker()
        _ = first.evaluate(windows.next(mixed(ok: 0, failed: 0)))
        #expect(first.takeKnownGroups().isEmpty)
        _ = first.evaluate(windows.next([("GET", "/orders/{id}", 200, 3, 10)]))
        let marks = first.takeKnownGroups()
        #expect(marks == [AlertEngine.seenKey(rule)])
        _ = first.evaluate(windows.next([("GET", "/orders/{id}", 200, 3, 10)]))
        #expect(first.takeKnownGroups().isEmpty)

        let restarted = AlertEngine(rules: [rule])
        restarted.restore([], knownGroups: marks)
        var later = WindowMaker()
        var events: [AlertEvent] = []
        for _ in 0..<3 { events += restarted.evaluate(later.next()) }
        #expect(events.map(\.state) == [.firing])
        // The same name over another scope is another rule: it waits for a call.
        let moved = AlertEngine(rules: [
            AlertRule("orders quiet", when: .noTraffic, scope: .route("/users/:id"), window: .seconds(30))
        ])
        moved.restore([], knownGroups: marks)
        var again = WindowMaker()
        var none: [AlertEvent] = []
        for _ in 0..<5 { none += moved.evaluate(again.next()) }
        #expect(none.isEmpty)
    }

    @Test func anotherMessageOfAFiringErrorIsNotNewOnceItResolves() {
        let engine = AlertEngine(rules: [AlertRule("new errors", when: .newServerErrorGroup, window: .seconds(20))])
        var windows = WindowMaker()
        func group(_ message: String) -> ServerErrorGroup {
            ServerErrorGroup(
                method: "GET", route: "/fail", type: "TimeoutError", message: message, count: 1, firstSeenNanoseconds: 0,
                lastSeenNanoseconds: 0)
        }
        var events = engine.evaluate(windows.next(errors: [group("after 5 s")]))
        events += engine.evaluate(windows.next(errors: [group("after 6 s")]))
        for _ in 0..<3 { events += engine.evaluate(windows.next()) }
        events += engine.evaluate(windows.next(errors: [group("after 6 s")]))
        #expect(events.map(\.state) == [.firing, .resolved])
    }
}
