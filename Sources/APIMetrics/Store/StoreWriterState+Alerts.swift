extension StoreWriterState {
    /// Reads the alert states and known error groups an earlier run left into `alerts`.
    func loadAlerts(into alerts: AlertEngine) {
        defer { alerts.finishLoading() }
        guard let connection, disabledReason == nil else { return }
        do {
            var stored: [AlertEngine.StoredAlert] = []
            let states = try connection.prepare(
                "SELECT rule, instance, firing, since, fired_at, told_at, value, last_active FROM alert_states")
            defer { states.reset() }
            while try states.step() {
                stored.append(
                    AlertEngine.StoredAlert(
                        rule: states.text(0), instance: states.text(1),
                        state: AlertEngine.Instance(
                            isFiring: states.int64(2) != 0, since: states.int64(3), firedAt: states.int64(4),
                            toldAt: states.int64(5),
                            value: states.double(6), lastActive: states.int64(7))))
            }
            var known: [String] = []
            let groups = try connection.prepare(
                "SELECT identity FROM alert_known ORDER BY seen DESC LIMIT \(AlertEngine.maxKnownGroups)")
            defer { groups.reset() }
            while try groups.step() { known.append(groups.text(0)) }
            let callsSeen = try connection.integer("SELECT count(*) FROM (SELECT 1 FROM metrics LIMIT 1)") > 0
            alerts.restore(stored, knownGroups: known, callsSeen: callsSeen)
        } catch {
            note(error: "cannot read the alerts' states from \(options.path): \(error)")
        }
    }

    /// Writes the transitions waiting (``pendingAlerts``), every alert's
    /// state and the error groups seen, in a transaction of their own; what
    /// fails is kept for the next window.
    func saveAlerts() {
        guard let alerts, let connection, let statements, disabledReason == nil else { return }
        let known = alerts.takeKnownGroups()
        let states = alerts.storedStates()
        let now = CaptureClock.wallNanoseconds()
        var current: [AlertEngine.InstanceName: AlertEngine.Instance] = [:]
        current.reserveCapacity(states.count)
        for alert in states { current[AlertEngine.InstanceName(rule: alert.rule, instance: alert.instance)] = alert.state }
        // Nothing new: no transaction at all.
        if pendingAlerts.isEmpty, known.isEmpty, let savedAlertStates, savedAlertStates == current { return }
        do {
            try transaction(statements) { () throws(SQLiteError) in
                if !pendingAlerts.isEmpty {
                    let insert = try connection.prepare(
                        """
                        INSERT INTO alert_events(time, rule, state, value, threshold, scope, instance, summary, firing_since, repeat)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                        """)
                    defer { insert.reset() }
                    for event in pendingAlerts {
                        insert.bind(1, event.timeNanoseconds)
                        insert.bind(2, event.rule)
                        insert.bind(3, event.state.rawValue)
                        insert.bind(4, event.value)
                        if let threshold = event.threshold { insert.bind(5, threshold) } else { insert.bindNull(5) }
                        insert.bind(6, event.scope)
                        insert.bind(7, TextLimit.cut(event.instance, maxBytes: 1_024))
                        insert.bind(8, TextLimit.cut(event.summary, maxBytes: 2_048))
                        insert.bind(9, event.firingSinceNanoseconds)
                        insert.bind(10, Int64(event.isRepeat ? 1 : 0))
                        try insert.run()
                    }
                }
                // Only what changed since the last write (all of it after a new connection or a failed write).
                if savedAlertStates == nil { try connection.execute("DELETE FROM alert_states") }
                let saved = savedAlertStates ?? [:]
                let gone = saved.keys.filter { current[$0] == nil }
                if !gone.isEmpty {
                    let delete = try connection.prepare("DELETE FROM alert_states WHERE rule = ?1 AND instance = ?2")
                    defer { delete.reset() }
                    for name in gone {
                        delete.bind(1, name.rule)
                        delete.bind(2, name.instance)
                        try delete.run()
                    }
                }
                let upsert = try connection.prepare(
                    """
                    INSERT OR REPLACE INTO alert_states(rule, instance, firing, since, fired_at, told_at, value, last_active)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                    """)
                defer { upsert.reset() }
                for alert in states
                where saved[AlertEngine.InstanceName(rule: alert.rule, instance: alert.instance)] != alert.state {
                    upsert.bind(1, alert.rule)
                    upsert.bind(2, alert.instance)
                    upsert.bind(3, Int64(alert.state.isFiring ? 1 : 0))
                    upsert.bind(4, alert.state.since)
                    upsert.bind(5, alert.state.firedAt)
                    upsert.bind(6, alert.state.toldAt)
                    upsert.bind(7, alert.state.value)
                    upsert.bind(8, alert.state.lastActive)
                    try upsert.run()
                }
                if !known.isEmpty {
                    let remember = try connection.prepare("INSERT OR REPLACE INTO alert_known(identity, seen) VALUES (?1, ?2)")
                    defer { remember.reset() }
                    for identity in known {
                        remember.bind(1, TextLimit.cut(identity, maxBytes: 2_048))
                        remember.bind(2, now)
                        try remember.run()
                    }
                }
            }
            pendingAlerts.removeAll()
            savedAlertStates = current
        } catch {
            // The groups go back to be written with the next window; the states are written whole then.
            savedAlertStates = nil
            alerts.returnKnownGroups(known)
            note(error: "cannot write the alerts to \(options.path): \(error)")
        }
    }
}
