extension StoreReader {
    /// An alert firing as the store last saw it.
    struct FiringAlert: Sendable {
        var rule: String
        var instance: String
        var since: Int64
        var value: Double
    }

    /// The alerts firing at the last window the writer saved.
    func firingAlerts() throws(StoreReadError) -> [FiringAlert] {
        try query { connection throws(SQLiteError) in
            guard try Self.hasAlertTables(connection) else { return [] }
            let select = try connection.prepare(
                "SELECT rule, instance, fired_at, value FROM alert_states WHERE firing = 1 ORDER BY fired_at, rule, instance LIMIT 1000"
            )
            var alerts: [FiringAlert] = []
            while try select.step() {
                alerts.append(
                    FiringAlert(rule: select.text(0), instance: select.text(1), since: select.int64(2), value: select.double(3)))
            }
            return alerts
        }
    }

    /// The transitions told in `range`, newest first.
    func alertEvents(_ range: StoreTimeRange, limit: Int) throws(StoreReadError) -> [AlertEvent] {
        try query { connection throws(SQLiteError) in
            guard try Self.hasAlertTables(connection) else { return [] }
            let select = try connection.prepare(
                """
                SELECT time, rule, state, value, threshold, scope, instance, summary, firing_since, repeat FROM alert_events
                WHERE time >= ?1 AND time < ?2 ORDER BY time DESC, id DESC LIMIT ?3
                """)
            select.bind(1, range.from)
            select.bind(2, range.to)
            select.bind(3, limit)
            var events: [AlertEvent] = []
            while try select.step() {
                events.append(
                    AlertEvent(
                        rule: select.text(1), state: AlertEvent.State(rawValue: select.text(2)) ?? .firing,
                        value: select.double(3),
                        threshold: select.isNull(4) ? nil : select.double(4), scope: select.text(5), instance: select.text(6),
                        timeNanoseconds: select.int64(0), firingSinceNanoseconds: select.int64(8), isRepeat: select.int64(9) != 0,
                        summary: select.text(7)))
            }
            return events
        }
    }

    private static func hasAlertTables(_ connection: SQLiteConnection) throws(SQLiteError) -> Bool {
        try connection.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alert_events'") > 0
    }
}
