import Synchronization

/// Evaluates the ``AlertRule``s on every metrics window, in the sender (never
/// on the request path), and returns the transitions to tell.
///
/// Each rule keeps the summaries of the windows its ``AlertRule/window``
/// covers (calls, server errors, a latency sketch when it measures
/// latency, per consumer when it measures consumers), for its scope only;
/// summaries of one scope are made once a window whatever the number of
/// rules sharing it. Bounded: ``maxInstances`` alerts at once (one per
/// consumer, error group or change for those rules; later ones counted in
/// ``Figures/droppedInstances``), ``maxKnownGroups`` error groups remembered.
final class AlertEngine: Sendable {
    let rules: [AlertRule]
    /// Read and written under its lock only (the store's extension reads it too).
    let state: Mutex<State>

    /// The series' routes written one way (``normalized(_:)``), by route as written.
    let routeForms = Mutex<[String: String]>([:])
    /// The most routes remembered in ``routeForms``.
    static let maxRouteForms = 10_000

    /// The most alerts one rule of many (one per consumer, group or change) keeps at once.
    static let maxInstancesPerRule = 1_000

    /// The most alerts (rule and instance) kept at once.
    static let maxInstances = 10_000
    /// The most server-error groups remembered as seen.
    static let maxKnownGroups = 10_000
    /// The most stretches of time a rule keeps: each is one window, or, for a
    /// rule whose window holds more, consecutive windows summed (a week's rule
    /// at one-minute windows keeps 240 stretches of 42 minutes), so that a
    /// rule's memory and its evaluation are bounded whatever its window. The
    /// rule then looks at between its window and one stretch more.
    static let maxWindows = 240
    /// The most consumers a stretch of windows keeps for consumer-rate rules
    /// (a window holds at most ``MetricsOptions/maxConsumers``): past it, new
    /// ids of that stretch are left out.
    static let maxConsumersPerStretch = 1_000
    /// How often a scoped rule's mark that it saw calls is written again (a day).
    static let seenMarkInterval: Int64 = 86_400 * 1_000_000_000

    struct InstanceKey: Sendable, Hashable {
        var rule: Int
        var instance: String
    }

    /// One alert's state: pending (the condition holds, not yet for long
    /// enough) or firing.
    struct Instance: Sendable, Hashable {
        var isFiring = false
        /// When the condition began to hold.
        var since: Int64
        /// When it fired.
        var firedAt: Int64 = 0
        /// When it was last told.
        var toldAt: Int64 = 0
        var value: Double = 0
        /// For event rules: when the event was last seen.
        var lastActive: Int64 = 0
    }

    /// What the calls of one scope came to in one window, or in consecutive
    /// windows summed (``maxWindows``).
    struct Summary: Sendable {
        var start: Int64
        var end: Int64
        /// How many windows it sums.
        var windows = 1
        var calls = 0.0
        var serverErrors = 0.0
        var latency: LatencySketch?
        var consumers: [String: (calls: Double, serverErrors: Double)] = [:]

        /// Takes in the window that follows.
        mutating func add(_ next: Summary) {
            end = next.end
            windows += next.windows
            calls += next.calls
            serverErrors += next.serverErrors
            if let more = next.latency { latency?.merge(more) }
            for (id, figures) in next.consumers {
                // Bounded: a client rotating ids cannot grow a stretch past what one window holds.
                guard consumers[id] != nil || consumers.count < AlertEngine.maxConsumersPerStretch else { continue }
                consumers[id, default: (0, 0)].calls += figures.calls
                consumers[id, default: (0, 0)].serverErrors += figures.serverErrors
            }
        }
    }

    struct Figures: Sendable, Hashable {
        var evaluations = 0
        var droppedInstances = 0
    }

