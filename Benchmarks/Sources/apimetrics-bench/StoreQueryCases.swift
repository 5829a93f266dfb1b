import APIMetrics
import Foundation
import Synchronization

/// What the query cases read: a store of `calls` logged calls and `series`
/// series over `days`, its metrics dense (every series has a row every
/// minute it has rows at all: the most the queries can meet).
struct QueryStoreSpec {
    var calls: Int
    var series: Int
    var days: Int
    var consumers: Int
    /// Metrics per minute for this many hours before the end, per hour before that.
    var minuteHours: Int
    /// Calls a minute in the metrics over every series.
    var requestsPerMinute: Int

    static let full = QueryStoreSpec(
        calls: 1_000_000, series: 200, days: 30, consumers: 500, minuteHours: 48, requestsPerMinute: 1_000)
    static let quick = QueryStoreSpec(calls: 20_000, series: 20, days: 1, consumers: 50, minuteHours: 6, requestsPerMinute: 100)

    /// Names the cached store: a change to the generator or to this spec
    /// must change it.
    static let generatorVersion = "store-v5"
    var key: String {
        "\(Self.generatorVersion)-\(calls)c-\(series)s-\(days)d-\(consumers)u-\(minuteHours)h-\(requestsPerMinute)r"
    }
}

/// The cached store and what its build measured.
struct QueryStore {
    var path: String
    /// The end of the store's traffic, nanoseconds since the epoch: the
    /// queries' "now".
    var end: Int64
    /// Figures of the build, kept beside the file.
    var figures: [String: Double]
}

/// Builds the query store once per run (and once per `.build`: it is
/// cached under `.build/bench-store/KEY/`).
final class QueryStoreCache: Sendable {
    private let store = Mutex<QueryStore?>(nil)
    let spec: QueryStoreSpec

    init(quick: Bool) { spec = quick ? .quick : .full }

    func get() async throws -> QueryStore {
        if let cached = store.withLock({ $0 }) { return cached }
        let built = try await Self.openOrBuild(spec)
        store.withLock { $0 = built }
        return built
    }

