import Synchronization

/// Sends calls and profiles to [Moesif](https://www.moesif.com) through its
/// collector API, as Moesif's own server SDKs do: events to
/// `POST /v1/events/batch` (gzip), consumers to `/v1/users/batch`,
/// companies to `/v1/companies/batch`, subscriptions to
/// `/v1/subscriptions/batch`, every request with the
/// `X-Moesif-Application-Id` header.
///
/// Moesif's remote sampling applies: the configuration (`GET /v1/config`)
/// is read before the first batch and again, at once, when a batch's answer
/// names another `X-Moesif-Config-ETag` (one read at a time, one per ETag
/// whatever ETag the configuration's answer names; after a failed read,
/// the next waits ``Options/configRefreshInterval``); calls it leaves
/// out are counted in
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
        /// How long to wait after a failed read of the sampling configuration
        /// before reading it again (a new ETag on a batch's answer is read
        /// at once); moesif-nodejs waits 60 s.
        public var configRefreshInterval: Duration
        /// How much one request carries: at most ``ExportBatchLimits/maxEvents``
        /// calls or profile updates and ``ExportBatchLimits/maxBytes`` of JSON
        /// before compression; ``defaultBatchLimits`` by default.
        public var batchLimits: ExportBatchLimits
        /// How requests are sent; `nil` means ``URLSessionTransport``.
        public var transport: (any HTTPTransport)?
        /// The capture's body limit: a compressed body the redactor left as
        /// sent is inflated to at most this (and Moesif's 450 KB), so that a
        /// few hundred bytes a client sent cannot become a large event. In a
        /// service, the configuration's `capture.maxBodyBytes`.
        var maxCapturedBodyBytes = APIMetricsConfiguration.Capture().maxBodyBytes

        /// Moesif's collector.
        public static let defaultBaseURL = "https://api.moesif.net"

        /// 200 events, moesif-nodejs' and moesifapi-go's batch size (moesifdjango
        /// sends 25, one batch per 2 s job, too few for a busy service), and
        /// 10 MB of JSON: a fifth of the 50 MB Moesif documents for a batch,
        /// so that one request fits the timeout on a modest uplink.
        public static let defaultBatchLimits = ExportBatchLimits(maxEvents: 200, maxBytes: 10_000_000)

        /// Creates options.
        ///
        /// - Parameters:
        ///   - applicationID: the application ID from Moesif's settings (the
        ///     collector key), one word.
        ///   - baseURL: Moesif's collector; ``defaultBaseURL`` by default,
        ///     another URL for a proxy or a test ingest.
        ///   - apiVersion: sent as each event's `request.api_version` when
        ///     set; `nil` by default.
        ///   - timeout: how long one request may take, positive; 10 seconds
        ///     by default.
        ///   - configRefreshInterval: how long to wait after a failed read of
        ///     the sampling configuration before reading it again, not
        ///     negative; 60 seconds by default.
        ///   - batchLimits: how much one request carries, from 64 KiB to
        ///     50,000,000 bytes of JSON; ``defaultBatchLimits`` by default.
        ///   - transport: how requests are sent; `nil` (the default) for
        ///     ``URLSessionTransport``.
        public init(
            applicationID: String,
            baseURL: String = defaultBaseURL,
            apiVersion: String? = nil,
            timeout: Duration = .seconds(10),
            configRefreshInterval: Duration = .seconds(60),
            batchLimits: ExportBatchLimits = defaultBatchLimits,
            transport: (any HTTPTransport)? = nil
        ) {
            self.batchLimits = batchLimits
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
                throw ConfigurationError(
                    field: "\(field).configRefreshInterval", reason: "must not be negative, got \(configRefreshInterval)")
            }
            // Room for one call with its bodies left out; Moesif takes at most 50 MB a batch.
            guard (64 * 1024...50_000_000).contains(batchLimits.maxBytes) else {
                throw ConfigurationError(
                    field: "\(field).batchLimits.maxBytes",
                    reason: "must be between 65536 and 50000000 (Moesif's limit per batch), got \(batchLimits.maxBytes)")
            }
        }
    }

    private struct State {
        /// The configuration in force, once one was read.
        var sampling: MoesifSampling?
        /// The ETag of the configuration in force.
        var etag: String?
        /// The ETag a batch's answer last named whose read failed: it is
        /// tried again only after ``Options/configRefreshInterval``.
        var failedETag: String?
        /// The ETag a batch's answer last named whose read succeeded. The
        /// configuration's own answer may name no ETag, or another one
        /// than the batch answers do; without this, every batch would have
        /// the configuration read again.
        var answeredETag: String?
        /// When the last read started (monotonic nanoseconds).
        var fetchedAt: Int64?
        /// Whether a read is under way: never two at once.
        var isFetching = false
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

    /// At most ``Options/batchLimits`` per request.
    public var batchLimits: ExportBatchLimits { options.batchLimits }

    /// Sends the batch's profiles, then its calls (so that a retry after a
    /// failed call upload repeats only updates, which Moesif merges). A
    /// request that would pass ``Options/batchLimits``' bytes is not sent:
    /// the sender sends the batch again in halves; a single call over it
    /// goes with its bodies left out.
    public func export(_ batch: ExportBatch) async throws {
        var events: (json: [UInt8], count: Int) = ([], 0)
        if !batch.records.isEmpty {
            let sampling = await currentSampling()
            events = try encodeEvents(batch, sampling: sampling)
        }
        if !batch.entities.isEmpty { try await sendProfiles(batch.entities, of: batch) }
        guard events.count > 0 else { return }
        let response = try await post("/v1/events/batch", events.json)
        if let etag = response.headers["x-moesif-config-etag"] {
            await refreshIfChanged(etag: etag)
        }
    }

    /// The batch's calls as one `/v1/events/batch` document, after Moesif's
    /// sampling and limits: calls sampled out, and calls older than Moesif
    /// takes, are counted as left out by the destination (with a warning
    /// for the latter); an event past Moesif's size limit goes with its
    /// bodies left out, and a warning says so.
    ///
    /// Throws ``ExportError/tooLarge(_:httpStatus:)`` as soon as a second call takes
    /// the document past ``Options/batchLimits``' bytes, before the rest is
    /// encoded and before anything is counted or warned of: the sender
    /// sends the batch again in halves, and each attempt builds at most
    /// the limit and one event.
    func encodeEvents(_ batch: ExportBatch, sampling: MoesifSampling) throws(ExportError) -> (json: [UInt8], count: Int) {
        let maxBytes = options.batchLimits.maxBytes
        var events = JSONWriter(capacity: min(1024 * batch.records.count, maxBytes))
        events.beginArray()
        var sent = 0, leftOut = 0, tooOld = 0, shrunk = 0
        // The JSON array's brackets and a comma take 3 bytes of the request.
        let maxEventBytes = min(MoesifEncoding.maxEventBytes, maxBytes - 3)
        let maxInflatedBytes = min(options.maxCapturedBodyBytes, MoesifEncoding.maxBodyBytes)
        let oldest = batch.sentAtNanoseconds - MoesifEncoding.maxEventAgeNanoseconds
        for index in batch.records.indices {
            let record = batch.records[index]
            guard record.startTimeNanoseconds >= oldest else {
                tooOld += 1
                continue
            }
            let rate = sampling.rate(for: record)
            guard MoesifSampling.keeps(record.id, atRate: rate) else {
                leftOut += 1
                continue
            }
            let weight = max(1, Int((record.weight * Double(MoesifSampling.weight(atRate: rate))).rounded()))
            let (start, needsComma) = (events.count, events.needsComma)
            MoesifEncoding.writeEvent(
                record, weight: weight, apiVersion: options.apiVersion,
                maxInflatedBytes: maxInflatedBytes, into: &events)
            if events.count - start > maxEventBytes {
                events.count = start
                events.needsComma = needsComma
                MoesifEncoding.writeEvent(
                    record, weight: weight, apiVersion: options.apiVersion, bodies: .leftOut,
                    maxInflatedBytes: maxInflatedBytes, into: &events)
                shrunk += 1
            }
            sent += 1
            // The closing bracket is one byte more.
            if sent > 1, options.batchLimits.isOver(bytes: events.count + 1) {
                throw ExportError.tooLarge(
                    "moesif: the first \(sent) of \(batch.records.count) calls for /v1/events/batch make \(events.count + 1) bytes, over the limit of \(maxBytes)"
                )
            }
        }
        events.endArray()
        batch.reportLeftOut(leftOut + tooOld)
        if tooOld > 0 {
            batch.warningReporter("moesif: \(tooOld) call(s) older than 30 days left out: Moesif's collector refuses them")
        }
        if shrunk > 0 {
            batch.warningReporter(
                "moesif: \(shrunk) call(s) sent without bodies: each passed the limit of \(maxEventBytes) bytes per event")
        }
        return (events.bytes, sent)
    }

    /// Profile updates, each kind to its own batch endpoint. A subscription
    /// whose status is not one Moesif takes is not sent, and is counted as
    /// left out by the destination with a warning giving the reason; so is
    /// a profile with an empty id.
    private func sendProfiles(_ entities: [EntityRecord], of batch: ExportBatch) async throws {
        var users = JSONWriter(capacity: 256), companies = JSONWriter(capacity: 256), subscriptions = JSONWriter(capacity: 256)
        users.beginArray()
        companies.beginArray()
        subscriptions.beginArray()
        var counts = (users: 0, companies: 0, subscriptions: 0)
        var refused: [String] = []
        for entity in entities {
            switch entity.profile {
            case let .consumer(consumer):
                guard !consumer.id.isEmpty else {
                    refused.append("a user with an empty user_id")
                    continue
                }
                MoesifEncoding.writeUser(consumer, at: entity.timestampNanoseconds, into: &users)
                counts.users += 1
            case let .company(company):
                guard !company.id.isEmpty else {
                    refused.append("a company with an empty company_id")
                    continue
                }
                MoesifEncoding.writeCompany(company, at: entity.timestampNanoseconds, into: &companies)
                counts.companies += 1
            case let .subscription(subscription):
                guard !subscription.id.isEmpty, !subscription.companyID.isEmpty else {
                    refused.append("subscription \"\(subscription.id)\" with an empty subscription_id or company_id")
                    continue
                }
                var status: String?
                if let given = subscription.status {
                    guard let known = MoesifEncoding.subscriptionStatus(given) else {
                        let allowed = MoesifEncoding.subscriptionStatuses.sorted().joined(separator: ", ")
                        refused.append("subscription \"\(subscription.id)\": status \"\(given)\" is not one of \(allowed)")
                        continue
                    }
                    status = known
                }
                MoesifEncoding.writeSubscription(subscription, status: status, into: &subscriptions)
                counts.subscriptions += 1
            }
        }
        users.endArray()
        companies.endArray()
        subscriptions.endArray()
        if !refused.isEmpty {
            let shown = refused.prefix(3).joined(separator: "; ") + (refused.count > 3 ? "; and \(refused.count - 3) more" : "")
            batch.reportLeftOut(refused.count)
            batch.warningReporter("moesif: \(refused.count) profile update(s) left out, Moesif would refuse them: \(shown)")
        }
        let (userBytes, companyBytes, subscriptionBytes) = (users.bytes, companies.bytes, subscriptions.bytes)
        try checkSize(userBytes.count, items: counts.users, of: "/v1/users/batch")
        try checkSize(companyBytes.count, items: counts.companies, of: "/v1/companies/batch")
        try checkSize(subscriptionBytes.count, items: counts.subscriptions, of: "/v1/subscriptions/batch")
        if counts.users > 0 { _ = try await post("/v1/users/batch", userBytes) }
        if counts.companies > 0 { _ = try await post("/v1/companies/batch", companyBytes) }
        if counts.subscriptions > 0 { _ = try await post("/v1/subscriptions/batch", subscriptionBytes) }
    }

    /// Throws ``ExportError/tooLarge(_:httpStatus:)`` when a request of several profile
    /// updates would pass the byte limit; a single one goes as it is (a
    /// profile is small). Calls are measured while they are encoded.
    private func checkSize(_ bytes: Int, items: Int, of path: String) throws(ExportError) {
        guard items > 1, options.batchLimits.isOver(bytes: bytes) else { return }
        throw ExportError.tooLarge(
            "moesif: \(items) items for \(path) are \(bytes) bytes, over the limit of \(options.batchLimits.maxBytes)")
    }

    /// The sampling in force, reading the configuration first when it was
    /// never read (or the last read failed and the interval has passed).
    private func currentSampling() async -> MoesifSampling {
        let (known, due) = state.withLock { state -> (MoesifSampling?, Bool) in
            (state.sampling, state.sampling == nil && !state.isFetching && isDue(state.fetchedAt))
        }
        if let known { return known }
        guard due else { return .all }
        return await fetchConfiguration() ?? .all
    }

    /// Reads the configuration again at once when a batch's answer names
    /// an ETag other than the one in force, as moesifdjango does after each
    /// batch and moesif-nodejs before the next event. An ETag whose read
    /// succeeded is not read again, whatever ETag the configuration's own
    /// answer named (none, or another); a read that failed for this ETag is
    /// tried again only after the refresh interval, so a collector that
    /// keeps failing is not asked after every batch.
    private func refreshIfChanged(etag: String) async {
        let due = state.withLock { state in
            state.etag != etag && state.answeredETag != etag && !state.isFetching
                && (state.failedETag != etag || isDue(state.fetchedAt))
        }
        guard due else { return }
        _ = await fetchConfiguration(promptedBy: etag)
    }

    private func isDue(_ fetchedAt: Int64?) -> Bool {
        guard let fetchedAt else { return true }
        return CaptureClock.monotonicNanoseconds() - fetchedAt >= options.configRefreshInterval.nanosecondsClamped
    }

    /// Reads `/v1/config`; on failure the last configuration stays (or
    /// everything is sent, as Moesif's SDKs do) until the next try.
    /// `etag` is the batch answer's ETag that asked for the read: it is
    /// marked answered or failed in the same step that ends the read, so
    /// that no batch in between starts another read for it.
    private func fetchConfiguration(promptedBy etag: String? = nil) async -> MoesifSampling? {
        let claimed = state.withLock { state -> Bool in
            guard !state.isFetching else { return false }
            state.isFetching = true
            state.fetchedAt = CaptureClock.monotonicNanoseconds()
            return true
        }
        guard claimed else { return nil }
        var headers = HeaderFields()
        headers.append(name: "X-Moesif-Application-Id", value: options.applicationID)
        headers.append(name: "User-Agent", value: "apimetrics-swift/\(APIMetricsService.libraryVersion)")
        let request = TransportRequest(
            url: base + "/v1/config", method: "GET", headers: headers, body: [], timeout: options.timeout)
        let response = try? await transport.send(request)
        let sampling = response.flatMap { response in
            (200..<300).contains(response.status) ? MoesifSampling(json: response.body) : nil
        }
        state.withLock { state in
            state.isFetching = false
            if let sampling, let response {
                state.sampling = sampling
                state.etag = response.headers["x-moesif-config-etag"]
                state.answeredETag = etag
                state.failedETag = nil
            } else if let etag {
                state.failedETag = etag
            }
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
