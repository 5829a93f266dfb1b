import Synchronization

extension AlertEngine {
    /// A scope and what its summary needs: rules sharing one share its summary.
    struct SummaryKey: Hashable {
        var scope: AlertScope
        var latency: Bool
        var consumers: Bool
    }

    /// The calls of a window that fall in a scope.
    func summarize(_ window: MetricsWindow, key: SummaryKey, byRoute: inout [String: [Int]]?) -> Summary {
        var summary = Summary(start: window.startNanoseconds, end: window.endNanoseconds)
        if key.latency { summary.latency = LatencySketch() }
        func add(_ series: SeriesMetrics) {
            summary.calls += Double(series.requests)
            summary.serverErrors += Double(series.serverErrors)
            if key.latency { summary.latency?.merge(series.latency) }
        }
        switch key.scope.kind {
        case .all:
            for series in window.series { add(series) }
        case let .method(method):
            for series in window.series where series.key.method == method { add(series) }
        case let .route(route, method):
            // The window's series by route once, for every route rule of it.
            if byRoute == nil {
                // Routes written one way, remembered: a window's thousand series cost a lookup each, not a split.
                var index: [String: [Int]] = [:]
                routeForms.withLock { forms in
                    for (position, series) in window.series.enumerated() {
                        let route = series.key.route
                        let form: String
                        if let known = forms[route] {
                            form = known
                        } else {
                            form = Self.normalized(route)
                            if forms.count < Self.maxRouteForms { forms[route] = form }
                        }
                        index[form, default: []].append(position)
                    }
                }
                byRoute = index
            }
            let form = routeForms.withLock { forms in forms[route] } ?? Self.normalized(route)
            for position in byRoute?[form] ?? [] where method == nil || window.series[position].key.method == method {
                add(window.series[position])
            }
        case let .consumer(id):
            if let consumer = window.consumers.first(where: { $0.id == id }) {
                summary.calls = consumer.requests
                summary.serverErrors = consumer.serverErrors
            }
        case let .consumerGroup(group):
            for consumer in window.consumers where consumer.group == group {
                summary.calls += consumer.requests
                summary.serverErrors += consumer.serverErrors
            }
        }
        if key.consumers {
            for consumer in window.consumers where consumer.id != ConsumerMetrics.otherConsumersID {
                if case let .consumer(id) = key.scope.kind, id != consumer.id { continue }
                if case let .consumerGroup(group) = key.scope.kind, group != consumer.group { continue }
                summary.consumers[consumer.id] = (consumer.requests, consumer.serverErrors)
            }
        }
        return summary
    }