    static func openOrBuild(_ spec: QueryStoreSpec) async throws -> QueryStore {
        let directory = FileManager.default.currentDirectoryPath + "/.build/bench-store/" + spec.key
        let path = directory + "/apimetrics.sqlite"
        let marker = directory + "/built.json"
        if let data = FileManager.default.contents(atPath: marker),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double],
            let end = object["end_ns"], FileManager.default.fileExists(atPath: path)
        {
            // A store cached by an earlier schema is migrated, as a restart would.
            let writer = try BenchmarkHooks.StoreHandle(
                options: StoreOptions(path: path, maxBytes: 64 << 30, retentionDays: 3_650), metricsInterval: .seconds(60))
            await writer.close()
            var figures = object
            figures["build_s"] = 0
            return QueryStore(path: path, end: Int64(end), figures: figures)
        }
        _ = try makeStoreDirectory(directory)
        let started = Harness.now()
        var figures = try await build(spec, path: path)
        figures["build_s"] = Double(Harness.now() - started) / 1e9
        let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: marker))
        return QueryStore(path: path, end: Int64(figures["end_ns"] ?? 0), figures: figures)
    }

    /// Writes the store through the writer, as a service running for
    /// `days` would: calls in batches of 500, a window and a heartbeat a
    /// minute (a restart every week, down a quarter of an hour). Windows
    /// older than `minuteHours` are written one an hour (their minute rows
    /// would be gone by then anyway) and retention leaves what it would.
    /// The traffic ends an hour after the clock's hour, so that the
    /// writer's own retention, on the real clock, keeps every minute row.
    static func build(_ spec: QueryStoreSpec, path: String) async throws -> [String: Double] {
        let now = Bench.wallNanoseconds() / 1_000_000_000
        let end = (now / 3_600 + 1) * 3_600
        let start = end - Int64(spec.days) * 86_400
        let minutesFrom = end - Int64(spec.minuteHours) * 3_600
        let store = try BenchmarkHooks.StoreHandle(
            options: StoreOptions(
                path: path, maxBytes: 64 << 30, retentionDays: spec.days + 1, minuteResolutionHours: spec.minuteHours),
            metricsInterval: .seconds(60))
        let statistics = try APIMetricsService(
            configuration: APIMetricsConfiguration(service: "bench", exporters: [.custom(DiscardingExporter())])
        ).statistics
        let endpoints = StoreTraffic.endpoints(spec.series / StoreTraffic.statuses.count)
        var random = SplitMix(state: 1_027)
        // Every series' share of the traffic and its typical latency.
        let keys = endpoints.flatMap { endpoint in
            StoreTraffic.statuses.map { SeriesKey(method: endpoint.method, route: endpoint.route, status: $0) }
        }
        let weights: [Double] = keys.indices.map { index in
            let status = keys[index].status
            let share = status == 200 || status == 201 ? 1.0 : status == 404 ? 0.08 : 0.03
            return share / Double(index / StoreTraffic.statuses.count + 1)
        }
        let weightSum = weights.reduce(0, +)
        // Downtime: a quarter of an hour at each weekly restart.
        let week: Int64 = 7 * 86_400, down: Int64 = 900
        func runStart(_ second: Int64) -> Int64? {
            let offset = (second - start) % week
            guard second - start < week || offset >= down else { return nil }
            return second - start < week ? start : start + (second - start) / week * week + down
        }
        let upSeconds = Double(end - start) - Double((end - start - 1) / week) * Double(down)
        let gap = upSeconds / Double(spec.calls)
        var callClock = Double(start)
        var callsMade = 0
        var pending: [ExchangeRecord] = []
        pending.reserveCapacity(500)
        var figures: [String: Double] = ["end_ns": Double(end * 1_000_000_000)]
        var startedRuns: Set<Int64> = []
        var minuteBytesBefore: Int64 = 0
        var minuteRowsBefore: Int64 = 0

        func window(from: Int64, seconds: Int64, random: inout SplitMix) -> MetricsWindow {
            let scale = Double(spec.requestsPerMinute) * Double(seconds) / 60 / weightSum
            var series: [SeriesMetrics] = []
            var total = 0.0, clientErrors = 0.0, serverErrors = 0.0
            for (index, key) in keys.enumerated() {
                let requests = max(1, Int((weights[index] * scale * (0.5 + random.unit())).rounded()))
                var latency = LatencySketch()
                let median = 4.0 + Double(index / StoreTraffic.statuses.count % 7) * 9
                // Up to 200 distinct durations a row, each standing for its share.
                let samples = min(requests, 200)
                for sample in 0..<samples {
                    let count = requests / samples + (sample < requests % samples ? 1 : 0)
                    latency.add(nanoseconds: Int64(median * exp(0.7 * random.normal()) * 1_000_000), count: UInt64(count))
                }
                var responseSizes = SizeHistogram()
                responseSizes.add(bytes: 1_200 * requests)
                series.append(
                    SeriesMetrics(
                        key: key, requests: requests, clientErrors: key.status / 100 == 4 ? requests : 0,
                        serverErrors: key.status >= 500 ? requests : 0, latency: latency, responseSizes: responseSizes))
                total += Double(requests)
                if key.status / 100 == 4 { clientErrors += Double(requests) }
                if key.status >= 500 { serverErrors += Double(requests) }
            }
            // A few customers make most calls; one in ten is anonymous.
            var byConsumer: [Int: Double] = [:]
            let draws = Int(min(Double(spec.consumers), 50 * (Double(seconds) / 60).squareRoot()))
            for _ in 0..<draws { byConsumer[random.skewed(spec.consumers), default: 0] += 1 }
            let perDraw = total * 0.9 / Double(draws)
            let consumers = byConsumer.map { index, share in
                ConsumerMetrics(
                    id: StoreTraffic.consumerID(index), requests: share * perDraw,
                    clientErrors: share * perDraw * clientErrors / total, serverErrors: share * perDraw * serverErrors / total)
            }
            return MetricsWindow(
                startNanoseconds: from * 1_000_000_000, endNanoseconds: (from + seconds) * 1_000_000_000,
                series: series, consumers: consumers, anonymousRequests: total * 0.1)
        }

        for minute in stride(from: start, to: end, by: 60) {
            if minute == minutesFrom {
                minuteBytesBefore =
                    await store.integer("SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics', 'metrics_time')") ?? 0
                minuteRowsBefore = await store.integer("SELECT count(*) FROM metrics WHERE tier = 0") ?? 0
            }
            // The minute's calls, in batches of 500 as the sender hands them over.
            while callsMade < spec.calls, callClock < Double(minute + 60) {
                if runStart(Int64(callClock)) == nil { callClock += Double(down) }
                pending.append(
                    StoreTraffic.record(
                        time: Int64(callClock * 1e9), endpoints: endpoints, consumers: spec.consumers, body: nil, random: &random)
                )
                callsMade += 1
                callClock += gap * -log(max(random.unit(), 1e-12))
                if pending.count == 500 {
                    try await store.export(
                        ExportBatch(identity: StoreTraffic.identity, records: pending, sentAtNanoseconds: Int64(callClock * 1e9)))
                    pending.removeAll(keepingCapacity: true)
                }
            }
            guard let runStarted = runStart(minute) else { continue }
            let metrics: MetricsWindow?
            if minute >= minutesFrom {
                metrics = window(from: minute, seconds: 60, random: &random)
            } else if (minute - start) % 3_600 == 0 {
                metrics = window(from: minute, seconds: min(3_600, minutesFrom - minute), random: &random)
            } else {
                metrics = nil
            }
            let startup =
                startedRuns.insert(runStarted).inserted
                ? StartupRecord(
                    startedAtNanoseconds: runStarted * 1_000_000_000, routes: endpoints.map(\.route),
                    swiftVersion: "6.3", libraryVersion: "bench", platform: "linux-x86_64")
                : nil
            let heartbeat = Heartbeat(
                startedAtNanoseconds: runStarted * 1_000_000_000, timeNanoseconds: (minute + 60) * 1_000_000_000,
                uptimeSeconds: Double(minute + 60 - runStarted), cpuShare: 0.05, residentBytes: 80 << 20, statistics: statistics)
            try await store.export(
                ExportBatch(
                    identity: StoreTraffic.identity, records: [], sentAtNanoseconds: (minute + 60) * 1_000_000_000,
                    metrics: metrics, heartbeat: heartbeat, startup: startup))
        }
        // The exponential gaps may run past the end: the rest in its last second.
        while callsMade < spec.calls {
            pending.append(
                StoreTraffic.record(
                    time: (end - 1) * 1_000_000_000 + Int64(callsMade % 1_000_000), endpoints: endpoints,
                    consumers: spec.consumers,
                    body: nil, random: &random))
            callsMade += 1
            if pending.count == 500 {
                try await store.export(
                    ExportBatch(identity: StoreTraffic.identity, records: pending, sentAtNanoseconds: end * 1_000_000_000))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty {
            try await store.export(
                ExportBatch(identity: StoreTraffic.identity, records: pending, sentAtNanoseconds: end * 1_000_000_000))
        }
        let minuteBytesAfter =
            await store.integer("SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics', 'metrics_time')") ?? 0
        let minuteRowsAfter = await store.integer("SELECT count(*) FROM metrics WHERE tier = 0") ?? 0
        _ = await store.enforceRetention(nowNanoseconds: end * 1_000_000_000)
        func bytes(_ names: String) async -> Double {
            Double(await store.integer("SELECT sum(pgsize) FROM dbstat WHERE name IN (\(names))") ?? 0)
        }
        let callCount = Double(await store.integer("SELECT sum(count) FROM call_blocks") ?? 0)
        let callBytes = await bytes("'call_blocks', 'call_blocks_time', 'call_untimed'")
        let metricsBytes = await bytes("'metrics', 'metrics_time'")
        let seriesMinutes = Double(spec.series) * Double(spec.days) * 1_440
        figures["calls"] = callCount
        figures["bytes_per_call"] = callBytes / callCount
        figures["blocks_table_bytes_per_call"] = await bytes("'call_blocks'") / callCount
        // Minute rows as written in the last hours (with their share of
        // the hour and day rows), and the whole month's metrics as
        // retention leaves them, per series-minute of history.
        let minuteRows = Double(minuteRowsAfter - minuteRowsBefore)
        figures["bytes_per_series_minute_written"] =
            Double(minuteBytesAfter - minuteBytesBefore) / max(1, minuteRows) * Double(spec.series + 1) / Double(spec.series)
        figures["bytes_per_series_minute_kept"] = metricsBytes / seriesMinutes
        figures["metrics_rows"] = Double(await store.integer("SELECT count(*) FROM metrics") ?? 0)
        figures["consumer_metrics_bytes"] = await bytes("'consumer_metrics', 'consumer_metrics_time'")
        figures["heartbeats_bytes"] = await bytes("'heartbeats', 'pipeline'")
        figures["file_bytes"] = Double(
            (await store.integer("PRAGMA page_count") ?? 0) * (await store.integer("PRAGMA page_size") ?? 0))
        await store.close()
        precondition(store.counts.dropped == 0, "query store: calls dropped")
        return figures
    }
}

extension Bench {
    /// Times `body` `runs` times after one untimed run: the median and the
    /// slowest, and the untimed first run's time as a note.
    func timeQuery(_ name: String, budgetMilliseconds: Double?, _ body: () throws -> Void) rethrows -> CaseResult {
        let first = Harness.now()
        try body()
        let firstNanos = Double(Harness.now() - first)
        var nanos: [Double] = []
        for _ in 0..<(quick ? 3 : 9) {
            let start = Harness.now()
            try body()
            nanos.append(Double(Harness.now() - start))
        }
        var result = Harness.reduce(name, nanos, [])
        result.nsP99 = nanos.max() ?? .nan
        result.notes = [("ms_median", result.nsMedian / 1e6), ("ms_first", firstNanos / 1e6)]
        if let budgetMilliseconds { result.notes.append(("budget_ms", budgetMilliseconds)) }
        return result
    }

    /// The overview page's reads: totals, the chart's points, the
    /// consumers' count and the uptime (what `/_apimetrics/api/v1/overview`
    /// reads, without writing the JSON).
    func storeOverview(_ cache: QueryStoreCache, days: Int) async throws -> CaseResult {
        let store = try await cache.get()
        let reader = try StoreReader(path: store.path)
        let range = StoreTimeRange.last(seconds: Int64(min(days, cache.spec.days)) * 86_400, now: store.end)
        var requests = 0
        // Each part's time, to tell which one a slow overview spends it in.
        var parts: [[Double]] = [[], [], [], []]
        func timed<T>(_ part: Int, _ body: () throws -> T) rethrows -> T {
            let start = Harness.now()
            defer { parts[part].append(Double(Harness.now() - start) / 1e6) }
            return try body()
        }
        var result = try timeQuery("store.query.overview.\(days)d", budgetMilliseconds: days == 1 ? 100 : 300) {
            let totals = try timed(0) { try reader.totals(range) }
            let points = try timed(1) { try reader.points(range, resolutionSeconds: range.resolutionSeconds) }
            let consumers = try timed(2) { try reader.consumers(range).consumers.count }
            let uptime = try timed(3) { try reader.uptime(range, now: store.end) }
            precondition(totals.requests > 0 && !points.isEmpty && consumers > 0 && uptime.ratio != nil)
            requests = totals.requests
        }
        result.notes.append(("requests", Double(requests)))
        for (index, name) in ["totals", "points", "consumers", "uptime"].enumerated() {
            result.notes.append(("\(name)_ms", Harness.percentile(parts[index].sorted(), 0.5)))
        }
        return result
    }

    /// A page of 50 calls of one consumer in one status class over the
    /// whole store (the request log's filters).
    func storeCallsPage(_ name: String, _ cache: QueryStoreCache, statusClass: Int, consumerRank: Int) async throws -> CaseResult
    {
        let store = try await cache.get()
        let reader = try StoreReader(path: store.path)
        var filter = StoreCallFilter(range: StoreTimeRange.last(seconds: Int64(cache.spec.days) * 86_400, now: store.end))
        // The quick store has fewer consumers.
        let rank = min(consumerRank, cache.spec.consumers / 2)
        filter.consumer = StoreTraffic.consumerID(rank)
        filter.statusClass = statusClass
        var rows = 0
        var result = try timeQuery(name, budgetMilliseconds: 50) {
            rows = try reader.calls(filter, limit: 50).calls.count
        }
        result.notes.append(("rows", Double(rows)))
        result.notes.append(("consumer_rank", Double(rank)))
        return result
    }

    /// One call's page by its id (`/_apimetrics/api/v1/call`): the record,
    /// its parent and the calls it made, for a call from the middle of the
    /// store's month, found through the time its id carries.
    func storeCall(_ cache: QueryStoreCache) async throws -> CaseResult {
        let store = try await cache.get()
        let reader = try StoreReader(path: store.path)
        let middle = store.end - Int64(cache.spec.days) * 43_200 * 1_000_000_000
        let page = try reader.calls(
            StoreCallFilter(range: StoreTimeRange(from: middle - 3_600_000_000_000, to: middle)), limit: 1)
        guard let id = page.calls.first?.id else { preconditionFailure("store.query.call: no call in the middle of the store") }
        return try timeQuery("store.query.call", budgetMilliseconds: nil) {
            let found = try reader.call(id: id)
            precondition(found?.call.id == id)
        }
    }

    func storeEndpoints(_ cache: QueryStoreCache) async throws -> CaseResult {
        let store = try await cache.get()
        let reader = try StoreReader(path: store.path)
        let range = StoreTimeRange.last(seconds: Int64(cache.spec.days) * 86_400, now: store.end)
        var count = 0
        var result = try timeQuery("store.query.endpoints.\(cache.spec.days)d", budgetMilliseconds: nil) {
            count = try reader.endpoints(range).count
        }
        result.notes.append(("endpoints", Double(count)))
        return result
    }

    /// One endpoint's page over the store's month, the parts read from the
    /// log (`/_apimetrics/api/v1/endpoint`): its top consumers, its recent
    /// calls and its error groups with the consumers each affected, for the
    /// busiest endpoint.
    func storeEndpointLog(_ cache: QueryStoreCache) async throws -> CaseResult {
        let store = try await cache.get()
        let reader = try StoreReader(path: store.path)
        let range = StoreTimeRange.last(seconds: Int64(cache.spec.days) * 86_400, now: store.end)
        guard let busiest = try reader.endpoints(range).first else { preconditionFailure("store.query.endpoint: no endpoint") }
        var consumers = 0
        var result = try timeQuery("store.query.endpoint.\(cache.spec.days)d", budgetMilliseconds: nil) {
            consumers = try reader.topConsumers(range, method: busiest.method, route: busiest.route).count
            var filter = StoreCallFilter(range: range)
            filter.method = busiest.method
            filter.route = busiest.route
            let recent = try reader.calls(filter, limit: 20).calls
            precondition(!recent.isEmpty)
            _ = try reader.errorGroups(range, method: busiest.method, route: busiest.route)
        }
        result.notes.append(("top_consumers", Double(consumers)))
        result.notes.append(("endpoint_calls", Double(busiest.figures.requests)))
        return result
    }

    /// The store's size: bytes per call and per series-minute, and the
    /// build's time (0 when the cached store was used).
    func storeBytes(_ cache: QueryStoreCache) async throws -> CaseResult {
        let store = try await cache.get()
        var result = CaseResult(name: "store.query.bytes", nsMedian: .nan, nsP99: .nan, allocations: nil, opsPerSecond: .nan)
        result.notes = store.figures.filter { $0.key != "end_ns" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
