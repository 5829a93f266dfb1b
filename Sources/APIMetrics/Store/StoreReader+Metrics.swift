/// Figures over a range: counts, bytes and the merged latency sketch.
package struct StoreFigures: Sendable {
    package var requests = 0
    package var clientErrors = 0
    package var serverErrors = 0
    package var requestBytes: Int64 = 0
    package var responseBytes: Int64 = 0
    package var latency = LatencySketch()

    package init() {}

    package var meanRequestBytes: Double? { requests == 0 ? nil : Double(requestBytes) / Double(requests) }
    package var meanResponseBytes: Double? { requests == 0 ? nil : Double(responseBytes) / Double(requests) }
}

/// One point of a chart: the figures of `[start, start + resolution)`.
package struct StorePoint: Sendable {
    /// Seconds since the epoch.
    package var start: Int64
    package var figures: StoreFigures
}

/// One endpoint's figures over a range, with its calls per status.
package struct StoreEndpoint: Sendable {
    package var method: String
    package var route: String
    package var figures: StoreFigures
    package var statuses: [Int: Int]
}

/// One consumer's counts over a range (weighted, as the metrics count them).
package struct StoreConsumer: Sendable {
    package var id: String
    package var name: String?
    package var email: String?
    package var company: String?
    package var group: String?
    package var metadata: [String: String]
    package var requests: Double
    package var clientErrors: Double
    package var serverErrors: Double
    package var firstSeen: Int64
    package var lastSeen: Int64
}

extension StoreReader {
    /// A tier's rows whose start is in `[from, to)` (seconds).
    struct TierSpan {
        var tier: StoreSchema.Tier
        var from: Int64
        var to: Int64
    }

    /// The rows that cover `range` once each: whole days from the day
    /// tier, whole hours from the hour tier, the minutes at the edges (and
    /// hours where minutes are no longer kept).
    func spans(_ range: StoreTimeRange, _ connection: SQLiteConnection) throws(SQLiteError) -> [TierSpan] {
        let from = StoreWriterState.floorSeconds(range.from)
        let to = StoreWriterState.floorSeconds(range.to + 999_999_999)
        let minutesFrom = try minutesFrom(connection)
        var spans: [TierSpan] = []
        func cover(_ from: Int64, _ to: Int64, _ tier: StoreSchema.Tier) {
            guard from < to else { return }
            switch tier {
            case .minute:
                let split = min(max(from, minutesFrom), to)
                if from < split {
                    spans.append(TierSpan(tier: .hour, from: StoreSchema.Tier.hour.start(ofSecond: from), to: split))
                }
                if split < to {
                    spans.append(TierSpan(tier: .minute, from: StoreSchema.Tier.minute.start(ofSecond: split), to: to))
                }
            case .hour, .day:
                let lower = tier.start(ofSecond: from + tier.seconds - 1)
                let upper = tier.start(ofSecond: to)
                let finer: StoreSchema.Tier = tier == .day ? .hour : .minute
                guard lower < upper else {
                    cover(from, to, finer)
                    return
                }
                cover(from, lower, finer)
                spans.append(TierSpan(tier: tier, from: lower, to: upper))
                cover(upper, to, finer)
            }
        }
        cover(from, to, .day)
        return spans
    }

    /// From when minute rows are read: retention deletes them a whole hour
    /// at a time and notes from which hour on all are kept.
    func minutesFrom(_ connection: SQLiteConnection) throws(SQLiteError) -> Int64 {
        let kept = try connection.prepare("SELECT value FROM meta WHERE key = 'minutes_from'")
        guard try kept.step() else { return .min }
        return Int64(kept.text(0)) ?? .min
    }

    /// Every call's figures over `range`.
    package func totals(_ range: StoreTimeRange) throws(StoreReadError) -> StoreFigures {
        try query { connection throws(SQLiteError) in
            var figures = FiguresAccumulator()
            for span in try spans(range, connection) {
                let rows = try connection.prepare(
                    """
                    SELECT requests, client_errors, server_errors, request_bytes, response_bytes, sketch FROM metrics
                    WHERE tier = ?1 AND series_id = 0 AND start >= ?2 AND start < ?3
                    """)
                rows.bind(1, span.tier.rawValue)
                rows.bind(2, span.from)
                rows.bind(3, span.to)
                while try rows.step() { figures.add(rows, from: 0) }
            }
            return figures.figures
        }
    }

