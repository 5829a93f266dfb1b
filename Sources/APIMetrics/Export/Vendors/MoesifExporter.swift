import Synchronization

/// Sends calls and profiles to [Moesif](https://www.moesif.com) through its
/// collector API, as Moesif's own server SDKs do: events to
/// `POST /v1/events/batch` (gzip), consumers to `/v1/users/batch`,
/// companies to `/v1/companies/batch`, subscriptions to
/// `/v1/subscriptions/batch`, every request with the
/// `X-Moesif-Application-Id` header.
///
/// Moesif's remote sampling applies: the configuration (`GET /v1/config`)
/// is read before the first batch and again when a response's
/// `X-Moesif-Config-ETag` changes (at most once per
/// ``Options/configRefreshInterval``); calls it leaves out are counted in
/// ``Statistics/destinationLeftOut``, and those sent carry
/// `weight = 100 / rate`.
///
/// 2xx is success; 408, 429 and 5xx are retried by the sender (honouring
/// `Retry-After`); 413 halves the batch; any other status is a refusal.
public struct MoesifExporter: EventExporter {
    /// Everything the exporter needs.
    public struct Options: Sendable {
        /// The application ID from Moesif's settings (the collector key).
        public var applicationID: String
        /// Moesif's collector; another URL for a proxy or a test ingest.
        public var baseURL: String
        /// Sent as each event's `request.api_version` when set.
        public var apiVersion: String?
        /// How long one request may take.
        public var timeout: Duration
        /// The least time between two reads of the sampling configuration.
        public var configRefreshInterval: Duration
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?

        /// Moesif's collector.
        public static let defaultBaseURL = "https://api.moesif.net"

        /// Creates options.
        public init(
            applicationID: String,
            baseURL: String = defaultBaseURL,
            apiVersion: String? = nil,
            timeout: Duration = .seconds(10),
            configRefreshInterval: Duration = .seconds(300),
            transport: (any HTTPTransport)? = nil
        ) {
            self.applicationID = applicationID
            self.baseURL = baseURL
            self.apiVersion = apiVersion
            self.timeout = timeout
            self.configRefreshInterval = configRefreshInterval
            self.transport = transport
        }

        func validate(field: String) throws(ConfigurationError) {
            try HTTPExporter.validateKey(applicationID, field: "\(field).applicationID", what: "Moesif's application ID")
            try HTTPExporter.validateURL(baseURL, field: "\(field).baseURL")
            guard timeout > .zero else {
                throw ConfigurationError(field: "\(field).timeout", reason: "must be positive, got \(timeout)")
            }
            guard configRefreshInterval >= .zero else {
                throw ConfigurationError(field: "\(field).configRefreshInterval", reason: "must not be negative, got \(configRefreshInterval)")
            }
        }
    }

    private struct State {
        var sampling: MoesifSampling?
        var etag: String?
        var fetchedAt: Int64?
    }

    /// The options in force.
    public let options: Options
    private let transport: any HTTPTransport
    private let base: String
    private let state = LockedValue(State())

