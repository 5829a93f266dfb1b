/// Sends the API's metrics to [Apitally](https://apitally.io) through its
/// hub's v2 API, as Apitally's SDKs do: `POST {base}/v2/{client_id}/{env}/startup`
/// once (the routes and versions), then every sync interval (10 s for the
/// first hour, then 60 s) `POST …/sync` with the calls counted per consumer,
/// method, route and status (response times in 10 ms bins, sizes in kB
/// bins), the server and validation errors, the consumers and the
/// process's CPU and memory. With ``Options/isRequestLoggingEnabled``, each
/// batch's calls also go as a gzip'd NDJSON file to `POST …/log?uuid=…`.
///
/// The calls are counted from the processed events this exporter receives,
/// so sampling weights count and a call the queue dropped is not counted
/// (``Statistics/dropped`` says how many). A sync that fails is kept and
/// sent again with the next one, oldest first, and given up once it is an
/// hour old (Apitally's rule), counted in ``Statistics/failed``; a 404 means
/// the client ID is unknown, and the exporter stops. At most 360 failed
/// syncs or 16 MiB of them wait; past that the oldest is given up, counted
/// the same way.
///
/// Every table a client can grow is bounded as the metrics bound theirs:
/// past ``MetricsOptions/maxSeries`` series a call counts in route
/// ``SeriesKey/otherRoute``; past 1,000 consumers, or 10,000 rows with a
/// consumer, without its consumer; past 200 server-error or
/// validation-error groups an error is left out. Apitally's sync has no
/// field for these folds: each sync that made one says how many in a
/// warning (``Diagnostics``).
public struct ApitallyExporter: EventExporter {
    /// Everything the exporter needs.
    public struct Options: Sendable {
        /// The client ID from Apitally's app settings (a UUID).
        public var clientID: String
        /// The environment (`prod`, `dev`…): 1 to 32 letters, digits, `_` or `-`.
        public var environment: String
        /// Apitally's hub; another URL for a proxy or a test hub.
        public var baseURL: String
        /// The sync interval; `nil` follows Apitally's schedule (10 s for the
        /// first hour, then 60 s).
        public var syncInterval: Duration?
        /// Also uploads each call to Apitally's request log.
        public var isRequestLoggingEnabled: Bool
        /// The application's version, in the startup data.
        public var appVersion: String?
        /// How long one request may take.
        public var timeout: Duration
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?
        /// How old a failed sync may grow before it is given up (Apitally: an hour).
        var maxSyncAge: Duration = .seconds(3600)
        /// The most failed syncs kept: an hour's at the 10 s schedule.
        var maxPendingSyncs = 360
        /// The most bytes of failed syncs kept.
        var maxPendingBytes = 16 << 20
        /// The most series with a route of their own in a sync; in a service,
        /// the configuration's ``MetricsOptions/maxSeries``.
        var maxSeries = MetricsOptions().maxSeries

        /// Apitally's hub.
        public static let defaultBaseURL = "https://hub.apitally.io"

        /// Creates options.
        public init(
            clientID: String,
            environment: String,
            baseURL: String = defaultBaseURL,
            syncInterval: Duration? = nil,
            isRequestLoggingEnabled: Bool = false,
            appVersion: String? = nil,
            timeout: Duration = .seconds(10),
            transport: (any HTTPTransport)? = nil
        ) {
            self.clientID = clientID
            self.environment = environment
            self.baseURL = baseURL
            self.syncInterval = syncInterval
            self.isRequestLoggingEnabled = isRequestLoggingEnabled
            self.appVersion = appVersion
            self.timeout = timeout
            self.transport = transport
        }

