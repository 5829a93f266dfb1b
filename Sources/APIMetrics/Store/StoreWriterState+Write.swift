extension StoreWriterState {
    /// Writes the batches in one transaction: their calls, profile
    /// updates, and every metrics window still pending (theirs and those of
    /// failed transactions before them).
    func write(_ batches: [ExportBatch]) -> Outcome {
        for batch in batches where batch.hasMetrics {
            pending.append(
                PendingMetrics(
                    identity: batch.identity, metrics: batch.metrics, heartbeat: batch.heartbeat,
                    startup: batch.startup, statistics: batch.statistics))
        }
        if pending.count > Self.maxPendingWindows { pending.removeFirst(pending.count - Self.maxPendingWindows) }
        for batch in batches { pendingChanges.append(contentsOf: batch.apiChanges) }
        for batch in batches { pendingAlerts.append(contentsOf: batch.alerts) }
        if pendingAlerts.count > AlertEngine.maxHistory {
            pendingAlerts.removeFirst(pendingAlerts.count - AlertEngine.maxHistory)
        }
        if pendingChanges.count > APIDiscovery.maxChanges {
            pendingChanges.removeFirst(pendingChanges.count - APIDiscovery.maxChanges)
        }
        let calls = batches.reduce(0) { $0 + $1.records.count }
        if connection == nil, disabledReason == nil { open() }
        var outcome = Outcome()
        outcome.warning = announcements.joined(separator: "; ").nilIfEmpty
        announcements.removeAll()
        guard let connection, let statements, disabledReason == nil else {
            pending.removeAll()
            return merge(outcome, lose(calls, reason: disabledReason ?? "the store is not open"))
        }
        makeRoom(forBytes: Int64(batches.reduce(0) { $0 + StoreWriter.estimatedBytes($1) }) * 3 / 2)
        do {
            try transaction(statements) { () throws(SQLiteError) in
                for batch in batches {
                    try insert(batch.records, statements)
                    for entity in batch.entities { try insert(entity, statements) }
                }
                try writePending(connection)
            }
            pending.removeAll()
            // The learnt API once per window (and at close), not with every commit.
            if batches.contains(where: \.hasMetrics) {
                saveDiscovery()
                saveAlerts()
            }
            let cacheBytes = connection.cacheBytes
            status.withLock {
                $0.writtenCalls += calls
                $0.commits += 1
                $0.cacheBytes = cacheBytes
                $0.pendingWindows = 0
                if $0.lastError != nil { $0.lastError = nil; $0.lastErrorAt = nil }
            }
            isAnnouncingLosses = false
        } catch {
            forgetCachedIDs()
            if error.isCorrupt, !isRecovering {
                recoverFromCorruption(.corrupt(error))
                if self.connection != nil {
                    // Once more on the fresh file: the calls, and the windows still pending.
                    isRecovering = true
                    defer { isRecovering = false }
                    return merge(outcome, write(batches.map(Self.withoutMetrics)))
                }
            }
            status.withLock { $0.pendingWindows = pending.count }
            // A full disk: retention runs at the next write, then space is reused.
            if error.isFull { lastRetentionNanoseconds = 0 }
            let reason = error.isFull ? "the disk (or the store's page limit) is full" : "\(error)"
            return merge(outcome, lose(calls, reason: "cannot write \(options.path): \(reason)"))
        }
        runRetentionIfDue()
        return outcome
    }

    private static func withoutMetrics(_ batch: ExportBatch) -> ExportBatch {
        var copy = batch
        // Already among the pending changes.
        copy.apiChanges = []
        copy.metrics = nil
        copy.heartbeat = nil
        copy.startup = nil
        return copy
    }

    private func merge(_ first: Outcome, _ second: Outcome) -> Outcome {
        Outcome(
            lost: first.lost + second.lost, message: second.message ?? first.message,
            warning: [first.warning, second.warning].compactMap { $0 }.joined(separator: "; ").nilIfEmpty)
    }

    /// Counts `count` calls as lost; says why the first time after a success.
    func lose(_ count: Int, reason: String) -> Outcome {
        note(error: reason)
        status.withLock { $0.droppedCalls += count }
        guard count > 0 else { return Outcome() }
        defer { isAnnouncingLosses = true }
        return Outcome(
            lost: count,
            message: isAnnouncingLosses ? "" : "store: \(reason); calls are counted as dropped until it can be written")
    }

    func transaction(_ statements: StoreStatements, _ body: () throws(SQLiteError) -> Void) throws(SQLiteError) {
        try statements.begin.run()
        do {
            try body()
            try statements.commit.run()
        } catch {
            try? statements.rollback.run()
            throw error
        }
    }

    func forgetCachedIDs() {
        endpointIDs = [:]
        seriesIDs = [:]
        consumerIDs = [:]
        runIDs = [:]
        endpointCount = 0
    }

    // MARK: Calls

    private func insert(_ records: [ExchangeRecord], _ statements: StoreStatements) throws(SQLiteError) {
        guard !records.isEmpty else { return }
        var lastSeen: [Int64: Int64] = [:]
        var encoder = BinaryWriter()
        var ends: [Int] = []
        ends.reserveCapacity(StoreStatements.callsPerInsert)
        var start = records.startIndex
        while start < records.endIndex {
            // Full groups in one statement; what is left one call at a time.
            let group = records.endIndex - start >= StoreStatements.callsPerInsert ? StoreStatements.callsPerInsert : 1
            let statement = group == 1 ? statements.insertCall : statements.insertCalls
            encoder.bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            do {
                for row in 0..<group {
                    yielder.checkpoint()
                    try bind(
                        records[start + row], row: Int32(row), to: statement, encoder: &encoder, lastSeen: &lastSeen,
                        statements)
                    ends.append(encoder.bytes.count)
                }
            } catch {
                // A lookup failed with rows bound: none of them is left for
                // the statement's next use.
                statement.reset()
                throw error
            }
            // The encoded records are read where they lie, not copied by
            // SQLite: the insert runs, and resets, while the bytes are there.
            let inserted = encoder.bytes.withUnsafeBytes { [ends] blobs -> Result<Void, SQLiteError> in
                var from = 0
                for (row, end) in ends.enumerated() {
                    // The record is each row's last column.
                    let column = (Int32(row) + 1) * StoreStatements.callColumns
                    statement.bindInPlace(column, blob: UnsafeRawBufferPointer(rebasing: blobs[from..<end]))
                    from = end
                }
                do throws(SQLiteError) { try statement.run() } catch { return .failure(error) }
                return .success(())
            }
            try inserted.get()
            start += group
        }
        for (id, time) in lastSeen {
            statements.consumerSeen.bind(1, id)
            statements.consumerSeen.bind(2, time)
            try statements.consumerSeen.run()
        }
    }

    /// Binds one call's columns but its record to `statement`'s row `row`,
    /// and appends the record, encoded, to `encoder`.
    private func bind(
        _ record: borrowing ExchangeRecord, row: Int32, to call: SQLiteStatement, encoder: inout BinaryWriter,
        lastSeen: inout [Int64: Int64], _ statements: StoreStatements
    ) throws(SQLiteError) {
        let endpointID = try endpointID(method: record.request.method, route: record.request.route ?? "", statements)
        var consumerID: Int64?
        if let consumer = record.consumer {
            let id = try self.consumerID(consumer, time: record.startTimeNanoseconds, statements)
            consumerID = id
            lastSeen[id] = max(lastSeen[id] ?? .min, record.startTimeNanoseconds)
        }
        encoder.byte(RecordCodec.version)
        // Not shown anywhere the store is read: a session is the user's secret.
        encoder.record(record, keepingSessionToken: false)
        let base = row * StoreStatements.callColumns
        call.bind(base + 1, record.startTimeNanoseconds)
        call.bind(base + 2, Int64(bitPattern: record.id.high))
        call.bind(base + 3, Int64(bitPattern: record.id.low))
        // Every column of the row is bound, NULL included: a statement's
        // rows are bound again for each group of calls.
        call.bind(base + 4, record.parentID.map { Int64(bitPattern: $0.high) })
        call.bind(base + 5, record.parentID.map { Int64(bitPattern: $0.low) })
        call.bind(base + 6, record.direction == .incoming ? 0 : 1)
        call.bind(base + 7, endpointID)
        call.bind(base + 8, record.response?.status ?? 0)
        call.bind(base + 9, record.durationNanoseconds)
        call.bind(base + 10, TextLimit.cut(record.request.target, maxBytes: Self.maxPathBytes))
        call.bind(base + 11, record.requestBody.size)
        call.bind(base + 12, record.responseBody.size)
        call.bind(base + 13, consumerID)
        call.bind(base + 14, record.errors.first?.type)
        call.bind(base + 15, record.errors.first?.message)
        call.bind(base + 16, record.traceID)
    }

    /// The most bytes of a call's path in the log's column (the record keeps it all).
    static let maxPathBytes = 2_048

    private func endpointID(method: String, route: String, _ statements: StoreStatements) throws(SQLiteError) -> Int64 {
        let key = EndpointKey(method: method, route: route)
        if let id = endpointIDs[key] { return id }
        let folded = endpointCount >= Self.maxEndpoints
        let statement = statements.endpoint
        statement.bind(1, folded ? SeriesKey.otherMethod : method)
        statement.bind(2, folded ? SeriesKey.otherRoute : route)
        defer { statement.reset() }
        guard try statement.step() else { throw SQLiteError(code: -1, message: "no endpoint id") }
        let id = statement.int64(0)
        if !folded {
            endpointIDs[key] = id
            endpointCount += 1
        }
        return id
    }

    private func consumerID(_ consumer: Consumer, time: Int64, _ statements: StoreStatements) throws(SQLiteError) -> Int64 {
        if let id = consumerIDs[consumer.id], consumer.name == nil, consumer.email == nil, consumer.company == nil,
            consumer.group == nil, consumer.metadata.isEmpty
        {
            return id
        }
        return try upsertConsumer(
            id: consumer.id, name: consumer.name, email: consumer.email, company: consumer.company, group: consumer.group,
            metadata: consumer.metadata, time: time, statements)
    }

    func upsertConsumer(
        id: String, name: String?, email: String? = nil, company: String? = nil, group: String? = nil,
        metadata: [String: String] = [:], time: Int64, _ statements: StoreStatements
    ) throws(SQLiteError) -> Int64 {
        let statement = statements.consumer
        statement.bind(1, id)
        statement.bind(2, name)
        statement.bind(3, email)
        statement.bind(4, company)
        statement.bind(5, group)
        if !metadata.isEmpty {
            var writer = BinaryWriter()
            writer.strings(metadata)
            statement.bind(6, blob: writer.bytes)
        }
        statement.bind(7, time)
        defer { statement.reset() }
        guard try statement.step() else { throw SQLiteError(code: -1, message: "no consumer id") }
        let rowID = statement.int64(0)
        if consumerIDs.count >= Self.maxCachedConsumers, consumerIDs[id] == nil { consumerIDs.removeAll(keepingCapacity: true) }
        consumerIDs[id] = rowID
        return rowID
    }

    private func insert(_ entity: EntityRecord, _ statements: StoreStatements) throws(SQLiteError) {
        var writer = BinaryWriter()
        writer.byte(RecordCodec.version)
        writer.entity(entity)
        statements.profile.bind(1, entity.kind)
        statements.profile.bind(2, entity.id)
        statements.profile.bind(3, entity.timestampNanoseconds)
        statements.profile.bind(4, blob: writer.bytes)
        try statements.profile.run()
        if case let .consumer(consumer) = entity.profile {
            _ = try upsertConsumer(
                id: consumer.id, name: consumer.name, email: consumer.email, company: consumer.company,
                group: consumer.group, metadata: consumer.metadata, time: entity.timestampNanoseconds, statements)
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