    /// Creates an exporter after checking its options.
    public init(options: Options) throws(ConfigurationError) {
        try options.validate(field: "moesif")
        self.options = options
        self.transport = options.transport ?? URLSessionTransport()
        var base = options.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    /// `moesif(BASE_URL)`.
    public var name: String { "moesif(\(ConfiguredSecrets.shown(base)))" }

    /// Calls and profiles; Moesif has no place for the metrics windows.
    public var content: ExportContent { .events }

    /// Sends the batch's profiles, then its calls (so that a retry after a
    /// failed call upload repeats only updates, which Moesif merges).
    public func export(_ batch: ExportBatch) async throws {
        if !batch.entities.isEmpty { try await sendProfiles(batch.entities) }
        guard !batch.records.isEmpty else { return }
        let sampling = await currentSampling()
        var events = JSONWriter(capacity: 1024 * batch.records.count)
        events.beginArray()
        var sent = 0
        for index in batch.records.indices {
            let record = batch.records[index]
            let rate = sampling.rate(for: record)
            guard MoesifSampling.keeps(record.id, atRate: rate) else { continue }
            let weight = max(1, Int((record.weight * Double(MoesifSampling.weight(atRate: rate))).rounded()))
            MoesifEncoding.writeEvent(record, weight: weight, apiVersion: options.apiVersion, into: &events)
            sent += 1
        }
        events.endArray()
        batch.reportLeftOut(batch.records.count - sent)
        guard sent > 0 else { return }
        let response = try await post("/v1/events/batch", events.bytes)
        if let etag = response.headers["x-moesif-config-etag"] {
            await refreshIfChanged(etag: etag)
        }
    }

    /// Profile updates, each kind to its own batch endpoint.
    private func sendProfiles(_ entities: [EntityRecord]) async throws {
        var users = JSONWriter(capacity: 256), companies = JSONWriter(capacity: 256), subscriptions = JSONWriter(capacity: 256)
        users.beginArray()
        companies.beginArray()
        subscriptions.beginArray()
        var counts = (users: 0, companies: 0, subscriptions: 0)
        for entity in entities {
            switch entity.profile {
            case let .consumer(consumer):
                MoesifEncoding.writeUser(consumer, at: entity.timestampNanoseconds, into: &users)
                counts.users += 1
            case let .company(company):
                MoesifEncoding.writeCompany(company, at: entity.timestampNanoseconds, into: &companies)
                counts.companies += 1
            case let .subscription(subscription):
                MoesifEncoding.writeSubscription(subscription, into: &subscriptions)
                counts.subscriptions += 1
            }
        }
        users.endArray()
        companies.endArray()
        subscriptions.endArray()
        if counts.users > 0 { _ = try await post("/v1/users/batch", users.bytes) }
        if counts.companies > 0 { _ = try await post("/v1/companies/batch", companies.bytes) }
        if counts.subscriptions > 0 { _ = try await post("/v1/subscriptions/batch", subscriptions.bytes) }
    }

    /// The sampling in force, reading the configuration first when it was
    /// never read (or the last read failed and the interval has passed).
    private func currentSampling() async -> MoesifSampling {
        let (known, due) = state.withLock { state -> (MoesifSampling?, Bool) in
            (state.sampling, state.sampling == nil && isDue(state.fetchedAt))
        }
        if let known { return known }
        guard due else { return .all }
        return await fetchConfiguration() ?? .all
    }

    private func refreshIfChanged(etag: String) async {
        let due = state.withLock { state in state.etag != etag && isDue(state.fetchedAt) }
        if due { _ = await fetchConfiguration() }
    }

    private func isDue(_ fetchedAt: Int64?) -> Bool {
        guard let fetchedAt else { return true }
        return CaptureClock.monotonicNanoseconds() - fetchedAt >= options.configRefreshInterval.nanosecondsClamped
    }

    /// Reads `/v1/config`; on failure the last configuration stays (or
    /// everything is sent, as Moesif's SDKs do) until the next try.
    private func fetchConfiguration() async -> MoesifSampling? {
        state.withLock { $0.fetchedAt = CaptureClock.monotonicNanoseconds() }
        var headers = HeaderFields()
        headers.append(name: "X-Moesif-Application-Id", value: options.applicationID)
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        let request = TransportRequest(url: base + "/v1/config", method: "GET", headers: headers, body: [], timeout: options.timeout)
        guard let response = try? await transport.send(request), (200..<300).contains(response.status),
              let sampling = MoesifSampling(json: response.body) else { return nil }
        state.withLock { state in
            state.sampling = sampling
            state.etag = response.headers["x-moesif-config-etag"]
        }
        return sampling
    }

    private func post(_ path: String, _ json: [UInt8]) async throws -> TransportResponse {
        var headers = HeaderFields()
        headers.append(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.append(name: "X-Moesif-Application-Id", value: options.applicationID)
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        var body = json
        if let compressed = try? Gzip.compress(json) {
            body = compressed
            headers.append(name: "Content-Encoding", value: "gzip")
        }
        let url = base + path
        let request = TransportRequest(url: url, method: "POST", headers: headers, body: body, timeout: options.timeout)
        let response = try await transport.sendForExport(request)
        try HTTPExporter.check(response, endpoint: url)
        return response
    }
}
