#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The writer's connection and everything it caches, touched only on the
/// writer's thread.
final class StoreWriterState {
    /// Hands the state to the queue's closures; the queue is serial, so
    /// nothing in it is touched by two threads at once.
    final class Box: @unchecked Sendable {
        let value: StoreWriterState
        init(_ value: StoreWriterState) { self.value = value }
    }

    /// What a write did besides committing.
    struct Outcome: Sendable {
        var lost = 0
        var message: String?
        var warning: String?
    }

    /// The most metrics windows kept in memory while writes fail (a day of
    /// one-minute windows); past it the oldest are given up, counted.
    static let maxPendingWindows = 1_440
    /// The most distinct endpoints the call log names; past it new ones are
    /// logged under (`_OTHER`, `(other)`) and the record keeps the real ones.
    static let maxEndpoints = 10_000
    /// The most consumer row ids kept in memory: clients can name a new
    /// consumer on every call (a header, a made-up API key), so past it the
    /// cache starts over and ids are looked up again.
    static let maxCachedConsumers = 10_000

    let options: StoreOptions
    let metricsInterval: Duration
    let status: StoreStatusCell
    var connection: SQLiteConnection?
    var statements: StoreStatements?
    var lockDescriptor: Int32 = -1
    /// Why the store is not written this run (locked, newer schema, cannot open).
    var disabledReason: String?
    /// Whether losses were already announced since the last success.
    var isAnnouncingLosses = false
    /// Warnings to hand to the sender with the next write's outcome (the
    /// store is opened before any batch, on the writer's thread).
    var announcements: [String] = []

    var endpointIDs: [EndpointKey: Int64] = [:]
    var seriesIDs: [SeriesKey: Int64] = [:]
    var consumerIDs: [String: Int64] = [:]
    var runIDs: [RunKey: Int64] = [:]
    var endpointCount = 0
    var pending: [PendingMetrics] = []
    var lastRetentionNanoseconds: Int64 = 0
    /// Whether calls of the table before blocks are still to be moved into blocks.
    var hasLegacyCalls = false
    /// The learner whose operations and changes are written with each
    /// metrics window and at close; `nil` when discovery is off.
    var discovery: APIDiscovery?
    /// The API's changes handed over with windows and not yet written (at
    /// most ``APIDiscovery/maxChanges``; the oldest go first).
    var pendingChanges: [APIChange] = []
    /// The alert rules whose states and transitions are written with each window; `nil` without rules.
    var alerts: AlertEngine?
    /// Alert transitions handed over and not yet written (at most ``AlertEngine/maxHistory``).
    var pendingAlerts: [AlertEvent] = []
    /// The alert states as last written, by rule and instance; `nil` when
    /// not known (a new connection, a failed write): all are written then.
    var savedAlertStates: [AlertEngine.InstanceName: AlertEngine.Instance]?
    /// Whether a write is being retried on a fresh file after corruption.
    var isRecovering = false
    /// Offers the core back while a commit inserts calls, below normal priority.
    var yielder: CoreYielder

    struct EndpointKey: Hashable { var method: String; var route: String }
    struct RunKey: Hashable { var instance: String; var startedAt: Int64 }

    /// A window, heartbeat and startup record still to be written.
    struct PendingMetrics {
        var identity: ServiceIdentity
        var metrics: MetricsWindow?
        var heartbeat: Heartbeat?
        var startup: StartupRecord?
        var statistics: Statistics?
    }

    init(options: StoreOptions, metricsInterval: Duration, yieldInterval: Int64? = nil, status: StoreStatusCell) {
        self.options = options
        self.metricsInterval = metricsInterval
        self.status = status
        self.yielder = CoreYielder(interval: yieldInterval)
    }

    deinit {
        connection = nil
        statements = nil
        if lockDescriptor >= 0 { StoreFile.release(lockDescriptor) }
    }

    // MARK: Opening

    /// Takes the writer's lock, opens the file, migrates it; a corrupt
    /// file is moved aside and a fresh one started.
    func open() {
        guard connection == nil, disabledReason == nil else { return }
        if lockDescriptor < 0 {
            switch StoreFile.lock(options.path) {
            case let .success(descriptor): lockDescriptor = descriptor
            case let .failure(failure):
                disable(
                    failure == .locked
                        ? "\(options.path) is being written by another process; this one does not write it (its calls are counted as dropped)"
                        : "cannot open \(options.path): \(failure)")
                return
            }
        }
        do {
            try openConnection()
        } catch let failure {
            if case .corrupt = failure {
                recoverFromCorruption(failure)
                return
            }
            disable("cannot open \(options.path): \(failure)")
        }
    }

