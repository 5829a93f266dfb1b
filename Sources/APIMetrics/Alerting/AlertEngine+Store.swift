import Synchronization

extension AlertEngine {
    /// One alert's state as the store keeps it, by rule name.
    struct StoredAlert: Sendable, Hashable {
        var rule: String
        var instance: String
        var state: Instance
    }

    /// An alert by rule name and instance, as the store keys it.
    struct InstanceName: Sendable, Hashable {
        var rule: String
        var instance: String
    }

    /// Every alert's state now, for the store.
    func storedStates() -> [StoredAlert] {
        state.withLock { state in
            state.instances.map { StoredAlert(rule: rules[$0.key.rule].name, instance: $0.key.instance, state: $0.value) }
        }
    }

    /// The server-error groups seen since the last call, for the store.
    func takeKnownGroups() -> [String] {
        state.withLock { state in
            defer { state.unsavedKnown.removeAll() }
            return state.unsavedKnown
        }
    }

    /// Says that an earlier run's states are on their way from the store
    /// (``restore(_:knownGroups:)``, then ``finishLoading()``).
    func startLoading() {
        state.withLock { $0.isLoading = true }
    }

    /// Lets alerts move again.
    func finishLoading() {
        state.withLock { $0.isLoading = false }
    }

    /// Whether an earlier run's states are still on their way: windows cut
    /// meanwhile move no alert.
    var isLoading: Bool { state.withLock { $0.isLoading } }

    /// What the store keeps, with the known groups, for a rule that saw calls
    /// in its scope: its name and scope, after a character no group's identity has.
    static func seenKey(_ rule: AlertRule) -> String {
        "\u{1F}seen\u{1F}\(rule.name)\u{1F}\(rule.scope)"
    }

    /// Gives back groups a write of them failed to store.
    func returnKnownGroups(_ groups: [String]) {
        state.withLock { $0.unsavedKnown = groups + $0.unsavedKnown }
    }

    /// Takes up what an earlier run left: alerts of rules that still exist
    /// (by name) keep their state, so that one firing then is not told again
    /// (it resolves as usual when its condition clears), and the groups it
    /// saw are not new. What this run already decided is kept.
    func restore(_ stored: [StoredAlert], knownGroups: [String], callsSeen: Bool = false) {
        var index: [String: Int] = [:]
        for (position, rule) in rules.enumerated() { index[rule.name] = position }
        state.withLock { state in
            // Firing ones only (a pending one starts again), with times that make sense (a damaged file's cannot trap).
            let now = CaptureClock.wallNanoseconds()
            for alert in stored where alert.state.isFiring {
                let times = [alert.state.since, alert.state.firedAt, alert.state.toldAt, alert.state.lastActive]
                guard let rule = index[alert.rule], times.allSatisfy({ (0...now).contains($0) }),
                    state.instances.count < Self.maxInstances
                else { continue }
                let key = InstanceKey(rule: rule, instance: alert.instance)
                guard state.instances[key] == nil else { continue }
                if !alert.instance.isEmpty {
                    guard state.countsByRule[rule, default: 0] < Self.maxInstancesPerRule else { continue }
                    state.countsByRule[rule, default: 0] += 1
                }
                state.instances[key] = alert.state
            }
            // Calls an earlier run saw count for silence (a restart that gets none is quiet): for all calls,
            // any call stored; for a scope, the rule's mark that it saw calls in it.
            let known = Set(knownGroups)
            for (index, rule) in rules.enumerated() where rule.scope == .all ? callsSeen : known.contains(Self.seenKey(rule)) {
                state.hasSeenCalls[index] = true
            }
            for identity in knownGroups where state.knownGroups.count < Self.maxKnownGroups {
                state.knownGroups.insert(identity)
            }
        }
    }
}