    /// Points of `resolutionSeconds` over `range`, aligned to it, for all
    /// calls or the series of one endpoint (`method` and `route`).
    package func points(
        _ range: StoreTimeRange, resolutionSeconds: Int64, method: String? = nil, route: String? = nil
    ) throws(StoreReadError) -> [StorePoint] {
        try query { connection throws(SQLiteError) in
            let seriesIDs =
                try method.map { method throws(SQLiteError) in try self.seriesIDs(method: method, route: route ?? "", connection)
                }
                ?? [StoreSchema.allSeriesID]
            let grid = Grid(range, resolutionSeconds: resolutionSeconds)
            var buckets = [FiguresAccumulator](repeating: FiguresAccumulator(), count: grid.count)
            let reads = try pointSpans(grid, connection)
            let rows = try connection.prepare(
                """
                SELECT requests, client_errors, server_errors, request_bytes, response_bytes, sketch, start FROM metrics
                WHERE tier = ?1 AND series_id = ?2 AND start >= ?3 AND start < ?4
                """)
            for span in reads {
                for id in seriesIDs {
                    rows.reset()
                    rows.bind(1, span.tier.rawValue)
                    rows.bind(2, id)
                    rows.bind(3, span.from)
                    rows.bind(4, span.to)
                    while try rows.step() {
                        guard let bucket = grid.bucket(ofSecond: rows.int64(6)) else { continue }
                        buckets[bucket].add(rows, from: 0)
                    }
                }
            }
            return buckets.enumerated().map {
                StorePoint(start: grid.start + Int64($0.offset) * resolutionSeconds, figures: $0.element.figures)
            }
        }
    }

    /// The rows a chart's points read: minute rows below an hour's
    /// resolution, hour rows at an hour and more, and where minutes are no
    /// longer kept.
    func pointSpans(_ grid: Grid, _ connection: SQLiteConnection) throws(SQLiteError) -> [TierSpan] {
        let hourStart = StoreSchema.Tier.hour.start(ofSecond: grid.start)
        guard grid.resolution < 3_600 else { return [TierSpan(tier: .hour, from: hourStart, to: grid.end)] }
        var reads: [TierSpan] = []
        let split = min(max(grid.start, try minutesFrom(connection)), grid.end)
        if grid.start < split { reads.append(TierSpan(tier: .hour, from: hourStart, to: split)) }
        if split < grid.end { reads.append(TierSpan(tier: .minute, from: split, to: grid.end)) }
        return reads
    }

    /// Every endpoint's figures over `range`, most calls first.
    package func endpoints(
        _ range: StoreTimeRange, method: String? = nil, route: String? = nil
    ) throws(StoreReadError) -> [StoreEndpoint] {
        try query { connection throws(SQLiteError) in
            var byEndpoint: [String: (method: String, route: String, figures: FiguresAccumulator, statuses: [Int: Int])] = [:]
            let filter = method == nil ? "" : " AND s.method = ?4 AND s.route = ?5"
            // Series first (CROSS JOIN keeps that order), then each one's rows
            // through the primary key: through the time index every row cost
            // a lookup in the table.
            let rows = try connection.prepare(
                """
                SELECT m.requests, m.client_errors, m.server_errors, m.request_bytes, m.response_bytes, m.sketch,
                    s.method, s.route, s.status FROM series s CROSS JOIN metrics m
                    ON m.tier = ?1 AND m.series_id = s.id AND m.start >= ?2 AND m.start < ?3
                WHERE s.id != 0\(filter)
                """)
            for span in try spans(range, connection) {
                rows.reset()
                rows.bind(1, span.tier.rawValue)
                rows.bind(2, span.from)
                rows.bind(3, span.to)
                if let method {
                    rows.bind(4, method)
                    rows.bind(5, route ?? "")
                }
                while try rows.step() {
                    let method = rows.text(6), route = rows.text(7)
                    let key = method + " " + route
                    // Added to in place: an entry taken out while the
                    // dictionary still held it copied its sketch's counts
                    // (about 19 KB) on every row.
                    byEndpoint[key, default: (method, route, FiguresAccumulator(), [:])].figures.add(rows, from: 0)
                    byEndpoint[key, default: (method, route, FiguresAccumulator(), [:])].statuses[rows.int(8), default: 0] +=
                        rows.int(0)
                }
            }
            return byEndpoint.values
                .map { StoreEndpoint(method: $0.method, route: $0.route, figures: $0.figures.figures, statuses: $0.statuses) }
                .sorted { ($0.figures.requests, $1.route, $1.method) > ($1.figures.requests, $0.route, $0.method) }
        }
    }

