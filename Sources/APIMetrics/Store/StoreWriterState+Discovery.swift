extension StoreWriterState {
    /// Reads the operations an earlier run learnt into `discovery`, then
    /// lets it report changes (until then every operation would look new).
    /// Rows that cannot be read are skipped and counted in the status.
    func loadDiscovery(into discovery: APIDiscovery) {
        defer { discovery.finishLoading() }
        guard let connection, disabledReason == nil else { return }
        var stored: [OperationShape] = []
        var unreadable = 0
        do {
            let select = try connection.prepare("SELECT shape FROM api_operations")
            defer { select.reset() }
            while try select.step() {
                if let operation = try? OperationShapeCodec.decode(select.blob(0)) {
                    stored.append(operation)
                } else {
                    unreadable += 1
                }
            }
        } catch {
            note(error: "cannot read the learnt API from \(options.path): \(error)")
            return
        }
        if unreadable > 0 {
            announcements.append("store: \(unreadable) learnt operation(s) in \(options.path) could not be read and start afresh")
        }
        discovery.merge(stored: stored)
    }

    /// Writes the operations learnt since the last time and the changes
    /// waiting (``pendingChanges``), in a transaction of their own (a shape
    /// that cannot be written never costs the calls theirs). What fails is
    /// kept for the next window.
    func saveDiscovery() {
        guard let connection, let statements, disabledReason == nil else { return }
        let operations = discovery?.takeUnsaved() ?? []
        let conformance = discovery?.conformance
        let findings = conformance?.takeUnsaved() ?? []
        guard !operations.isEmpty || !pendingChanges.isEmpty || !findings.isEmpty else { return }
        let now = CaptureClock.wallNanoseconds()
        do {
            try transaction(statements) { () throws(SQLiteError) in
                if !operations.isEmpty {
                    let upsert = try connection.prepare(
                        "INSERT OR REPLACE INTO api_operations(method, route, shape, updated) VALUES (?1, ?2, ?3, ?4)")
                    defer { upsert.reset() }
                    for operation in operations {
                        upsert.bind(1, operation.method)
                        upsert.bind(2, operation.route)
                        upsert.bind(3, blob: operation.shape)
                        upsert.bind(4, now)
                        try upsert.run()
                    }
                }
                if !pendingChanges.isEmpty {
                    let insert = try connection.prepare(
                        """
                        INSERT INTO api_changes(time, method, route, kind, location, detail, example_hi, example_lo)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                        """)
                    defer { insert.reset() }
                    for change in pendingChanges {
                        insert.bind(1, change.time)
                        insert.bind(2, change.method)
                        insert.bind(3, change.route)
                        insert.bind(4, change.kind.rawValue)
                        insert.bind(5, TextLimit.cut(change.location, maxBytes: 1_024))
                        insert.bind(6, TextLimit.cut(change.detail, maxBytes: 1_024))
                        insert.bind(7, Int64(bitPattern: change.example.high))
                        insert.bind(8, Int64(bitPattern: change.example.low))
                        try insert.run()
                    }
                }
                if let conformance, !findings.isEmpty {
                    try saveFindings(findings, digest: conformance.spec.digest, connection)
                }
            }
            pendingChanges.removeAll()
        } catch {
            // Marked changed again: written with the next window.
            discovery?.markUnsaved(operations.map { APIDiscovery.Key(method: $0.method, route: $0.route) })
            conformance?.markUnsaved(findings)
            note(error: "cannot write the learnt API to \(options.path): \(error)")
        }
    }

    /// Adds the counts of `findings` to their rows (at most
    /// ``maxStoredFindings`` rows a spec: past them new places are not stored).
    private func saveFindings(_ findings: [SpecFinding], digest: String, _ connection: SQLiteConnection) throws(SQLiteError) {
        var stored = try connection.integer("SELECT count(*) FROM spec_findings")
        var lostFindings = 0
        let upsert = try connection.prepare(
            """
            INSERT INTO spec_findings(spec, method, path, rule, location, count, first_seen, last_seen, example_hi, example_lo)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            ON CONFLICT(spec, method, path, rule, location) DO UPDATE SET
                count = count + excluded.count, last_seen = max(last_seen, excluded.last_seen)
            """)
        defer { upsert.reset() }
        let update = try connection.prepare(
            """
            UPDATE spec_findings SET count = count + ?6, last_seen = max(last_seen, ?8)
            WHERE spec = ?1 AND method = ?2 AND path = ?3 AND rule = ?4 AND location = ?5
            """)
        defer { update.reset() }
        for finding in findings {
            // Past the bound only rows already there grow.
            let statement = stored < Self.maxStoredFindings ? upsert : update
            statement.bind(1, digest)
            statement.bind(2, finding.key.method)
            statement.bind(3, TextLimit.cut(finding.key.path, maxBytes: 1_024))
            statement.bind(4, finding.key.rule)
            statement.bind(5, TextLimit.cut(finding.key.location, maxBytes: 1_024))
            statement.bind(6, Int64(finding.finding.count))
            statement.bind(7, finding.finding.firstSeen)
            statement.bind(8, finding.finding.lastSeen)
            if statement === upsert {
                statement.bind(9, Int64(bitPattern: finding.finding.example.high))
                statement.bind(10, Int64(bitPattern: finding.finding.example.low))
            }
            try statement.run()
            if statement === upsert {
                stored += 1
            } else if connection.changes == 0 {
                // A new place past the bound: not stored, and said so.
                lostFindings += finding.finding.count
            }
        }
        if lostFindings > 0 {
            announcements.append(
                "store: \(lostFindings) spec finding(s) at new places were not stored: \(options.path) holds \(Self.maxStoredFindings) rows of them"
            )
        }
    }

    /// The most rows of spec findings the store keeps.
    static let maxStoredFindings = 100_000
}
