extension ApitallyExporter {
    /// Whether the request log takes a call, by the SDK's rules: no
    /// `OPTIONS`, no health check or asset path (the route template, else
    /// the path), no probe's user agent.
    static func isLoggable(_ record: ExchangeRecord) -> Bool {
        let request = record.request
        guard request.method.uppercased() != "OPTIONS" else { return false }
        let path = request.route.flatMap { $0.isEmpty ? nil : $0 }
            ?? String(request.target.prefix { $0 != "?" && $0 != "#" })
        return !ApitallyRequestLog.isExcludedPath(path) && !ApitallyRequestLog.isProbe(userAgent: request.headers["user-agent"])
    }

    /// Writes the batch's loggable calls, at most
    /// ``ApitallyRequestLogOptions/maxCallsPerSecond`` a second, as files
    /// waiting to be uploaded; returns which calls were written.
    func enqueueLog(_ batch: ExportBatch) -> [Bool] {
        let records = batch.records
        var logged = [Bool](repeating: false, count: records.count)
        let now = CaptureClock.monotonicNanoseconds()
        var overRate = 0
        let admitted = state.withLock { state -> [Int] in
            if let until = state.logSuspendedUntil {
                guard now >= until else { return [] }
                state.logSuspendedUntil = nil
            }
            var admitted: [Int] = []
            for index in records.indices where Self.isLoggable(records[index]) {
                if state.logWindow.admit(startNanoseconds: records[index].startTimeNanoseconds, max: options.requestLog.maxCallsPerSecond) {
                    admitted.append(index)
                } else {
                    overRate += 1
                }
            }
            return admitted
        }
        if overRate > 0 {
            batch.warningReporter(
                "\(overRate) calls past Apitally's \(options.requestLog.maxCallsPerSecond) a second were not written to its request log; they are counted in the syncs")
        }
        guard !admitted.isEmpty else { return logged }
        let lines = admitted.map { ApitallyPayloads.logLine(records[$0], uuid: records[$0].id.uuidString, options: options.requestLog) }
        guard let made = try? ApitallyRequestLog.files(of: lines) else {
            batch.warningReporter("\(lines.count) calls could not be compressed for Apitally's request log; they are counted in the syncs")
            return logged
        }
        if made.tooLarge > 0 {
            batch.warningReporter("\(made.tooLarge) calls were each over Apitally's 1,000,000 compressed bytes and not written to its request log")
        }
        for index in admitted { logged[index] = true }
        let givenUp = state.withLock { state -> [ApitallyRequestLog.PendingFile] in
            for (body, calls) in zip(made.files, made.calls) {
                state.pendingLogs.append(ApitallyRequestLog.PendingFile(uuid: Self.randomUUID(), body: body, calls: calls))
            }
            let excess = max(0, state.pendingLogs.count - options.maxPendingLogFiles)
            defer { state.pendingLogs.removeFirst(excess) }
            return Array(state.pendingLogs.prefix(excess))
        }
        for file in givenUp {
            batch.warningReporter(
                "an Apitally request-log upload of \(file.calls) calls was given up: \(options.maxPendingLogFiles) uploads already waited; they are counted in the syncs")
        }
        return logged
    }

    /// Uploads the waiting request-log files, oldest first, at most
    /// ``ApitallyRequestLog/maxFilesPerFlush`` of them, until one fails; a
    /// failed one waits for the next flush (the SDKs' rule). The hub's 402
    /// with `Retry-After` (the plan's quota is spent) pauses the log and
    /// clears what waits; 422 gives that file up; 404 stops the exporter.
    func flushLogs() async {
        let claimed = state.withLock { state -> Bool in
            guard !state.isUploading, !state.isDisabled, !state.pendingLogs.isEmpty else { return false }
            state.isUploading = true
            return true
        }
        guard claimed else { return }
        defer { state.withLock { $0.isUploading = false } }
        let warn = state.withLock { $0.reportWarning }
        for _ in 0..<ApitallyRequestLog.maxFilesPerFlush {
            guard let next = state.withLock({ $0.pendingLogs.first }) else { return }
            guard let response = try? await post("/log?uuid=\(next.uuid)", next.body, json: false) else { return }
            switch response.status {
            case 200..<300:
                state.withLock { _ = $0.pendingLogs.removeFirst() }
            case 402:
                guard let seconds = response.headers["retry-after"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
                      seconds > 0 else { return }
                let cleared = state.withLock { state -> Int in
                    state.logSuspendedUntil = CaptureClock.monotonicNanoseconds() + Int64(seconds) * 1_000_000_000
                    defer { state.pendingLogs = [] }
                    return state.pendingLogs.reduce(0) { $0 + $1.calls }
                }
                warn?("Apitally's request-log quota is spent (402); \(cleared) calls waiting were not logged and the log pauses \(seconds) s; calls are still counted in the syncs")
                return
            case 404:
                let lost = state.withLock { state -> Int in
                    state.isDisabled = true
                    defer { state.pendingLogs = [] }
                    return state.pendingLogs.reduce(0) { $0 + $1.calls }
                }
                warn?("Apitally does not know client ID \(options.clientID) (404); \(lost) calls waiting for its request log were not sent, and nothing more is sent to it")
                return
            case 422:
                state.withLock { _ = $0.pendingLogs.removeFirst() }
                warn?("Apitally refused a request-log upload of \(next.calls) calls (422); they are counted in the syncs")
            default:
                return
            }
        }
    }
}