        func validate(field: String) throws(ConfigurationError) {
            let hex = clientID.filter { $0 != "-" }
            guard hex.count == 32, hex.allSatisfy(\.isHexDigit),
                  clientID.count == 32 || clientID.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] else {
                throw ConfigurationError(field: "\(field).clientID", reason: "must be a UUID (Apitally's client ID), got \"\(clientID)\"")
            }
            guard (1...32).contains(environment.count),
                  environment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw ConfigurationError(
                    field: "\(field).environment", reason: "must be 1 to 32 letters, digits, _ or -, got \"\(environment)\"")
            }
            try HTTPExporter.validateURL(baseURL, field: "\(field).baseURL")
            guard timeout > .zero else {
                throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(timeout)")
            }
            if let syncInterval, syncInterval < .seconds(1) {
                throw ConfigurationError(field: "\(field).syncInterval", reason: "must be at least 1 s, got \(syncInterval)")
            }
        }
    }

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
    let startedAt = CaptureClock.monotonicNanoseconds()
    let state: LockedValue<State>

    /// Creates an exporter after checking its options. Apitally's instance
    /// UUID is made from the host name and the process id; in a service,
    /// from ``APIMetricsConfiguration/instanceID`` when it is set, so that a
    /// restarted instance keeps its UUID.
    public init(options: Options) throws(ConfigurationError) {
        try self.init(options: options, instanceID: InstanceID.make())
    }

    init(options: Options, instanceID: String) throws(ConfigurationError) {
        try options.validate(field: "apitally")
        self.options = options
        self.transport = options.transport ?? URLSessionTransport()
        var base = options.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        hub = "\(base)/v2/\(options.clientID.lowercased())/\(options.environment)"
        instance = Self.uuid(fromDigest: SHA256.hash("\(options.clientID)|\(options.environment)|\(instanceID)".utf8))
        state = LockedValue(State(requests: ApitallyRequestTable(maxSeries: options.maxSeries)))
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
        state.withLock { state in
            state.reportLost = batch.lossReporter
            state.reportWarning = batch.warningReporter
        }
        // Counted once, whatever the request log does: a throw here would
        // have the sender hand the batch over again and count it twice.
        count(batch)
        startTimer()
        if options.isRequestLoggingEnabled, !batch.records.isEmpty {
            do {
                try await uploadLog(batch.records)
            } catch {
                batch.reportLost(batch.records.count, message: "Apitally's request log did not take \(batch.records.count) calls (\(error)); they are counted in the syncs")
            }
        }
        await sendStartupIfNeeded()
        // A metrics window (and the last, at shutdown) syncs at once; the
        // timer syncs in between.
        if batch.metrics != nil { await sync(now: CaptureClock.monotonicNanoseconds(), waitingForTheTimer: true) }
    }

    /// Stops the sync timer.
    public func shutdown() async {
        state.withLock { $0.timer }?.cancel()
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

    private func count(_ batch: ExportBatch) {
        state.withLock { state in
            for index in batch.records.indices {
                let record = batch.records[index]
                let weight = max(1, Int(record.weight.rounded()))
                state.requests.add(record, weight: weight)
                let consumer = record.consumer?.id
                let path = record.request.route ?? RouteNormalizer.template(ofTarget: record.request.target)
                let method = HTTPMethods.seriesMethod(record.request.method.uppercased())
                if let consumer = record.consumer {
                    let known = state.consumers[consumer.id]
                    // Profiles of at most maxConsumerProfiles consumers are
                    // remembered; a newer one's is not sent (its calls are).
                    if consumer.name != nil || consumer.group != nil,
                       known == nil || known?.name != consumer.name || known?.group != consumer.group {
                        if known != nil || state.consumers.count < Self.maxConsumerProfiles {
                            state.consumers[consumer.id] = (consumer.name, consumer.group)
                            state.updatedConsumers.insert(consumer.id)
                        } else {
                            state.folds.profiles += 1
                        }
                    }
                }
                if (record.response?.status ?? 500) >= 500, let error = record.errors.first {
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
                        location: problem.field.split(separator: ".").map(String.init), message: problem.message, type: problem.type)
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
        }
    }

    func sendStartupIfNeeded() async {
        guard let body = state.withLock({ $0.startupSent ? nil : $0.startup }) else { return }
        if let response = try? await post("/startup", body), (200..<300).contains(response.status) {
            state.withLock { $0.startupSent = true }
        }
    }

    /// One gzip'd NDJSON file of the batch's calls to the request log.
    private func uploadLog(_ records: [ExchangeRecord]) async throws {
        var lines: [UInt8] = []
        for index in records.indices {
            lines += ApitallyPayloads.logLine(records[index], uuid: records[index].id.uuidString)
            lines.append(UInt8(ascii: "\n"))
        }
        let body = try Gzip.compress(lines)
        let response = try await post("/log?uuid=\(Self.randomUUID())", body, json: false)
        // 402 with Retry-After: the plan's log quota is spent; the calls are
        // still counted in the syncs.
        guard response.status != 402 else { return }
        try HTTPExporter.check(response, endpoint: "\(hub)/log")
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
