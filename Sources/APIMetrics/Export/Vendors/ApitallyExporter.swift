/// Sends the API's metrics to [Apitally](https://apitally.io) through its
/// hub's v2 API, as Apitally's SDKs do: `POST {base}/v2/{client_id}/{env}/startup`
/// once (the routes and versions), then every sync interval (10 s for the
/// first hour, then 60 s) `POST …/sync` with the calls counted per consumer,
/// method, route and status (response times in 10 ms bins, sizes in kB
/// bins), the server and validation errors, the consumers and the
/// process's CPU and memory. With ``Options/isRequestLoggingEnabled``, each
/// batch's calls also go as gzip'd NDJSON files to `POST …/log?uuid=…`
/// (see ``ApitallyRequestLogOptions``).
///
/// As Apitally's SDKs do, only calls with a route template are counted (a
/// 404 scan is no endpoint), `OPTIONS` calls are neither counted nor
/// logged, and a call that ended with no response counts as a 500. A call
/// neither counted nor logged is counted in ``Statistics/destinationLeftOut``.
///
/// The calls are counted from the processed events this exporter receives,
/// so sampling weights count and a call the queue dropped is not counted
/// (``Statistics/dropped`` says how many). A sync that fails is kept and
/// sent again with the next one, oldest first, and given up once it is an
/// hour old (Apitally's rule), counted in ``Statistics/failed``; a 404 means
/// the client ID is unknown, and the exporter stops; a 422 (the hub refused
/// the document) gives that sync up, counted the same way. At most 360
/// failed syncs or 16 MiB of them wait; past that the oldest is given up,
/// counted the same way. A request-log upload that fails is kept in memory
/// and tried again: at most 50 wait, as in the SDKs, and at most 8 MiB of
/// them (the SDKs keep theirs on disk; 50 files of up to 1,000,000 bytes
/// would be ~50 MB on the heap); past either the oldest is given up. A
/// 402 (quota spent) gives up what waits and pauses the log for its
/// `Retry-After`, at most a day; a 422 gives that upload up. The calls of
/// an upload given up that a sync counts are said in a warning; the
/// others (no route template, such as 404 scans) reach Apitally nowhere
/// else and are counted in ``Statistics/failed``.
///
/// The instance UUID is kept in a file (``Options/instanceDirectory``), so
/// that a restarted process keeps it, as the SDKs keep it; the file's
/// modification time is refreshed when it is taken and at each sync, so
/// that the 24-hour rule for stale slots removes only slots no process
/// used for a day.
///
/// Every table a client can grow is bounded as the metrics bound theirs:
/// past ``MetricsOptions/maxSeries`` series a call counts in route
/// ``SeriesKey/otherRoute``; past 1,000 consumers, or 10,000 rows with a
/// consumer, without its consumer; past 200 server-error or
/// validation-error groups an error is left out. Apitally's sync has no
/// field for these folds: each sync that made one says how many in a
/// warning (``Diagnostics``).
public struct ApitallyExporter: EventExporter {
    /// Apitally's schedule: 10 s for the first hour, then 60 s.
    static let initialSyncInterval: Duration = .seconds(10)
    static let laterSyncInterval: Duration = .seconds(60)
    static let initialPeriod: Duration = .seconds(3600)

    struct PendingSync: Sendable {
        var body: [UInt8]
        var madeAt: Int64
        var calls: Int
    }

    /// Consumer profiles remembered to send when they change.
    static let maxConsumerProfiles = 10_000
    /// The most server-error groups, and the most validation-error groups,
    /// in one sync: the metrics' group limit.
    static let maxErrorGroups = 200

    /// What a sync's tables left out or folded, for its warning.
    struct Folds: Sendable, Equatable {
        var routeCalls = 0
        var consumerCalls = 0
        var serverErrors = 0
        var validationErrors = 0
        var profiles = 0

        var isEmpty: Bool { self == Folds() }
    }

    struct State: Sendable {
        var requests: ApitallyRequestTable
        var serverErrors: [ServerErrorKey: Int] = [:]
        var validationErrors: [ValidationErrorKey: Int] = [:]
        /// Errors of groups past ``maxErrorGroups``, and profiles past
        /// ``maxConsumerProfiles``, since the last sync.
        var folds = Folds()
        var consumers: [String: (name: String?, group: String?)] = [:]
        var updatedConsumers: Set<String> = []
        var resources: (cpuPercent: Double, residentBytes: Int)?
        var pending: [PendingSync] = []
        var startup: [UInt8]?
        var startupSent = false
        var lastSync: Int64?
        var isDisabled = false
        var isSyncing = false
        /// Where a sync given up is counted: the sender's, from the last batch.
        var reportLost: (@Sendable (Int, String) -> Void)?
        /// Where a sync's folds are told: the sender's, from the last batch.
        var reportWarning: (@Sendable (String) -> Void)?
        var timer: Task<Void, Never>?
        var isTimerStarted = false
        /// Request-log files waiting to be uploaded, oldest first.
        var pendingLogs: [ApitallyRequestLog.PendingFile] = []
        var isUploading = false
        var logWindow = ApitallyRequestLog.RateWindow()
        /// Until when the hub asked for no request log (402 with Retry-After).
        var logSuspendedUntil: Int64?
        /// Why the instance UUID is not the kept one, told with the first batch.
        var instanceWarning: String?
    }

