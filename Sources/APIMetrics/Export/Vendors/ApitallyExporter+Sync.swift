extension ApitallyExporter {
    /// Makes this interval's sync document, then sends every pending one,
    /// oldest first, until one fails.
    func sync(now: Int64, waitingForTheTimer: Bool = false) async {
        func lost(_ count: Int, _ message: String) {
            state.withLock { $0.reportLost }?(count, message)
        }
        func claim() -> Bool? {
            state.withLock { state -> Bool? in
                if state.isDisabled { return false }
                if state.isSyncing { return nil }
                state.isSyncing = true
                return true
            }
        }
        var claimed = claim()
        // A window's sync waits for the timer's to end rather than be lost
        // (at shutdown it is the last one).
        while claimed == nil && waitingForTheTimer {
            try? await Task.sleep(for: .milliseconds(5))
            claimed = claim()
        }
        guard claimed == true else { return }
        defer { state.withLock { $0.isSyncing = false } }
        instanceFile?.touch()
        let made = state.withLock { state -> (sync: PendingSync, folds: Folds)? in
            state.lastSync = now
            let document = makeSyncDocument(&state)
            guard let document else { return nil }
            return (PendingSync(body: document.body, madeAt: now, calls: document.calls), document.folds)
        }
        if let made {
            if !made.folds.isEmpty {
                state.withLock { $0.reportWarning }?(Self.describe(made.folds, maxSeries: options.maxSeries))
            }
            let givenUp = state.withLock { state in
                state.pending.append(made.sync)
                return Self.trim(&state.pending, maxCount: options.maxPendingSyncs, maxBytes: options.maxPendingBytes)
            }
            for sync in givenUp {
                lost(
                    sync.calls,
                    "an Apitally sync of \(sync.calls) calls was given up: \(options.maxPendingSyncs) syncs or \(options.maxPendingBytes) bytes already waited"
                )
            }
        }
        while let next = state.withLock({ $0.pending.first }) {
            if now - next.madeAt > options.maxSyncAge.nanosecondsClamped {
                state.withLock { _ = $0.pending.removeFirst() }
                lost(next.calls, "an Apitally sync of \(next.calls) calls was given up after an hour of failed attempts")
                continue
            }
            let response = try? await post("/sync", next.body)
            guard let response else { return }
            switch response.status {
            case 200..<300:
                state.withLock { _ = $0.pending.removeFirst() }
            case 404:
                state.withLock { state in
                    state.isDisabled = true
                    state.pending.removeAll()
                }
                lost(next.calls, "Apitally does not know client ID \(options.clientID) (404); nothing more is sent to it")
                return
            case 422:
                // The SDKs give up a document the hub refused as invalid; it
                // would be refused again.
                state.withLock { _ = $0.pending.removeFirst() }
                lost(next.calls, "Apitally refused a sync (422); its \(next.calls) calls are not counted there")
            default:
                // Kept as the SDKs keep it (any other refusal may pass later),
                // until its hour is up.
                return
            }
        }
    }

    /// Takes the oldest syncs off `pending` until at most `maxCount` of them
    /// and `maxBytes` wait, the newest always kept; returns those taken.
    static func trim(_ pending: inout [PendingSync], maxCount: Int, maxBytes: Int) -> [PendingSync] {
        trimOldest(&pending, maxCount: maxCount, maxBytes: maxBytes) { $0.body.count }
    }

    /// Takes the oldest of `pending` off until at most `maxCount` of them
    /// and `maxBytes` (as `size` counts them) wait, the newest always kept;
    /// returns those taken. Syncs and request-log files wait by this rule.
    static func trimOldest<Item>(
        _ pending: inout [Item], maxCount: Int, maxBytes: Int, size: (Item) -> Int
    ) -> [Item] {
        var bytes = pending.reduce(0) { $0 + size($1) }
        var count = 0
        while pending.count - count > 1, pending.count - count > maxCount || bytes > maxBytes {
            bytes -= size(pending[count])
            count += 1
        }
        let taken = Array(pending.prefix(count))
        pending.removeFirst(count)
        return taken
    }

    /// The warning a sync's folds are told in: Apitally's sync has no field
    /// for them.
    static func describe(_ folds: Folds, maxSeries: Int) -> String {
        var parts: [String] = []
        if folds.routeCalls > 0 {
            parts.append("\(folds.routeCalls) calls of series past \(maxSeries) counted in route \(SeriesKey.otherRoute)")
        }
        if folds.consumerCalls > 0 {
            parts.append(
                "\(folds.consumerCalls) calls counted without their consumer (past \(ApitallyRequestTable.maxConsumers) consumers or \(ApitallyRequestTable.maxConsumerRows) rows with one)"
            )
        }
        if folds.serverErrors > 0 {
            parts.append("\(folds.serverErrors) server errors past \(maxErrorGroups) groups left out")
        }
        if folds.validationErrors > 0 {
            parts.append("\(folds.validationErrors) validation errors past \(maxErrorGroups) groups left out")
        }
        if folds.profiles > 0 {
            parts.append("\(folds.profiles) consumer profiles past \(maxConsumerProfiles) not sent")
        }
        return "Apitally sync bounded what clients sent: " + parts.joined(separator: "; ")
    }

    /// The sync document of everything counted since the last one and what
    /// its tables folded; `nil` when there is nothing to say.
    private func makeSyncDocument(_ state: inout State) -> (body: [UInt8], calls: Int, folds: Folds)? {
        guard
            !state.requests.isEmpty || !state.serverErrors.isEmpty || !state.validationErrors.isEmpty
                || !state.updatedConsumers.isEmpty || state.resources != nil
        else { return nil }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.field("instance_uuid", instance)
        writer.field("message_uuid", Self.randomUUID())
        writer.field("timestamp", Double(CaptureClock.wallNanoseconds()) / 1e9)
        writer.key("requests")
        state.requests.write(into: &writer)
        writer.key("validation_errors")
        writer.beginArray()
        for (key, count) in state.validationErrors.sorted(by: { $0.key.path < $1.key.path }) {
            writer.beginObject()
            writeCommon(consumer: key.consumer, method: key.method, path: key.path, into: &writer)
            writer.key("loc")
            writer.beginArray()
            for part in key.location { writer.string(part) }
            writer.endArray()
            writer.field("msg", key.message)
            writer.field("type", key.type)
            writer.field("error_count", count)
            writer.endObject()
        }
        writer.endArray()
        writer.key("server_errors")
        writer.beginArray()
        for (key, count) in state.serverErrors.sorted(by: { $0.key.path < $1.key.path }) {
            writer.beginObject()
            writeCommon(consumer: key.consumer, method: key.method, path: key.path, into: &writer)
            writer.field("type", key.type)
            writer.field("msg", key.message)
            writer.field("traceback", key.traceback)
            writer.key("sentry_event_id")
            writer.null()
            writer.field("error_count", count)
            writer.endObject()
        }
        writer.endArray()
        writer.key("consumers")
        writer.beginArray()
        for id in state.updatedConsumers.sorted() {
            let known = state.consumers[id]
            writer.beginObject()
            writer.field("identifier", id)
            writer.key("name")
            if let name = known?.name { writer.string(name) } else { writer.null() }
            writer.key("group")
            if let group = known?.group { writer.string(group) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.key("resources")
        if let resources = state.resources {
            writer.beginObject()
            writer.field("cpu_percent", resources.cpuPercent)
            writer.field("memory_rss", resources.residentBytes)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.endObject()
        let calls = state.requests.calls
        var folds = state.folds
        folds.routeCalls = state.requests.foldedRouteCalls
        folds.consumerCalls = state.requests.foldedConsumerCalls
        state.folds = Folds()
        state.requests = ApitallyRequestTable(maxSeries: options.maxSeries)
        state.serverErrors = [:]
        state.validationErrors = [:]
        state.updatedConsumers = []
        state.resources = nil
        return (writer.bytes, calls, folds)
    }

    private func writeCommon(consumer: String?, method: String, path: String, into writer: inout JSONWriter) {
        writer.key("consumer")
        if let consumer { writer.string(consumer) } else { writer.null() }
        writer.field("method", method)
        writer.field("path", path)
    }
}