    struct State: Sendable {
        var windows: [[Summary]]
        var instances: [InstanceKey: Instance] = [:]
        var hasSeenCalls: [Bool]
        /// When each scoped rule's mark that it saw calls was last handed to the store.
        var seenMarkedAt: [Int64]
        /// When the first window began: a quiet-traffic rule waits a whole window after it.
        var startedAt: Int64?
        var knownGroups = Set<String>()
        var figures = Figures()
        /// The latest transitions, newest last (at most ``AlertEngine/maxHistory``).
        var history: [AlertEvent] = []
        /// Groups seen since the store last took them.
        var unsavedKnown: [String] = []
        /// Alerts per rule of many (consumers, groups, changes).
        var countsByRule: [Int: Int] = [:]

        mutating func remove(_ key: InstanceKey) {
            guard instances.removeValue(forKey: key) != nil, !key.instance.isEmpty else { return }
            countsByRule[key.rule, default: 1] -= 1
        }

        /// Whether an earlier run's states are being read: until they are,
        /// windows are kept but no alert moves (one firing then would be told again).
        var isLoading = false
    }

    /// The most transitions kept in memory.
    static let maxHistory = 1_000

    /// The latest transitions, newest first.
    func recentEvents(limit: Int) -> [AlertEvent] {
        state.withLock { Array($0.history.suffix(limit).reversed()) }
    }

    /// The alerts firing now, by rule and instance.
    func firing() -> [(rule: String, instance: String, since: Int64, value: Double)] {
        state.withLock { state in
            state.instances.filter(\.value.isFiring).map {
                (rules[$0.key.rule].name, $0.key.instance, $0.value.firedAt, $0.value.value)
            }
            .sorted { ($0.rule, $0.instance) < ($1.rule, $1.instance) }
        }
    }

    init(rules: [AlertRule]) {
        self.rules = rules
        state = Mutex(
            State(
                windows: Array(repeating: [], count: rules.count), hasSeenCalls: Array(repeating: false, count: rules.count),
                seenMarkedAt: Array(repeating: 0, count: rules.count)))
    }

