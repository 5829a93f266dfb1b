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
                // The commit's calls in blocks shared by its batches.
                try insert(batches, statements)
                for batch in batches {
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
        if hasLegacyCalls {
            // Longer when the commit held no call: a quiet store converts in minutes too.
            convertLegacyCalls(forNanoseconds: calls == 0 ? 500_000_000 : 20_000_000)
        }
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

    private func insert(_ batches: [ExportBatch], _ statements: StoreStatements) throws(SQLiteError) {
        guard batches.contains(where: { !$0.records.isEmpty }) else { return }
        var lastSeen: [Int64: Int64] = [:]
        var encoder = BinaryWriter()
        var block = CallBlockBuilder()
        for batch in batches {
            // Each record is read where it lies: through the array's
            // subscript, each was copied (every field retained and
            // released), a fifth of the writer's time.
            try batch.records.withUnsafeBufferPointer { records throws(SQLiteError) in
                guard let first = records.baseAddress else { return }
                for index in 0..<records.count {
                    if block.isFull {
                        try write(&block, statements)
                        block = CallBlockBuilder()
                    }
                    yielder.checkpoint()
                    let call = try storedCall(first + index, lastSeen: &lastSeen, statements)
                    encoder.bytes.removeAll(keepingCapacity: true)
                    encoder.byte(RecordCodec.version)
                    // Not shown anywhere the store is read: a session is the user's secret.
                    encoder.record(at: first + index, keepingSessionToken: false)
                    encoder.bytes.withUnsafeBytes { block.appendRecord($0) }
                    block.append(call)
                }
            }
        }
        if block.count > 0 { try write(&block, statements) }
        for (id, time) in lastSeen {
            statements.consumerSeen.bind(1, id)
            statements.consumerSeen.bind(2, time)
            try statements.consumerSeen.run()
        }
    }

    /// Writes one block of calls, and the ids `call_untimed` must find.
    func write(_ block: inout CallBlockBuilder, _ statements: StoreStatements) throws(SQLiteError) {
        let insert = statements.insertBlock
        insert.bind(1, block.firstTime)
        insert.bind(2, block.lastTime)
        insert.bind(3, block.count)
        insert.bind(4, block.serverErrors)
        insert.bind(5, CallBlockBuilder.idList(block.endpoints))
        insert.bind(6, CallBlockBuilder.idList(block.consumers))
        insert.bind(9, block.classList)
        // Both columns are read where they lie, not copied by SQLite: the
        // insert runs, and resets, while the bytes are there.
        insert.bindInPlace(7, text: block.finishCalls())
        let inserted = block.records.bytes.withUnsafeBytes { records -> Result<Int64, SQLiteError> in
            insert.bindInPlace(8, blob: records)
            defer { insert.reset() }
            do throws(SQLiteError) {
                guard try insert.step() else { return .failure(SQLiteError(code: -1, message: "no block id")) }
                return .success(insert.int64(0))
            } catch {
                return .failure(error)
            }
        }
        let blockID = try inserted.get()
        for (_, id) in block.untimed {
            statements.insertUntimed.bind(1, Int64(bitPattern: id.high))
            statements.insertUntimed.bind(2, Int64(bitPattern: id.low))
            statements.insertUntimed.bind(3, blockID)
            try statements.insertUntimed.run()
        }
    }

    /// One call's place in the log: its columns, with the ids of its
    /// endpoint and consumer (written first when new).
    private func storedCall(
        _ pointer: UnsafePointer<ExchangeRecord>, lastSeen: inout [Int64: Int64], _ statements: StoreStatements
    ) throws(SQLiteError) -> StoredCall {
        let endpointID = try endpointID(
            method: pointer.pointee.request.method, route: pointer.pointee.request.route ?? "", statements)
        var consumerID: Int64?
        if let consumer = pointer.pointee.consumer {
            let id = try self.consumerID(consumer, time: pointer.pointee.startTimeNanoseconds, statements)
            consumerID = id
            lastSeen[id] = max(lastSeen[id] ?? .min, pointer.pointee.startTimeNanoseconds)
        }
        return StoredCall(
            time: pointer.pointee.startTimeNanoseconds, id: pointer.pointee.id, parent: pointer.pointee.parentID,
            isOutgoing: pointer.pointee.direction != .incoming, endpointID: endpointID,
            status: pointer.pointee.response?.status ?? 0,
            durationNanoseconds: pointer.pointee.durationNanoseconds,
            path: TextLimit.cut(pointer.pointee.request.target, maxBytes: Self.maxPathBytes),
            requestBytes: pointer.pointee.requestBody.size,
            responseBytes: pointer.pointee.responseBody.size, consumerID: consumerID,
            errorType: pointer.pointee.errors.first?.type,
            errorMessage: pointer.pointee.errors.first?.message, traceID: pointer.pointee.traceID)
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

extension StoreWriterState {
    /// Moves calls of a store written before the log was kept in blocks
    /// (the table `calls_legacy` after the migration) into blocks: for
    /// `forNanoseconds` after each commit (at least a block), newest first,
    /// a block a transaction, so that a large store is converted while the
    /// writer goes on; then drops the table. The calls already past the
    /// retention period are deleted first. A block's calls are deleted
    /// from the table before the block is written (on a full disk, space is
    /// freed before it is taken), in the same transaction: a stop half-way
    /// loses nothing, and a failure is retried after the next commit.
    func convertLegacyCalls(forNanoseconds budget: Int64) {
        guard let connection, let statements else { return }
        let deadline = CaptureClock.monotonicNanoseconds() &+ budget
        do {
            let keptFrom = Self.floorSeconds(CaptureClock.wallNanoseconds()) - Int64(options.retentionDays) * 86_400
            try transaction(statements) { () throws(SQLiteError) in
                try connection.execute("DELETE FROM calls_legacy WHERE time < \(keptFrom * 1_000_000_000)")
            }
            let select = try connection.prepare(
                """
                SELECT id, time, event_hi, event_lo, parent_hi, parent_lo, direction, endpoint_id, status, duration, path,
                    request_bytes, response_bytes, consumer_id, error_type, error_message, trace_id, record
                FROM calls_legacy ORDER BY id DESC LIMIT \(CallBlockBuilder.maxCalls)
                """)
            repeat {
                var moved = 0
                try transaction(statements) { () throws(SQLiteError) in
                    var block = CallBlockBuilder()
                    var lowestID = Int64.max
                    select.reset()
                    defer { select.reset() }
                    while !block.isFull, try select.step() {
                        lowestID = select.int64(0)
                        var parent: EventID?
                        if let high = select.optionalInt64(4), let low = select.optionalInt64(5) {
                            parent = EventID(high: UInt64(bitPattern: high), low: UInt64(bitPattern: low))
                        }
                        let call = StoredCall(
                            time: select.int64(1),
                            id: EventID(high: UInt64(bitPattern: select.int64(2)), low: UInt64(bitPattern: select.int64(3))),
                            parent: parent, isOutgoing: select.int(6) == 1, endpointID: select.int64(7),
                            status: select.int(8), durationNanoseconds: select.int64(9), path: select.text(10),
                            requestBytes: select.int(11), responseBytes: select.int(12),
                            consumerID: select.optionalInt64(13), errorType: select.optionalText(14),
                            errorMessage: select.optionalText(15), traceID: select.optionalText(16))
                        select.withBlob(17) { block.appendRecord($0) }
                        block.append(call)
                    }
                    select.reset()
                    moved = block.count
                    if moved > 0 {
                        try connection.execute("DELETE FROM calls_legacy WHERE id >= \(lowestID)")
                        try write(&block, statements)
                    } else {
                        try connection.execute("DROP TABLE calls_legacy")
                    }
                }
                if moved == 0 {
                    hasLegacyCalls = false
                    break
                }
            } while CaptureClock.monotonicNanoseconds() < deadline
        } catch {
            note(error: "converting the calls of an older release into blocks: \(error); tried again after the next commit")
        }
    }
}