    struct ServerErrorKey: Hashable, Sendable {
        var consumer: String?
        var method: String
        var path: String
        var type: String
        var message: String
        var traceback: String
    }

    struct ValidationErrorKey: Hashable, Sendable {
        var consumer: String?
        var method: String
        var path: String
        var location: [String]
        var message: String
        var type: String
    }

    /// The options in force.
    public let options: Options
    private let transport: any HTTPTransport
    private let hub: String
    let instance: String
    /// The slot file holding ``instance``, kept open while the exporter lives.
    let instanceFile: ApitallyInstanceFile?
    let startedAt = CaptureClock.monotonicNanoseconds()
    let state: LockedValue<State>

    /// Creates an exporter after checking its options. Apitally's instance
    /// UUID is kept in a file in ``Options/instanceDirectory``, as the SDKs
    /// keep it; in a service with ``APIMetricsConfiguration/instanceID`` set,
    /// it is made from that id instead.
    public init(options: Options) throws(ConfigurationError) {
        try self.init(options: options, instanceID: nil)
    }

    /// `instanceID`: the configuration's, when the user set one.
    init(options: Options, instanceID: String?) throws(ConfigurationError) {
        try options.validate(field: "apitally")
        self.options = options
        self.transport = options.transport ?? URLSessionTransport()
        var base = options.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        hub = "\(base)/v2/\(options.clientID.lowercased())/\(options.environment)"
        var initial = State(requests: ApitallyRequestTable(maxSeries: options.maxSeries))
        if let instanceID {
            instance = Self.uuid(fromDigest: SHA256.hash("\(options.clientID)|\(options.environment)|\(instanceID)".utf8))
            instanceFile = nil
        } else {
            let directory = options.instanceDirectory ?? ApitallyInstanceFile.defaultDirectory()
            do {
                let file = try ApitallyInstanceFile.acquire(
                    directory: directory, clientID: options.clientID, environment: options.environment,
                    field: "apitally.instanceDirectory")
                instance = file.uuid
                instanceFile = file
            } catch {
                instance = Self.randomUUID()
                instanceFile = nil
                initial.instanceWarning =
                    "Apitally's instance UUID cannot be kept (\(error)); this process uses a fresh one, \(instance)"
            }
        }
        state = LockedValue(initial)
    }

    /// `apitally(HUB_URL)`.
    public var name: String { "apitally(\(ConfiguredSecrets.shown(hub)))" }

    /// Calls (counted) and the metrics windows (which carry the startup
    /// record and the process's CPU and memory).
    public var content: ExportContent { .all }

    /// Counts the batch's calls and syncs when the interval has passed, a
    /// metrics window came, or the service is stopping. A failed sync is
    /// kept, not thrown: the calls are counted once, whatever happens to
    /// the requests that carry them.
    public func export(_ batch: ExportBatch) async throws {
        guard !state.withLock({ $0.isDisabled }) else {
            batch.reportLeftOut(batch.records.count)
            return
        }
        if let startup = batch.startup {
            let body = ApitallyPayloads.startup(
                instance: instance, message: Self.randomUUID(), routes: startup.routes,
                swiftVersion: startup.swiftVersion, appVersion: options.appVersion)
            state.withLock { $0.startup = body }
        }
        let instanceWarning = state.withLock { state -> String? in
            state.reportLost = batch.lossReporter
            state.reportWarning = batch.warningReporter
            defer { state.instanceWarning = nil }
            return state.instanceWarning
        }
        if let instanceWarning { batch.warningReporter(instanceWarning) }
        // Counted once, whatever the request log does: a throw here would
        // have the sender hand the batch over again and count it twice.
        let counted = count(batch)
        let logged =
            options.isRequestLoggingEnabled
            ? enqueueLog(batch, counted: counted) : [Bool](repeating: false, count: batch.records.count)
        batch.reportLeftOut(zip(counted, logged).count { !$0 && !$1 })
        startTimer()
        await flushLogs()
        await sendStartupIfNeeded()
        // A metrics window (and the last, at shutdown) syncs at once; the
        // timer syncs in between.
        if batch.metrics != nil { await sync(now: CaptureClock.monotonicNanoseconds(), waitingForTheTimer: true) }
    }

    /// Stops the sync timer.
    public func shutdown() async {
        let (timer, waiting, warn, lost) = state.withLock { state in
            defer { state.pendingLogs = [] }
            return (state.timer, state.pendingLogs, state.reportWarning, state.reportLost)
        }
        timer?.cancel()
        giveUp(waiting, because: "they still waited at shutdown", lost: lost, warn: warn)
    }

