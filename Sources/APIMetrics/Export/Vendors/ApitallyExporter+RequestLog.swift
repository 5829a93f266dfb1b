extension ApitallyExporter {
    /// Whether the request log takes a call, by the SDK's rules: no
    /// `OPTIONS`, no health check or asset path (the route template, else
    /// the path), no probe's user agent.
    static func isLoggable(_ record: ExchangeRecord) -> Bool {
        let request = record.request
        guard request.method.uppercased() != "OPTIONS" else { return false }
        let path =
            request.route.flatMap { $0.isEmpty ? nil : $0 }
            ?? String(request.target.prefix { $0 != "?" && $0 != "#" })
        return !ApitallyRequestLog.isExcludedPath(path) && !ApitallyRequestLog.isProbe(userAgent: request.headers["user-agent"])
    }

    /// Writes the batch's loggable calls, at most
    /// ``ApitallyRequestLogOptions/maxCallsPerSecond`` a second, as files
    /// waiting to be uploaded; returns which calls went into a file.
    /// `counted`: which calls the syncs count, so that a file given up
    /// later counts the others as lost.
    func enqueueLog(_ batch: ExportBatch, counted: [Bool]) -> [Bool] {
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
                if state.logWindow.admit(
                    startNanoseconds: records[index].startTimeNanoseconds, max: options.requestLog.maxCallsPerSecond)
                {
                    admitted.append(index)
                } else {
                    overRate += 1
                }
            }
            return admitted
        }
        if overRate > 0 {
            batch.warningReporter(
                "\(overRate) calls past Apitally's \(options.requestLog.maxCallsPerSecond) a second were not written to its request log; those with a route template are counted in the syncs"
            )
        }
        guard !admitted.isEmpty else { return logged }
        let lines = admitted.map {
            ApitallyPayloads.logLine(records[$0], uuid: records[$0].id.uuidString, options: options.requestLog)
        }
        guard let made = try? ApitallyRequestLog.files(of: lines) else {
            batch.warningReporter(
                "\(lines.count) calls could not be compressed for Apitally's request log; those with a route template are counted in the syncs"
            )
            return logged
        }
        if !made.tooLarge.isEmpty {
            batch.warningReporter(
                "\(made.tooLarge.count) calls were each over Apitally's \(ApitallyRequestLog.maxFileBytes) compressed bytes and not written to its request log; those with a route template are counted in the syncs"
            )
        }
        var files: [ApitallyRequestLog.PendingFile] = []
        for (body, members) in zip(made.files, made.lines) {
            for member in members { logged[admitted[member]] = true }
            files.append(
                ApitallyRequestLog.PendingFile(
                    uuid: Self.randomUUID(), body: body, calls: members.count, uncounted: members.count { !counted[admitted[$0]] }
                ))
        }
        let givenUp = state.withLock { state in
            state.pendingLogs += files
            return ApitallyRequestLog.trim(
                &state.pendingLogs, maxCount: options.maxPendingLogFiles, maxBytes: options.maxPendingLogBytes)
        }
        giveUp(
            givenUp, because: "\(options.maxPendingLogFiles) uploads or \(options.maxPendingLogBytes) bytes already waited",
            lost: batch.lossReporter, warn: batch.warningReporter)
        return logged
    }

    /// Says that request-log files were given up: their calls that a sync
    /// counts are said in a warning; the others (no route template) reach
    /// Apitally nowhere else and are counted as lost (``Statistics/failed``).
    func giveUp(
        _ files: [ApitallyRequestLog.PendingFile], because reason: String,
        lost: (@Sendable (Int, String) -> Void)?, warn: (@Sendable (String) -> Void)?
    ) {
        let calls = files.reduce(0) { $0 + $1.calls }
        guard calls > 0 else { return }
        let uncounted = files.reduce(0) { $0 + $1.uncounted }
        let what = "Apitally's request log did not take \(calls) calls (\(reason))"
        if uncounted > 0 {
            lost?(
                uncounted,
                "\(what); \(uncounted) of them have no route template, are in no sync, and are lost; the rest are counted in the syncs"
            )
        } else {
            warn?("\(what); they are counted in the syncs")
        }
    }

    /// Uploads the waiting request-log files, oldest first, at most
    /// ``ApitallyRequestLog/maxFilesPerFlush`` of them, until one fails; a
    /// failed one waits for the next flush (the SDKs' rule). The hub's 402
    /// with `Retry-After` (the plan's quota is spent) pauses the log (at
    /// most ``ApitallyRequestLog/maxPauseSeconds``) and clears what waits;
    /// 422 gives that file up; 404 stops the exporter.
    func flushLogs() async {
        let claimed = state.withLock { state -> Bool in
            guard !state.isUploading, !state.isDisabled, !state.pendingLogs.isEmpty else { return false }
            state.isUploading = true
            return true
        }
        guard claimed else { return }
        defer { state.withLock { $0.isUploading = false } }
        let (warn, lost) = state.withLock { ($0.reportWarning, $0.reportLost) }
        for _ in 0..<ApitallyRequestLog.maxFilesPerFlush {
            guard let next = state.withLock({ $0.pendingLogs.first }) else { return }
            guard let response = try? await post("/log?uuid=\(next.uuid)", next.body, json: false) else { return }
            switch response.status {
            case 200..<300:
                state.withLock { _ = $0.pendingLogs.removeFirst() }
            case 402:
                guard let pause = ApitallyRequestLog.pauseNanoseconds(retryAfter: response.headers["retry-after"]) else { return }
                let cleared = state.withLock { state -> [ApitallyRequestLog.PendingFile] in
                    state.logSuspendedUntil = CaptureClock.monotonicNanoseconds() + pause
                    defer { state.pendingLogs = [] }
                    return state.pendingLogs
                }
                giveUp(
                    cleared, because: "its quota is spent (402); the log pauses \(pause / 1_000_000_000) s", lost: lost,
                    warn: warn)
                return
            case 404:
                let cleared = state.withLock { state -> [ApitallyRequestLog.PendingFile] in
                    state.isDisabled = true
                    defer { state.pendingLogs = [] }
                    return state.pendingLogs
                }
                giveUp(
                    cleared, because: "it does not know client ID \(options.clientID) (404); nothing more is sent to it",
                    lost: lost, warn: warn)
                return
            case 422:
                state.withLock { _ = $0.pendingLogs.removeFirst() }
                giveUp([next], because: "it refused an upload (422)", lost: lost, warn: warn)
            default:
                return
            }
        }
    }
}
