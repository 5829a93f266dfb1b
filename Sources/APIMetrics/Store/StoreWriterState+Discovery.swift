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
                if let operation = try? OperationShapeCodec.decode(select.blob(0)) { stored.append(operation) } else { unreadable += 1 }
            }
        } catch {
            note(error: "cannot read the learnt API from \(options.path): \(error)")
            return
        }
        if unreadable > 0 { announcements.append("store: \(unreadable) learnt operation(s) in \(options.path) could not be read and start afresh") }
        discovery.merge(stored: stored)
    }

    /// Writes the operations learnt since the last time and the changes
    /// waiting (``pendingChanges``), inside the caller's transaction.
    func saveDiscovery(_ connection: SQLiteConnection) throws(SQLiteError) {
        let operations = discovery?.takeUnsaved() ?? []
        let now = CaptureClock.wallNanoseconds()
        do {
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
                let insert = try connection.prepare("""
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
        } catch {
            // The operations go with the next window's write (marked changed again).
            if let discovery { discovery.markUnsaved(operations.map { APIDiscovery.Key(method: $0.method, route: $0.route) }) }
            throw error
        }
    }
}
