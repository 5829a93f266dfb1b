import Synchronization

/// Shadow validation: each call checked against the team's own spec
/// (``DiscoveryOptions/specPath``), in the sender, before redaction. What a
/// call breaks is counted per operation, rule and place, with when it was
/// first and last seen and one example call; never a value.
///
/// A call whose route names no operation of the spec is an
/// `undocumented_operation`; its status, media type, parameters and JSON
/// bodies are checked against the operation's (``SpecValidator``). A call
/// without a route that matches no path of the spec is counted in
/// ``Totals/unmatched`` only (its path is the client's), as is one whose
/// method is not a registered one or is an `OPTIONS` the spec does not
/// describe (a CORS preflight); a `HEAD` is checked as the path's `GET`
/// when the spec has no `HEAD`.
///
/// Bounded: ``maxFindings`` findings (later ones counted in
/// ``Totals/droppedFindings``), ``SpecValidator/maxViolations`` a body.
final class SpecConformance: Sendable {
    let spec: OpenAPISpec
    /// Where the spec was read from, for the report.
    let source: String
    private let byMethod: [String: [Int]]
    private let state: Mutex<State>

    /// The most findings (operation, rule, place) kept.
    static let maxFindings = 10_000
    /// The most routes whose operation is remembered.
    static let maxRoutes = 10_000

    struct FindingKey: Sendable, Hashable {
        var method: String
        /// The spec's path (`/pets/{id}`), or the route of an undocumented operation.
        var path: String
        var rule: String
        var location: String
    }

    struct Finding: Sendable, Hashable {
        var count = 0
        var firstSeen: Int64
        var lastSeen: Int64
        var example: EventID
        /// Of ``count``, how many the store has.
        var saved = 0
    }

    /// Calls checked, and what they came to.
    struct Totals: Sendable, Hashable {
        var checked = 0
        var conforming = 0
        var violating = 0
        /// Calls without a route whose path no operation of the spec matched.
        var unmatched = 0
        /// Findings past ``SpecConformance/maxFindings``, not kept.
        var droppedFindings = 0
        /// Bodies the budget of ``SpecValidator/maxSteps`` cut short.
        var exhausted = 0
    }

    /// The most places one rule of one operation is listed at.
    static let maxPlacesPerRule = 32

    struct RuleKey: Sendable, Hashable {
        var method: String
        var path: String
        var rule: String
    }

    struct State: Sendable {
        var findings: [FindingKey: Finding] = [:]
        /// Places listed per rule of an operation (at most ``SpecConformance/maxPlacesPerRule``).
        var places: [RuleKey: Int] = [:]
        var totals = Totals()
        /// Calls per operation of the spec.
        var calls: [Int]
        var routes: [RouteKey: Int?] = [:]
    }

    init(spec: OpenAPISpec, source: String) {
        self.spec = spec
        self.source = source
        var byMethod: [String: [Int]] = [:]
        for (index, operation) in spec.operations.enumerated() { byMethod[operation.method, default: []].append(index) }
        self.byMethod = byMethod
        state = Mutex(State(calls: Array(repeating: 0, count: spec.operations.count)))
    }