    /// Syncs on Apitally's schedule while the exporter runs, whether calls
    /// come or not.
    private func startTimer() {
        let start = state.withLock { state -> Bool in
            guard !state.isTimerStarted else { return false }
            state.isTimerStarted = true
            return true
        }
        guard start else { return }
        let timer = Task { [self] in
            while !Task.isCancelled {
                let now = CaptureClock.monotonicNanoseconds()
                let last = state.withLock { $0.lastSync } ?? startedAt
                let wait = max(10_000_000, syncInterval(at: now).nanosecondsClamped - (now - last))
                try? await Task.sleep(for: .nanoseconds(wait))
                guard !Task.isCancelled else { return }
                let due = CaptureClock.monotonicNanoseconds()
                if due - (state.withLock { $0.lastSync } ?? startedAt) >= syncInterval(at: due).nanosecondsClamped {
                    await sendStartupIfNeeded()
                    await sync(now: due)
                    await flushLogs()
                }
            }
        }
        state.withLock { $0.timer = timer }
    }

    /// The interval in force at `now`.
    func syncInterval(at now: Int64) -> Duration {
        if let interval = options.syncInterval { return interval }
        return now - startedAt < Self.initialPeriod.nanosecondsClamped ? Self.initialSyncInterval : Self.laterSyncInterval
    }

    /// Whether Apitally's SDKs count a call: one with a route template
    /// that is not `OPTIONS`.
    static func isCounted(_ record: ExchangeRecord) -> Bool {
        guard let route = record.request.route, !route.isEmpty else { return false }
        return record.request.method.uppercased() != "OPTIONS"
    }

    /// Counts the batch's calls that have a route template; returns which
    /// were counted.
    private func count(_ batch: ExportBatch) -> [Bool] {
        state.withLock { state in
            var counted = [Bool](repeating: false, count: batch.records.count)
            for index in batch.records.indices {
                let record = batch.records[index]
                guard Self.isCounted(record), let path = record.request.route else { continue }
                counted[index] = true
                let weight = max(1, Int(record.weight.rounded()))
                state.requests.add(record, weight: weight)
                let consumer = record.consumer.map { ApitallyPayloads.consumerIdentifier($0.id) }.flatMap {
                    $0.isEmpty ? nil : $0
                }
                let method = HTTPMethods.seriesMethod(record.request.method.uppercased())
                if let consumer, let profile = record.consumer {
                    let (name, group) = (
                        ApitallyPayloads.consumerLabel(profile.name), ApitallyPayloads.consumerLabel(profile.group)
                    )
                    let known = state.consumers[consumer]
                    // Profiles of at most maxConsumerProfiles consumers are
                    // remembered; a newer one's is not sent (its calls are).
                    if name != nil || group != nil, known == nil || known?.name != name || known?.group != group {
                        if known != nil || state.consumers.count < Self.maxConsumerProfiles {
                            state.consumers[consumer] = (name, group)
                            state.updatedConsumers.insert(consumer)
                        } else {
                            state.folds.profiles += 1
                        }
                    }
                }
                // The SDKs report a server error for a 500 with an exception.
                if ApitallyPayloads.status(of: record) == 500, let error = record.errors.first {
                    let key = ServerErrorKey(
                        consumer: consumer, method: method, path: path, type: error.type,
                        message: ApitallyPayloads.message(error.message),
                        traceback: ApitallyPayloads.traceback(ApitallyPayloads.tracebackText(of: error)))
                    if state.serverErrors[key] != nil || state.serverErrors.count < Self.maxErrorGroups {
                        state.serverErrors[key, default: 0] += weight
                    } else {
                        state.folds.serverErrors += weight
                    }
                }
                for problem in ValidationProblems.of(record) {
                    let key = ValidationErrorKey(
                        consumer: consumer, method: method, path: path,
                        location: problem.field.split(separator: ".").map(String.init), message: problem.message,
                        type: problem.type)
                    if state.validationErrors[key] != nil || state.validationErrors.count < Self.maxErrorGroups {
                        state.validationErrors[key, default: 0] += weight
                    } else {
                        state.folds.validationErrors += weight
                    }
                }
            }
            if let heartbeat = batch.heartbeat, let share = heartbeat.cpuShare, let rss = heartbeat.residentBytes {
                state.resources = (share * 100, rss)
            }
            return counted
        }
    }

    func sendStartupIfNeeded() async {
        guard let body = state.withLock({ $0.startupSent ? nil : $0.startup }) else { return }
        if let response = try? await post("/startup", body), (200..<300).contains(response.status) {
            state.withLock { $0.startupSent = true }
        }
    }

    func post(_ path: String, _ body: [UInt8], json: Bool = true) async throws -> TransportResponse {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: json ? "application/json" : "application/octet-stream")
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        let request = TransportRequest(url: hub + path, method: "POST", headers: headers, body: body, timeout: options.timeout)
        return try await transport.send(request)
    }

    /// A version-4 UUID from the first 16 bytes of a digest.
    static func uuid(fromDigest digest: [UInt8]) -> String {
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(digest[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(digest[index]) }
        return EventID(high: high, low: low).uuidString
    }

    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        return EventID(high: generator.next(), low: generator.next()).uuidString
    }
}