    func seriesIDs(method: String, route: String, _ connection: SQLiteConnection) throws(SQLiteError) -> [Int64] {
        let statement = try connection.prepare("SELECT id FROM series WHERE method = ?1 AND route = ?2")
        statement.bind(1, method)
        statement.bind(2, route)
        var ids: [Int64] = []
        while try statement.step() { ids.append(statement.int64(0)) }
        return ids
    }

    /// Every consumer with calls in `range`, most calls first, and the
    /// anonymous calls (identified as no consumer).
    package func consumers(
        _ range: StoreTimeRange, id: String? = nil
    ) throws(StoreReadError) -> (consumers: [StoreConsumer], anonymous: Double, excluded: Double, unattributed: Double) {
        try query { connection throws(SQLiteError) in
            var counts: [Int64: (Double, Double, Double)] = [:]
            let filter = id == nil ? "" : " AND consumer_id = (SELECT id FROM consumers WHERE consumer = ?4)"
            let rows = try connection.prepare(
                """
                SELECT consumer_id, requests, client_errors, server_errors FROM consumer_metrics
                WHERE tier = ?1 AND start >= ?2 AND start < ?3\(filter)
                """)
            for span in try spans(range, connection) {
                rows.reset()
                rows.bind(1, span.tier.rawValue)
                rows.bind(2, span.from)
                rows.bind(3, span.to)
                if let id { rows.bind(4, id) }
                while try rows.step() {
                    var entry = counts[rows.int64(0)] ?? (0, 0, 0)
                    entry.0 += rows.double(1)
                    entry.1 += rows.double(2)
                    entry.2 += rows.double(3)
                    counts[rows.int64(0)] = entry
                }
            }
            let anonymous = counts[StoreSchema.anonymousConsumerID]?.0 ?? 0
            let excluded = counts[StoreSchema.excludedConsumerID]?.0 ?? 0
            let unattributed = counts[StoreSchema.unattributedConsumerID]?.0 ?? 0
            var consumers: [StoreConsumer] = []
            let profile = try connection.prepare(
                "SELECT consumer, name, email, company, grp, metadata, first_seen, last_seen FROM consumers WHERE id = ?1")
            for (rowID, figures) in counts where rowID > 0 {
                profile.reset()
                profile.bind(1, rowID)
                guard try profile.step() else { continue }
                consumers.append(Self.consumer(profile, requests: figures))
            }
            if let id, consumers.isEmpty {
                // Known from its calls or profile, with no metrics in the range.
                let named = try connection.prepare(
                    "SELECT consumer, name, email, company, grp, metadata, first_seen, last_seen FROM consumers WHERE consumer = ?1 AND id > 0"
                )
                named.bind(1, id)
                if try named.step() { consumers.append(Self.consumer(named, requests: (0, 0, 0))) }
            }
            return (consumers.sorted { ($0.requests, $1.id) > ($1.requests, $0.id) }, anonymous, excluded, unattributed)
        }
    }

    /// How many consumers had calls in `range`, without reading their profiles.
    package func consumerCount(_ range: StoreTimeRange) throws(StoreReadError) -> Int {
        try query { connection throws(SQLiteError) in
            var seen = Set<Int64>()
            let rows = try connection.prepare(
                "SELECT DISTINCT consumer_id FROM consumer_metrics WHERE tier = ?1 AND start >= ?2 AND start < ?3 AND consumer_id > 0"
            )
            for span in try spans(range, connection) {
                rows.reset()
                rows.bind(1, span.tier.rawValue)
                rows.bind(2, span.from)
                rows.bind(3, span.to)
                while try rows.step() { seen.insert(rows.int64(0)) }
            }
            return seen.count
        }
    }

    private static func consumer(_ row: SQLiteStatement, requests figures: (Double, Double, Double)) -> StoreConsumer {
        var metadata: [String: String] = [:]
        let blob = row.blob(5)
        if !blob.isEmpty {
            var reader = BinaryReader(blob)
            metadata = (try? reader.strings()) ?? [:]
        }
        return StoreConsumer(
            id: row.text(0), name: row.optionalText(1), email: row.optionalText(2), company: row.optionalText(3),
            group: row.optionalText(4), metadata: metadata, requests: figures.0, clientErrors: figures.1,
            serverErrors: figures.2, firstSeen: row.int64(6), lastSeen: row.int64(7))
    }

