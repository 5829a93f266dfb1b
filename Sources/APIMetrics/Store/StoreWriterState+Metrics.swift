extension StoreWriterState {
    /// Writes every pending window, heartbeat and startup record into the
    /// open transaction.
    func writePending(_ connection: SQLiteConnection) throws(SQLiteError) {
        guard let statements else { return }
        for part in pending {
            if let startup = part.startup {
                _ = try runID(
                    identity: part.identity, startedAt: startup.startedAtNanoseconds, lastSeen: startup.startedAtNanoseconds,
                    libraryVersion: startup.libraryVersion, statements)
            }
            if let window = part.metrics { try write(window, statements) }
            if let heartbeat = part.heartbeat {
                let run = try runID(
                    identity: part.identity, startedAt: heartbeat.startedAtNanoseconds, lastSeen: heartbeat.timeNanoseconds,
                    libraryVersion: nil, statements)
                statements.heartbeat.bind(1, heartbeat.timeNanoseconds)
                statements.heartbeat.bind(2, run)
                if let share = heartbeat.cpuShare { statements.heartbeat.bind(3, share) }
                if let resident = heartbeat.residentBytes { statements.heartbeat.bind(4, resident) }
                try statements.heartbeat.run()
                var writer = JSONWriter(capacity: 512)
                MetricsJSON.writePipeline(part.statistics ?? heartbeat.statistics, into: &writer)
                statements.pipeline.bind(1, heartbeat.timeNanoseconds)
                statements.pipeline.bind(2, run)
                statements.pipeline.bind(3, String(decoding: writer.bytes, as: UTF8.self))
                try statements.pipeline.run()
            }
        }
    }

    private func runID(
        identity: ServiceIdentity, startedAt: Int64, lastSeen: Int64, libraryVersion: String?, _ statements: StoreStatements
    ) throws(SQLiteError) -> Int64 {
        let key = RunKey(instance: identity.instanceID ?? "", startedAt: startedAt)
        let statement = statements.run
        statement.bind(1, key.instance)
        statement.bind(2, startedAt)
        statement.bind(3, lastSeen)
        statement.bind(4, Int64(metricsInterval.nanosecondsClamped / 1_000_000))
        statement.bind(5, identity.version)
        statement.bind(6, libraryVersion)
        defer { statement.reset() }
        guard try statement.step() else { throw SQLiteError(code: -1, message: "no run id") }
        let id = statement.int64(0)
        runIDs[key] = id
        return id
    }

    private func write(_ window: MetricsWindow, _ statements: StoreStatements) throws(SQLiteError) {
        let second = Self.floorSeconds(window.startNanoseconds)
        var bySeries: [Int64: SeriesMetrics] = [:]
        var all = SeriesMetrics(key: SeriesKey(method: "", route: "", status: -1))
        for series in window.series {
            let id = try seriesID(series.key, statements)
            bySeries[id, default: SeriesMetrics(key: series.key)].merge(series)
            all.merge(series)
        }
        if !window.series.isEmpty { bySeries[StoreSchema.allSeriesID] = all }
        for tier in StoreSchema.Tier.allCases {
            let start = tier.start(ofSecond: second)
            for (id, figures) in bySeries { try add(figures, seriesID: id, tier: tier, start: start, statements) }
        }
        var consumers: [(Int64, ConsumerMetrics)] = []
        for consumer in window.consumers {
            var id = consumerIDs[consumer.id] ?? StoreSchema.anonymousConsumerID
            if consumerIDs[consumer.id] == nil {
                id = try upsertConsumer(id: consumer.id, name: consumer.name, time: window.startNanoseconds, statements)
            }
            consumers.append((id, consumer))
        }
        consumers.append((StoreSchema.anonymousConsumerID, ConsumerMetrics(id: "", requests: window.anonymousRequests)))
        consumers.append((StoreSchema.unattributedConsumerID, ConsumerMetrics(id: "", requests: window.unattributedRequests)))
        consumers.append((StoreSchema.excludedConsumerID, ConsumerMetrics(id: "", requests: window.excludedRequests)))
        for tier in StoreSchema.Tier.allCases {
            let start = tier.start(ofSecond: second)
            for (id, consumer) in consumers where consumer.requests > 0 {
                let statement = statements.addConsumerMetrics
                statement.bind(1, tier.rawValue)
                statement.bind(2, id)
                statement.bind(3, start)
                statement.bind(4, consumer.requests)
                statement.bind(5, consumer.clientErrors)
                statement.bind(6, consumer.serverErrors)
                try statement.run()
            }
        }
        let hour = StoreSchema.Tier.hour.start(ofSecond: second)
        for group in window.serverErrors {
            try addError(
                kind: 0, method: group.method, route: group.route, type: group.type, message: group.message, field: "",
                location: group.location, count: group.count, first: group.firstSeenNanoseconds, last: group.lastSeenNanoseconds,
                hour: hour, statements)
        }
        for group in window.validationErrors {
            try addError(
                kind: 1, method: group.method, route: group.route, type: group.type, message: group.message, field: group.field,
                location: nil, count: group.count, first: window.startNanoseconds, last: window.endNanoseconds, hour: hour,
                statements)
        }
    }

    static func floorSeconds(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
    }

    private func seriesID(_ key: SeriesKey, _ statements: StoreStatements) throws(SQLiteError) -> Int64 {
        if let id = seriesIDs[key] { return id }
        let statement = statements.series
        statement.bind(1, key.method)
        statement.bind(2, key.route)
        statement.bind(3, key.status)
        defer { statement.reset() }
        guard try statement.step() else { throw SQLiteError(code: -1, message: "no series id") }
        let id = statement.int64(0)
        seriesIDs[key] = id
        return id
    }

    /// Adds a window's figures to the tier's row, merging the sketches.
    private func add(
        _ figures: SeriesMetrics, seriesID: Int64, tier: StoreSchema.Tier, start: Int64, _ statements: StoreStatements
    ) throws(SQLiteError) {
        var merged = figures
        var requestBytes = figures.requestSizes.sumBytes
        var responseBytes = figures.responseSizes.sumBytes
        let read = statements.readMetrics
        read.bind(1, tier.rawValue)
        read.bind(2, seriesID)
        read.bind(3, start)
        if try read.step() {
            merged.requests &+= read.int(0)
            merged.clientErrors &+= read.int(1)
            merged.serverErrors &+= read.int(2)
            requestBytes &+= read.int64(3)
            responseBytes &+= read.int64(4)
            if let sketch = LatencySketch(storedBytes: read.blob(5)) { merged.latency.merge(sketch) }
        }
        read.reset()
        let write = statements.writeMetrics
        write.bind(1, tier.rawValue)
        write.bind(2, seriesID)
        write.bind(3, start)
        write.bind(4, merged.requests)
        write.bind(5, merged.clientErrors)
        write.bind(6, merged.serverErrors)
        write.bind(7, requestBytes)
        write.bind(8, responseBytes)
        write.bind(9, blob: merged.latency.storedBytes)
        try write.run()
    }

    private func addError(
        kind: Int, method: String, route: String, type: String, message: String, field: String, location: String?,
        count: Double, first: Int64, last: Int64, hour: Int64, _ statements: StoreStatements
    ) throws(SQLiteError) {
        let group = statements.errorGroup
        group.bind(1, kind)
        group.bind(2, method)
        group.bind(3, route)
        group.bind(4, type)
        group.bind(5, message)
        group.bind(6, field)
        group.bind(7, location)
        group.bind(8, first)
        group.bind(9, last)
        guard try group.step() else {
            group.reset()
            throw SQLiteError(code: -1, message: "no error group id")
        }
        let id = group.int64(0)
        group.reset()
        let counts = statements.addErrorCount
        counts.bind(1, id)
        counts.bind(2, hour)
        counts.bind(3, count)
        counts.bind(4, first)
        counts.bind(5, last)
        try counts.run()
    }
}