    /// A route with its parameters written one way (`/orders/{id}` and `/orders/:id` are one route).
    static func normalized(_ route: String) -> String {
        guard route.contains(where: { $0 == ":" || $0 == "{" }) else { return route }
        return route.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.first == ":" || (segment.first == "{" && segment.last == "}") ? "{}" : String(segment)
        }.joined(separator: "/")
    }

    /// New server-error groups in the scope fire, each an alert of its own;
    /// one resolves once the rule's window passes without it.
    func evaluateGroups(
        _ rule: AlertRule, _ index: Int, _ window: MetricsWindow, now: Int64, in state: inout State,
        into events: inout [AlertEvent]
    ) {
        for group in window.serverErrors where Self.inScope(rule.scope, method: group.method, route: group.route) {
            let name = "\(group.method) \(group.route) \(group.type)"
            let identity = "\(group.method) \(group.route)\u{1F}\(group.type)\u{1F}\(group.message)"
            let key = InstanceKey(rule: index, instance: name)
            if var current = state.instances[key] {
                current.lastActive = now
                current.value += group.count
                state.instances[key] = current
                // Another message of the same error, seen while it fires: not new once it resolves either.
                if !state.knownGroups.contains(identity), state.knownGroups.count < Self.maxKnownGroups {
                    state.knownGroups.insert(identity)
                    state.unsavedKnown.append(identity)
                }
                continue
            }
            guard !state.knownGroups.contains(identity) else { continue }
            if state.knownGroups.count < Self.maxKnownGroups {
                state.knownGroups.insert(identity)
                state.unsavedKnown.append(identity)
            }
            guard state.instances.count < Self.maxInstances, state.countsByRule[index, default: 0] < Self.maxInstancesPerRule
            else {
                state.figures.droppedInstances += 1
                continue
            }
            state.countsByRule[index, default: 0] += 1
            state.instances[key] = Instance(
                isFiring: true, since: now, firedAt: now, toldAt: now, value: group.count, lastActive: now)
            events.append(
                AlertEvent(
                    rule: rule.name, state: .firing, value: group.count, threshold: nil, scope: rule.scope.description,
                    instance: Self.oneLine(name),
                    timeNanoseconds: now, firingSinceNanoseconds: now, isRepeat: false,
                    summary: Self.oneLine(
                        "new server error on \(group.method) \(group.route): \(group.type): \(TextLimit.cut(group.message, maxBytes: 200))"
                    )))
        }
        resolveQuiet(rule, index, now: now, in: &state, into: &events, what: "no more of it")
    }

    /// API changes in the scope fire, each an alert of its own, resolved once the window passes.
    func evaluateChanges(
        _ rule: AlertRule, _ index: Int, _ changes: [APIChange], now: Int64, in state: inout State,
        into events: inout [AlertEvent]
    ) {
        // What a client sends (a request body, a query, a header) is the client's to change: only the API's own changes page.
        for change in changes
        where Self.inScope(rule.scope, method: change.method, route: change.route)
            && !["request ", "query ", "header "].contains(where: { change.location.hasPrefix($0) })
        {
            let name = "\(change.method) \(change.route) \(change.kind.rawValue) \(change.location)"
            let key = InstanceKey(rule: index, instance: name)
            if state.instances[key] != nil {
                state.instances[key]?.lastActive = now
                continue
            }
            guard state.instances.count < Self.maxInstances, state.countsByRule[index, default: 0] < Self.maxInstancesPerRule
            else {
                state.figures.droppedInstances += 1
                continue
            }
            state.countsByRule[index, default: 0] += 1
            state.instances[key] = Instance(isFiring: true, since: now, firedAt: now, toldAt: now, value: 1, lastActive: now)
            events.append(
                AlertEvent(
                    rule: rule.name, state: .firing, value: 1, threshold: nil, scope: rule.scope.description,
                    instance: Self.oneLine(name),
                    timeNanoseconds: now, firingSinceNanoseconds: now, isRepeat: false,
                    summary: Self.oneLine(
                        "API change: \(change.kind.rawValue.replacingUnderscores) on \(change.method) \(change.route) \(change.location) (example call \(change.example))"
                    )))
        }
        resolveQuiet(rule, index, now: now, in: &state, into: &events, what: "no repeat")
    }

    private func resolveQuiet(
        _ rule: AlertRule, _ index: Int, now: Int64, in state: inout State, into events: inout [AlertEvent], what: String
    ) {
        for (key, instance) in state.instances
        where key.rule == index && now &- instance.lastActive >= rule.window.nanosecondsClamped {
            state.remove(key)
            events.append(
                AlertEvent(
                    rule: rule.name, state: .resolved, value: instance.value, threshold: nil, scope: rule.scope.description,
                    instance: key.instance,
                    timeNanoseconds: now, firingSinceNanoseconds: instance.firedAt, isRepeat: false,
                    summary: Self.oneLine("\(key.instance): \(what) over \(Self.span(rule.window))")))
        }
    }

    static func inScope(_ scope: AlertScope, method: String, route: String) -> Bool {
        switch scope.kind {
        case .all, .consumer, .consumerGroup: true
        case let .method(expected): method == expected
        case let .route(expected, expectedMethod):
            normalized(route) == normalized(expected) && (expectedMethod == nil || expectedMethod == method)
        }
    }

    // MARK: Words

    static func percent(_ share: Double) -> String {
        let value = (share * 1_000).rounded() / 10
        return (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }

    static func count(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String((value * 10).rounded() / 10)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func duration(_ seconds: Double) -> String {
        seconds >= 1 ? "\(number((seconds * 100).rounded() / 100)) s" : "\(number((seconds * 10_000).rounded() / 10)) ms"
    }

    static func span(_ duration: Duration) -> String {
        let seconds = Int(duration.seconds.rounded())
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

extension AlertRule {
    var needsLatency: Bool {
        if case .latency = condition.kind { true } else { false }
    }

    var needsConsumers: Bool {
        if case .consumerErrorRate = condition.kind { true } else { false }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
