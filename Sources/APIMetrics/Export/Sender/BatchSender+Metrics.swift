// What goes out besides events: the startup record, the windows and the
// heartbeats, and the last round at shutdown that orders them after the
// last events.
extension BatchSender {
    /// The last round at shutdown: the batch still being exported and the
    /// last events go out first, then the last window with a heartbeat
    /// taken after them, in a batch of its own. So the last heartbeat (and
    /// the pipeline totals an HTTP batch carries with it) counts every event
    /// delivered: what an exporter holds last is the final total. It never
    /// counts itself: `exported` counts events, not metrics records.
    func exportFinal(_ processed: ProcessedBatch?, _ extras: MetricsExtras, after exporting: Task<Void, Never>?) async {
        await exporting?.value
        if let processed { await export(processed) }
        var extras = extras
        extras.heartbeat = makeHeartbeat()
        await export(ProcessedBatch(), extras)
    }

    /// What a batch carries besides events.
    struct MetricsExtras: Sendable {
        var metrics: MetricsWindow?
        var heartbeat: Heartbeat?
        var startup: StartupRecord?
        /// The API's changes discovery saw since the last window.
        var apiChanges: [APIChange] = []
        /// The alert transitions of the window.
        var alerts: [AlertEvent] = []

        var isEmpty: Bool { metrics == nil && heartbeat == nil && startup == nil }
    }

    func makeStartupRecord() -> StartupRecord {
        var routes = declaredRoutes
        for route in aggregator.namedRoutes() where !routes.contains(route) { routes.append(route) }
        return StartupRecord(
            startedAtNanoseconds: aggregator.startedAtNanoseconds, routes: routes,
            swiftVersion: StartupRecord.compilerVersion, libraryVersion: APIMetricsService.libraryVersion,
            platform: StartupRecord.platformName)
    }

    func makeHeartbeat() -> Heartbeat {
        let monotonic = CaptureClock.monotonicNanoseconds()
        let usage = ProcessUsage.now()
        var cpuShare: Double?
        if let lastUsage, monotonic > lastUsage.monotonic {
            cpuShare = Double(usage.cpuNanoseconds - lastUsage.cpu) / Double(monotonic - lastUsage.monotonic)
        }
        lastUsage = (monotonic, usage.cpuNanoseconds)
        let now = clock.wallNow()
        var heartbeat = Heartbeat(
            startedAtNanoseconds: aggregator.startedAtNanoseconds, timeNanoseconds: now,
            uptimeSeconds: Double(now - aggregator.startedAtNanoseconds) / 1e9, cpuShare: cpuShare,
            residentBytes: usage.residentBytes, statistics: counters.statistics(queued: queue.count, spool: spool?.counts))
        heartbeat.discovery = runner.discovery?.counts
        return heartbeat
    }
}