    private func openConnection() throws(StoreFailure) {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: options.path, readOnly: false)
            savedAlertStates = nil
        } catch {
            throw StoreFailure(error)
        }
        connection.setBusyTimeout(milliseconds: 2_000)
        guard let before = try StoreSchema.prepare(connection, maxBytes: options.maxBytes) else {
            disable(
                "\(options.path) was written by a newer release (schema version past \(StoreSchema.version)); this one does not write it"
            )
            return
        }
        do {
            if before > 0, try Self.metaValue("open", connection) == "1" {
                // The last writer did not close it (killed): check it before trusting it.
                let check = try connection.prepare("PRAGMA quick_check(1)")
                let verdict = try check.step() ? check.text(0) : "ok"
                check.reset()
                if verdict != "ok" {
                    throw StoreFailure.corrupt(SQLiteError(code: 11, message: "quick_check: \(verdict)"))
                }
            }
            // The file never passes maxBytes: past it a write fails as on a
            // full disk (counted, retention runs), though retention before
            // each commit keeps the data under 90% of it.
            let pageSize = max(512, try connection.integer("PRAGMA page_size"))
            let pages = min(Int64(options.maxBytes) / pageSize, Int64(options.pageLimitForTesting ?? .max))
            _ = try connection.integer("PRAGMA max_page_count = \(pages)")
            try connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('open', '1')")
            self.statements = try StoreStatements(connection)
            hasLegacyCalls =
                try connection.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'calls_legacy'") == 1
            // A new store's (or a converted store's) empty table goes at once.
            if hasLegacyCalls, try connection.integer("SELECT EXISTS (SELECT 1 FROM calls_legacy)") == 0 {
                try connection.execute("DROP TABLE calls_legacy")
                hasLegacyCalls = false
            }
        } catch let error as SQLiteError {
            throw StoreFailure(error)
        } catch let error as StoreFailure {
            throw error
        } catch {
            throw StoreFailure.sqlite(SQLiteError(code: -1, message: "\(error)"))
        }
        self.connection = connection
        savedAlertStates = nil
        status.withLock {
            $0.isOpen = true
            $0.schemaVersion = StoreSchema.version
        }
    }

    static func metaValue(_ key: String, _ connection: SQLiteConnection) throws(SQLiteError) -> String? {
        let statement = try connection.prepare("SELECT value FROM meta WHERE key = ?")
        statement.bind(1, key)
        defer { statement.reset() }
        return try statement.step() ? statement.text(0) : nil
    }

    private func disable(_ reason: String) {
        disabledReason = reason
        note(error: reason)
        announcements.append("store: \(reason)")
    }

    /// Moves the file aside and opens a fresh one; warns once.
    @discardableResult
    func recoverFromCorruption(_ failure: StoreFailure) -> String {
        closeConnection()
        let now = CaptureClock.wallNanoseconds()
        guard let aside = StoreFile.moveAside(options.path, nowNanoseconds: now) else {
            let reason = "\(options.path) is corrupt (\(failure)) and could not be moved aside: \(StoreFile.errorText(errno))"
            disable(reason)
            return reason
        }
        // The lock was on the file now moved aside.
        if lockDescriptor >= 0 { StoreFile.release(lockDescriptor) }
        lockDescriptor = -1
        let message = "store: \(options.path) was corrupt (\(failure)); it was moved to \(aside) and a new store started"
        note(error: message)
        announcements.append(message)
        open()
        return message
    }

    func closeConnection() {
        statements = nil
        connection?.close()
        connection = nil
        endpointIDs = [:]
        seriesIDs = [:]
        consumerIDs = [:]
        runIDs = [:]
        endpointCount = 0
        status.withLock { $0.isOpen = false }
    }

    /// Marks the file as closed cleanly, checkpoints the log and closes.
    func close() {
        if let discovery {
            // Changes seen after the last window was cut (calls that waited for
            // the earlier run's operations to be read, say) are written too.
            pendingChanges.append(contentsOf: discovery.takeChanges())
            saveDiscovery()
        }
        saveAlerts()
        if let connection, pending.isEmpty || disabledReason != nil {
            try? connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('open', '0')")
            try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        } else if let connection, let statements {
            // One transaction: the minute, hour and day rows stay in step even if it fails.
            try? transaction(statements) { () throws(SQLiteError) in try writePending(connection) }
            try? connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('open', '0')")
        }
        closeConnection()
        if lockDescriptor >= 0 { StoreFile.release(lockDescriptor) }
        lockDescriptor = -1
    }

    func note(error: String?) {
        status.withLock {
            $0.lastError = error
            $0.lastErrorAt = error == nil ? nil : CaptureClock.wallNanoseconds()
        }
    }
}

extension StoreFailure: Equatable {
    static func == (left: StoreFailure, right: StoreFailure) -> Bool {
        switch (left, right) {
        case (.locked, .locked): true
        default: false
        }
    }
}