    /// Evaluates every rule on a window that just ended (with the API
    /// changes discovery saw in it); returns the transitions, oldest rule first.
    func evaluate(_ window: MetricsWindow, changes: [APIChange] = []) -> [AlertEvent] {
        let now = window.endNanoseconds
        // Summaries outside the lock: one per distinct scope and need.
        var summaries: [SummaryKey: Summary] = [:]
        var byRoute: [String: [Int]]?
        let perRule: [Summary] = rules.map { rule in
            let key = SummaryKey(scope: rule.scope, latency: rule.needsLatency, consumers: rule.needsConsumers)
            if let known = summaries[key] { return known }
            let made = summarize(window, key: key, byRoute: &byRoute)
            summaries[key] = made
            return made
        }
        return state.withLock { state in
            state.figures.evaluations += 1
            if state.startedAt == nil { state.startedAt = window.startNanoseconds }
            var events: [AlertEvent] = []
            for (index, rule) in rules.enumerated() {
                // In place: a copy of the kept windows per rule per window would cost more than the rule.
                // Windows per stretch by count (windows are cut on a timer, each a little longer than the
                // interval): enough that the rule's window fits in `maxWindows` stretches.
                let length = max(1, window.endNanoseconds &- window.startNanoseconds)
                let perStretch = max(
                    1, (rule.window.nanosecondsClamped / length + Int64(Self.maxWindows) - 1) / Int64(Self.maxWindows))
                if let last = state.windows[index].indices.last, state.windows[index][last].windows < perStretch {
                    state.windows[index][last].add(perRule[index])
                } else {
                    state.windows[index].append(perRule[index])
                }
                let oldest = now - rule.window.nanosecondsClamped
                if let first = state.windows[index].firstIndex(where: { $0.end > oldest }), first > 0 {
                    state.windows[index].removeFirst(first)
                }
                // A safety bound only: eviction is by time.
                if state.windows[index].count > 2 * Self.maxWindows {
                    state.windows[index].removeFirst(state.windows[index].count - 2 * Self.maxWindows)
                }
                let kept = state.windows[index]
                if perRule[index].calls > 0, rule.scope != .all,
                    !state.hasSeenCalls[index] || now &- state.seenMarkedAt[index] > Self.seenMarkInterval
                {
                    // Kept with the known groups (and written again each day, so that retention keeps it), so
                    // that a restart that gets no call in this scope is quiet.
                    state.unsavedKnown.append(Self.seenKey(rule))
                    state.seenMarkedAt[index] = now
                }
                if perRule[index].calls > 0 { state.hasSeenCalls[index] = true }
                guard !state.isLoading else { continue }
                switch rule.condition.kind {
                case .newServerErrorGroup:
                    evaluateGroups(rule, index, window, now: now, in: &state, into: &events)
                case let .apiChange(kinds):
                    evaluateChanges(
                        rule, index, changes.filter { kinds.isEmpty || kinds.contains($0.kind.rawValue) }, now: now, in: &state,
                        into: &events)
                case let .consumerErrorRate(above, minimum):
                    var totals: [String: (calls: Double, serverErrors: Double)] = [:]
                    for summary in kept {
                        for (id, figures) in summary.consumers {
                            totals[id, default: (0, 0)].calls += figures.calls
                            totals[id, default: (0, 0)].serverErrors += figures.serverErrors
                        }
                    }
                    var seen = Set<String>()
                    for (id, figures) in totals {
                        seen.insert(id)
                        let rate = figures.calls > 0 ? figures.serverErrors / figures.calls : 0
                        let verdict: Verdict =
                            figures.calls < Double(minimum)
                            ? .unknown
                            : rate > above ? .breach : rate > above * (1 - rule.hysteresis) ? .holding : .clear
                        step(
                            rule, index, instance: "consumer \(id)", verdict: verdict, value: rate, now: now, in: &state,
                            into: &events,
                            summary:
                                "server errors \(Self.percent(rate)) of \(Self.count(figures.calls)) calls of \(id) over \(Self.span(rule.window)), threshold \(Self.percent(above))"
                        )
                    }
                    // A consumer with no calls left in the window: resolved.
                    for key in state.instances.keys
                    where key.rule == index && !seen.contains(String(key.instance.dropFirst("consumer ".count))) {
                        step(
                            rule, index, instance: key.instance, verdict: .clear, value: 0, now: now, in: &state, into: &events,
                            summary: "no calls of \(key.instance.dropFirst("consumer ".count)) over \(Self.span(rule.window))")
                    }
                default:
                    let (verdict, value, summary) = measure(rule, index, kept, now: now, state: state)
                    step(
                        rule, index, instance: "", verdict: verdict, value: value, now: now, in: &state, into: &events,
                        summary: summary)
                }
            }
            state.history.append(contentsOf: events)
            if state.history.count > Self.maxHistory { state.history.removeFirst(state.history.count - Self.maxHistory) }
            return events
        }
    }

    /// Whether the condition holds: breached (fires, or stays pending),
    /// holding (within the hysteresis: a firing alert stays, a pending one
    /// goes), clear, or unknown (too few calls to tell: nothing changes).
    enum Verdict {
        case breach, holding, clear, unknown
    }

    private func measure(
        _ rule: AlertRule, _ index: Int, _ kept: [Summary], now: Int64, state: State
    ) -> (Verdict, Double, String) {
        let calls = kept.reduce(0) { $0 + $1.calls }
        let over = Self.span(rule.window)
        switch rule.condition.kind {
        case let .serverErrorRate(above, minimum):
            let errors = kept.reduce(0) { $0 + $1.serverErrors }
            let rate = calls > 0 ? errors / calls : 0
            let verdict: Verdict =
                calls < Double(minimum)
                ? .unknown : rate > above ? .breach : rate > above * (1 - rule.hysteresis) ? .holding : .clear
            return (
                verdict, rate,
                "server errors \(Self.percent(rate)) of \(Self.count(calls)) calls over \(over), threshold \(Self.percent(above))"
            )
        case let .latency(percentile, seconds):
            var merged = LatencySketch()
            for summary in kept { if let latency = summary.latency { merged.merge(latency) } }
            guard let nanoseconds = merged.percentile(percentile / 100) else {
                return (.unknown, 0, "no calls over \(over)")
            }
            let value = nanoseconds / 1e9
            let verdict: Verdict = value > seconds ? .breach : value > seconds * (1 - rule.hysteresis) ? .holding : .clear
            return (
                verdict, value,
                "p\(Self.number(percentile)) \(Self.duration(value)) over \(over) (\(Self.count(calls)) calls), threshold \(Self.duration(seconds))"
            )
        case let .traffic(floor):
            // Quiet only after calls were seen, and once a whole window has passed since start.
            guard state.hasSeenCalls[index], let started = state.startedAt, now &- started >= rule.window.nanosecondsClamped
            else {
                return (.unknown, calls, "")
            }
            let verdict: Verdict =
                calls < Double(floor)
                ? .breach
                : calls < (Double(floor) * (1 + rule.hysteresis)).rounded(.down) ? .holding : .clear
            return (verdict, calls, "\(Self.count(calls)) calls over \(over), floor \(floor)")
        case .newServerErrorGroup, .apiChange, .consumerErrorRate:
            return (.unknown, 0, "")
        }
    }

