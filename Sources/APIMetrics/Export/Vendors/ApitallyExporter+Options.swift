extension ApitallyExporter {
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
        /// What the request log carries and leaves out.
        public var requestLog: ApitallyRequestLogOptions = .default
        /// Where the instance UUID is kept; `nil` is Apitally's place,
        /// `$TMPDIR/apitally`. It must be a directory of this user's that
        /// no one else can write (created 0700 when missing). When it
        /// cannot be used, the exporter takes a fresh UUID and says why in a
        /// warning.
        public var instanceDirectory: String?
        /// How old a failed sync may grow before it is given up (Apitally: an hour).
        var maxSyncAge: Duration = .seconds(3600)
        /// The most failed request-log uploads kept (the SDKs' 50).
        var maxPendingLogFiles = ApitallyRequestLog.maxPendingFiles
        /// The most bytes of failed request-log uploads kept, in memory.
        var maxPendingLogBytes = ApitallyRequestLog.maxPendingBytes
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
        ///
        /// - Parameters:
        ///   - clientID: the client ID from Apitally's app settings (a UUID).
        ///   - environment: the environment (`prod`, `dev`…): 1 to 32
        ///     letters, digits, `_` or `-`.
        ///   - baseURL: Apitally's hub; ``defaultBaseURL`` by default,
        ///     another URL for a proxy or a test hub.
        ///   - syncInterval: the sync interval, at least 1 second; `nil` (the
        ///     default) follows Apitally's schedule (10 s for the first hour,
        ///     then 60 s).
        ///   - isRequestLoggingEnabled: whether each call is also uploaded to
        ///     Apitally's request log; `false` by default.
        ///   - appVersion: the application's version, in the startup data;
        ///     `nil` by default.
        ///   - timeout: how long one request may take, positive; 10 seconds
        ///     by default.
        ///   - transport: how requests are sent; `nil` (the default) for
        ///     ``URLSessionTransport``.
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
                clientID.count == 32 || clientID.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12]
            else {
                throw ConfigurationError(
                    field: "\(field).clientID", reason: "must be a UUID (Apitally's client ID), got \"\(clientID)\"")
            }
            guard (1...32).contains(environment.count),
                environment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
            else {
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
            guard requestLog.maxCallsPerSecond >= 0 else {
                throw ConfigurationError(
                    field: "\(field).requestLog.maxCallsPerSecond",
                    reason: "must not be negative, got \(requestLog.maxCallsPerSecond)")
            }
            if let instanceDirectory, instanceDirectory.isEmpty || instanceDirectory.contains("\0") {
                throw ConfigurationError(
                    field: "\(field).instanceDirectory", reason: "must be a path, got \"\(instanceDirectory)\"")
            }
        }
    }
}