    /// One consumer's calls per point of `resolutionSeconds` (counts only).
    package func consumerPoints(
        _ range: StoreTimeRange, id: String, resolutionSeconds: Int64
    ) throws(StoreReadError) -> [StorePoint] {
        try query { connection throws(SQLiteError) in
            let grid = Grid(range, resolutionSeconds: resolutionSeconds)
            var buckets = [StoreFigures](repeating: StoreFigures(), count: grid.count)
            let reads = try pointSpans(grid, connection)
            let rows = try connection.prepare(
                """
                SELECT start, requests, client_errors, server_errors FROM consumer_metrics
                WHERE tier = ?1 AND consumer_id = (SELECT id FROM consumers WHERE consumer = ?2) AND start >= ?3 AND start < ?4
                """)
            for span in reads {
                rows.reset()
                rows.bind(1, span.tier.rawValue)
                rows.bind(2, id)
                rows.bind(3, span.from)
                rows.bind(4, span.to)
                while try rows.step() {
                    guard let bucket = grid.bucket(ofSecond: rows.int64(0)) else { continue }
                    buckets[bucket].requests += Int(rows.double(1).rounded())
                    buckets[bucket].clientErrors += Int(rows.double(2).rounded())
                    buckets[bucket].serverErrors += Int(rows.double(3).rounded())
                }
            }
            return buckets.enumerated().map {
                StorePoint(start: grid.start + Int64($0.offset) * resolutionSeconds, figures: $0.element)
            }
        }
    }

    /// Calls per consumer per day or month (UTC), from the metrics
    /// (exact, weighted): what billing by usage reads.
    package func usage(
        _ range: StoreTimeRange, monthly: Bool
    ) throws(StoreReadError) -> [(period: String, consumer: String, requests: Double)] {
        try query { connection throws(SQLiteError) in
            let rows = try connection.prepare(
                """
                SELECT strftime(?4, m.start, 'unixepoch'), c.consumer, sum(m.requests) FROM consumer_metrics m
                JOIN consumers c ON c.id = m.consumer_id
                WHERE m.tier = 2 AND m.start >= ?1 AND m.start < ?2 AND m.consumer_id > 0 AND ?3 = ?3
                GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
                """)
            rows.bind(1, StoreSchema.Tier.day.start(ofSecond: StoreWriterState.floorSeconds(range.from)))
            rows.bind(2, StoreWriterState.floorSeconds(range.to + 999_999_999))
            rows.bind(3, 0)
            rows.bind(4, monthly ? "%Y-%m" : "%Y-%m-%d")
            var result: [(String, String, Double)] = []
            while try rows.step() { result.append((rows.text(0), rows.text(1), rows.double(2))) }
            return result
        }
    }
}

/// The points of a chart: `count` buckets of `resolution` seconds from
/// `start` (aligned to the resolution), covering a range.
struct Grid {
    var start: Int64
    var resolution: Int64
    var count: Int

    init(_ range: StoreTimeRange, resolutionSeconds: Int64) {
        resolution = max(1, resolutionSeconds)
        let from = StoreWriterState.floorSeconds(range.from)
        let to = StoreWriterState.floorSeconds(range.to + 999_999_999)
        start = (from >= 0 ? from / resolution : (from - resolution + 1) / resolution) * resolution
        count = Int(max(1, min(2_000, (to - start + resolution - 1) / resolution)))
    }

    var end: Int64 { start + Int64(count) * resolution }

    func bucket(ofSecond second: Int64) -> Int? {
        guard second < end else { return nil }
        return max(0, Int((second - start) / resolution))
    }
}

/// Adds metrics rows (requests, client errors, server errors, request
/// bytes, response bytes, sketch: six columns from `from`).
struct FiguresAccumulator {
    var requests = 0
    var clientErrors = 0
    var serverErrors = 0
    var requestBytes: Int64 = 0
    var responseBytes: Int64 = 0
    var sketch = SketchAccumulator()

    mutating func add(_ row: SQLiteStatement, from column: Int32) {
        requests &+= row.int(column)
        clientErrors &+= row.int(column + 1)
        serverErrors &+= row.int(column + 2)
        requestBytes &+= row.int64(column + 3)
        responseBytes &+= row.int64(column + 4)
        row.withBlob(column + 5) { sketch.add(storedBytes: $0) }
    }

    var figures: StoreFigures {
        var figures = StoreFigures()
        figures.requests = requests
        figures.clientErrors = clientErrors
        figures.serverErrors = serverErrors
        figures.requestBytes = requestBytes
        figures.responseBytes = responseBytes
        figures.latency = sketch.sketch
        return figures
    }
}