    /// Checks one call (before redaction).
    func check(_ record: ExchangeRecord) {
        guard record.direction == .incoming else { return }
        let request = record.request
        var target = request.target
        let path = target.withUTF8 { bytes in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[URLTarget.parts(of: bytes).path]), as: UTF8.self)
        }
        let route = request.route.flatMap { $0.isEmpty || $0 == SeriesKey.otherRoute ? nil : $0 }
        // A HEAD is a GET without its body (RFC 9110 §9.3.2): servers answer it for their GET routes.
        let index =
            operationIndex(method: request.method, route: route, path: path)
            ?? (request.method == "HEAD" ? operationIndex(method: "GET", route: route, path: path) : nil)
        guard let index else {
            state.withLock { state in
                state.totals.checked += 1
                // Only a route with a method of the registry names an operation (a client chooses the
                // method); a CORS preflight (OPTIONS) is the server's, not the API's.
                guard let route, APIDiscovery.isLearnt(method: request.method), request.method != "OPTIONS" else {
                    state.totals.unmatched += 1
                    return
                }
                state.totals.violating += 1
                note(
                    [.init(rule: "undocumented_operation", location: "")], method: request.method, path: route, record: record,
                    in: &state)
            }
            return
        }
        let operation = spec.operations[index]
        var violations: [SpecValidator.Violation] = []
        var exhausted = false
        checkParameters(
            operation, target: request.target, path: path, headers: request.headers, into: &violations, exhausted: &exhausted)
        checkRequestBody(operation, record: record, into: &violations, exhausted: &exhausted)
        checkResponse(operation, record: record, into: &violations, exhausted: &exhausted)
        state.withLock { state in
            state.totals.checked += 1
            state.calls[index] += 1
            if exhausted { state.totals.exhausted += 1 }
            if violations.isEmpty {
                state.totals.conforming += 1
            } else {
                state.totals.violating += 1
                note(violations, method: operation.method, path: operation.path, record: record, in: &state)
            }
        }
    }

    private func note(
        _ violations: [SpecValidator.Violation], method: String, path: String, record: ExchangeRecord, in state: inout State
    ) {
        for violation in violations {
            let key = FindingKey(
                method: method, path: path, rule: violation.rule, location: TextLimit.cut(violation.location, maxBytes: 512))
            if let index = state.findings.index(forKey: key) {
                state.findings.values[index].count += 1
                state.findings.values[index].lastSeen = max(state.findings.values[index].lastSeen, record.startTimeNanoseconds)
            } else if state.findings.count < Self.maxFindings {
                // Past maxPlacesPerRule places of one rule of one operation, the rest are one place, `*`:
                // names a client makes up (members, media types) cannot fill the findings.
                let rule = RuleKey(method: method, path: path, rule: violation.rule)
                var key = key
                if state.places[rule, default: 0] >= Self.maxPlacesPerRule {
                    key.location = "*"
                    if let index = state.findings.index(forKey: key) {
                        state.findings.values[index].count += 1
                        state.findings.values[index].lastSeen = max(
                            state.findings.values[index].lastSeen, record.startTimeNanoseconds)
                        continue
                    }
                } else {
                    state.places[rule, default: 0] += 1
                }
                state.findings[key] = Finding(
                    count: 1, firstSeen: record.startTimeNanoseconds, lastSeen: record.startTimeNanoseconds, example: record.id)
            } else {
                state.totals.droppedFindings += 1
            }
        }
    }

    // MARK: Operations

    /// The spec's operation for a call: by its route template when it has
    /// one (remembered), by its path otherwise. Literal segments beat
    /// templated ones, as OpenAPI says.
    func operationIndex(method: String, route: String?, path: String) -> Int? {
        guard let candidates = byMethod[method] else { return nil }
        if let route {
            let key = RouteKey(method: method, route: route)
            if let known = state.withLock({ $0.routes[key] }) { return known }
            let found = spec.bestOperation(among: candidates, route: route, isPath: false)
            state.withLock { state in
                if state.routes.count < Self.maxRoutes { state.routes[key] = found }
            }
            return found
        }
        return spec.bestOperation(among: candidates, route: path, isPath: true)
    }

    struct RouteKey: Sendable, Hashable {
        var method: String
        var route: String
    }
}

extension SpecConformance {
    /// The totals, the findings (most frequent first) and the operations of
    /// the spec that calls reached.
    func snapshot() -> (totals: Totals, findings: [SpecFinding], called: Set<Int>) {
        // Copied under the lock, sorted outside it (the sender waits for it).
        let (totals, findings, calls) = state.withLock { state in (state.totals, state.findings, state.calls) }
        let sorted = findings.map { SpecFinding(key: $0.key, finding: $0.value) }.sorted()
        return (totals, sorted, Set(calls.indices.filter { calls[$0] > 0 }))
    }

    /// What was counted since the last call, for the store: each finding
    /// with the count it gained (added to the stored row's).
    func takeUnsaved() -> [SpecFinding] {
        state.withLock { state in
            var unsaved: [SpecFinding] = []
            for index in state.findings.indices where state.findings.values[index].count > state.findings.values[index].saved {
                var finding = state.findings.values[index]
                finding.count -= finding.saved
                state.findings.values[index].saved = state.findings.values[index].count
                unsaved.append(SpecFinding(key: state.findings.keys[index], finding: finding))
            }
            return unsaved
        }
    }

    /// Gives back counts a write of them failed to store.
    func markUnsaved(_ findings: [SpecFinding]) {
        state.withLock { state in
            for finding in findings {
                state.findings[finding.key]?.saved -= finding.finding.count
            }
        }
    }
}

/// One rule an operation's calls broke, where, how often, and when.
struct SpecFinding: Sendable, Hashable, Comparable {
    var key: SpecConformance.FindingKey
    var finding: SpecConformance.Finding

    /// Most frequent first, then by path, method, rule and place.
    static func < (lhs: SpecFinding, rhs: SpecFinding) -> Bool {
        if lhs.finding.count != rhs.finding.count { return lhs.finding.count > rhs.finding.count }
        return (lhs.key.path, lhs.key.method, lhs.key.rule, lhs.key.location) < (
            rhs.key.path, rhs.key.method, rhs.key.rule, rhs.key.location
        )
    }
}