    /// Text a client may have chosen (an error's message, a consumer's id)
    /// on one line of at most 300 characters: no control character reaches
    /// a log, a webhook or the dashboard.
    static func oneLine(_ text: String) -> String {
        guard
            text.unicodeScalars.contains(where: {
                $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}"
            }) || text.count > 300
        else {
            return text
        }
        return String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(300).map {
                    $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
                }))
    }

    /// Moves one alert by its verdict and tells what changed.
    private func step(
        _ rule: AlertRule, _ index: Int, instance: String, verdict: Verdict, value: Double, now: Int64,
        in state: inout State, into events: inout [AlertEvent], summary: String
    ) {
        let key = InstanceKey(rule: index, instance: instance)
        func event(_ kind: AlertEvent.State, since: Int64, isRepeat: Bool) -> AlertEvent {
            AlertEvent(
                rule: rule.name, state: kind, value: value, threshold: rule.condition.threshold, scope: rule.scope.description,
                instance: Self.oneLine(instance), timeNanoseconds: now, firingSinceNanoseconds: since, isRepeat: isRepeat,
                summary: Self.oneLine(summary))
        }
        guard var current = state.instances[key] else {
            guard verdict == .breach else { return }
            // A rule of one alert always has its place; rules of many share the rest, each at most maxInstancesPerRule.
            guard
                instance.isEmpty
                    || (state.instances.count < Self.maxInstances
                        && state.countsByRule[index, default: 0] < Self.maxInstancesPerRule)
            else {
                state.figures.droppedInstances += 1
                return
            }
            if !instance.isEmpty { state.countsByRule[index, default: 0] += 1 }
            var fresh = Instance(since: now, value: value)
            if rule.pendingFor <= .zero {
                fresh.isFiring = true
                fresh.firedAt = now
                fresh.toldAt = now
                events.append(event(.firing, since: now, isRepeat: false))
            }
            state.instances[key] = fresh
            return
        }
        current.value = value
        switch (verdict, current.isFiring) {
        case (.unknown, true):
            state.instances[key] = current
        case (.unknown, false):
            // Too few calls to tell: a pending alert starts again, so that `for` is always held in a row.
            state.remove(key)
        case (.breach, false):
            if now &- current.since >= rule.pendingFor.nanosecondsClamped {
                current.isFiring = true
                current.firedAt = now
                current.toldAt = now
                events.append(event(.firing, since: now, isRepeat: false))
            }
            state.instances[key] = current
        case (.holding, false), (.clear, false):
            state.remove(key)
        case (.breach, true), (.holding, true):
            if rule.repeatInterval > .zero, now &- current.toldAt >= rule.repeatInterval.nanosecondsClamped {
                current.toldAt = now
                events.append(event(.firing, since: current.firedAt, isRepeat: true))
            }
            state.instances[key] = current
        case (.clear, true):
            events.append(event(.resolved, since: current.firedAt, isRepeat: false))
            state.remove(key)
        }
    }
}
