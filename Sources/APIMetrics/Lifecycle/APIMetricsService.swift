import Synchronization

/// API analytics for a Swift HTTP server: records every call on the request
/// path at almost no cost and ships the events from a background task.
///
/// Create one at startup, run it for the life of the server, and shut it
/// down at the end so that nothing queued is lost:
///
/// ```swift
/// let metrics = try APIMetricsService(configuration: .init(
///     service: "orders-api", environment: "prod",
///     exporters: [.file(path: "apimetrics.ndjson")],
///     identifyConsumer: .header("x-customer-id")))
/// let background = Task { try await metrics.run() }
/// // … serve, recording each call through `metrics.recorder` or an adapter …
/// let report = await metrics.shutdown(timeout: .seconds(5))
/// ```
///
/// Under swift-service-lifecycle, run it from a `Service` of your own whose
/// `run()` wraps this one in `cancelWhenGracefulShutdown`: a graceful
/// shutdown (SIGTERM) then cancels ``run()``, which stops intake, flushes
/// within ``APIMetricsConfiguration/shutdownTimeout`` and returns. (This type
/// alone is not enough: ServiceLifecycle first asks its services to shut
/// down gracefully, and ``run()`` ends only when cancelled.) List it before
/// the HTTP server, so that it stops after the server's last request:
///
/// ```swift
/// struct MetricsService: Service {
///     let metrics: APIMetricsService
///     func run() async throws {
///         try await cancelWhenGracefulShutdown { try await metrics.run() }
///     }
/// }
/// let group = ServiceGroup(services: [MetricsService(metrics: metrics), server],
///                          gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
public final class APIMetricsService: Sendable {
    /// This library's version, sent in the HTTP exporter's `User-Agent`.
    public static let libraryVersion = "0.1.0"

    /// The validated configuration in force.
    public let configuration: APIMetricsConfiguration
    /// Where servers and adapters record calls.
    public let recorder: Recorder
    /// The metrics' dashboard, JSON and Prometheus exposition, to mount in
    /// your router; each part answers only when enabled in
    /// ``APIMetricsConfiguration/view``.
    public let view: MetricsView
    /// The port of the view's own listener, when
    /// ``LocalViewOptions/address`` is set (the one picked, for port 0).
    public var viewPort: UInt16? { listener?.port }

    private let queue: EventQueue
    private let counters: PipelineCounters
    private let sender: BatchSender
    /// The sender's processing, for the benchmark.
    var runner: ProcessingRunner { sender.runner }
    private let signal: ShutdownSignal
    let aggregator: Aggregator
    private let listener: MetricsListener?
    private let spool: DiskSpool?
    private let loop = Mutex<Task<Void, Never>?>(nil)

    /// Validates the configuration and opens every exporter.
    ///
    /// - Throws: ``ConfigurationError`` naming the first field that cannot be
    ///   used, such as a file that cannot be opened for appending.
    public convenience init(configuration: APIMetricsConfiguration) throws(ConfigurationError) {
        try self.init(configuration: configuration, clock: SystemSenderClock())
    }

    /// The service on a clock of the caller's: tests move it to pass a
    /// flush interval, a retry's delay or a shutdown deadline.
    init(configuration: APIMetricsConfiguration, clock: any SenderClock) throws(ConfigurationError) {
        try configuration.validate()
        // The URLs' credentials, keys and tokens never reach a message.
        let secrets = ConfiguredSecrets(configuration: configuration)
        var configuration = configuration
        configuration.diagnostics = configuration.diagnostics.scrubbing(secrets)
        var exporters: [any EventExporter] = []
        let instanceID = configuration.instanceID ?? InstanceID.make()
        for (index, exporter) in configuration.exporters.enumerated() {
            exporters += try exporter.makeExporters(
                field: "exporters[\(index)]", instanceID: instanceID, maxSeries: configuration.metrics.maxSeries,
                maxBodyBytes: configuration.capture.maxBodyBytes, metricsInterval: configuration.metrics.interval,
                priority: configuration.senderPriority)
        }
        self.configuration = configuration
        let counters = PipelineCounters(secrets: secrets)
        let queue = EventQueue(maxItems: configuration.queue.maxEvents, maxBytes: configuration.queue.maxBytes)
        let signal = ShutdownSignal(clock: clock)
        let identity = ServiceIdentity(
            service: configuration.service, environment: configuration.environment,
            version: configuration.version, tags: configuration.tags,
            isDevelopment: configuration.isDevelopment,
            instanceID: instanceID)
        let spool = configuration.spool.isEnabled ? try DiskSpool(options: configuration.spool) : nil
        self.spool = spool
        self.counters = counters
        self.queue = queue
        self.signal = signal
        let aggregator = Aggregator(
            options: Aggregator.Options(
                maxSeries: configuration.metrics.maxSeries, maxConsumers: configuration.metrics.maxConsumers),
            now: clock.wallNow())
        self.aggregator = aggregator
        self.recorder = Recorder(
            queue: queue, counters: counters,
            bodyLimit: configuration.capture.isBodyCaptureEnabled ? configuration.capture.maxBodyBytes : 0,
            bodyContentTypes: configuration.capture.bodyContentTypes,
            filter: EventFilter(configuration.eventFilter),
            isEnabled: configuration.isEnabled,
            observer: configuration.isEnabled ? aggregator : nil)
        var conformance: SpecConformance?
        if configuration.isEnabled, configuration.discovery.isEnabled, let path = configuration.discovery.specPath {
            do {
                conformance = SpecConformance(spec: try OpenAPISpec.load(path: path), source: path)
            } catch {
                throw ConfigurationError(field: "discovery.specPath", reason: "\(path): \(error.reason)")
            }
        }
        let discovery =
            configuration.isEnabled && configuration.discovery.isEnabled
            ? APIDiscovery(
                options: configuration.discovery, identification: configuration.identifyConsumer, conformance: conformance) : nil
        let alerts =
            configuration.isEnabled && !configuration.alerts.rules.isEmpty ? AlertEngine(rules: configuration.alerts.rules) : nil
        self.sender = BatchSender(
            queue: queue, counters: counters,
            runner: ProcessingRunner(
                processor: EventProcessor(
                    configuration: configuration,
                    // The schema-v1 lines are made while processing only when an exporter reads them.
                    encoder: exporters.contains { $0.encodings.contains(.schemaV1JSON) } ? EventEncoder(identity: identity) : nil,
                    discovery: discovery),
                timeout: configuration.userClosureTimeout, priority: configuration.senderPriority,
                diagnostics: configuration.diagnostics),
            identity: identity, exporters: exporters, configuration: configuration, signal: signal,
            aggregator: aggregator, spool: spool, alerts: alerts)
        let storeWriter = exporters.lazy.compactMap { $0 as? StoreWriter }.first
        if let storeWriter, let discovery {
            discovery.startLoading()
            storeWriter.attach(discovery)
        }
        if let storeWriter, let alerts {
            alerts.startLoading()
            storeWriter.attach(alerts)
        } else if let storeWriter {
            storeWriter.forgetAlertStates()
        }
        let view = MetricsView(
            options: configuration.view, aggregator: aggregator, counters: counters, queue: queue, identity: identity,
            spool: spool,
            discovery: discovery,
            store: storeWriter.map { StoreAccess(path: $0.options.path, options: $0.options, status: $0.statusCell) })
        self.view = view
        if configuration.view.isEnabled, let address = configuration.view.address.flatMap(HostAndPort.init) {
            listener = try MetricsListener(address: address, view: view, maxConnections: configuration.view.maxConnections)
        } else {
            listener = nil
        }
        for (level, message) in StartupLine.messages(configuration, viewPort: listener?.port) {
            configuration.diagnostics.log(level, message)
        }
    }

    /// Runs the background sender until ``shutdown(timeout:)`` is called or
    /// the calling task is cancelled; on cancellation it flushes what is
    /// queued within ``APIMetricsConfiguration/shutdownTimeout`` and returns.
    ///
    /// - Throws: ``LifecycleError/alreadyRunning`` when called twice.
    public func run() async throws {
        let (task, isNew) = startLoop()
        guard isNew else {
            if signal.isStopping { return }
            throw LifecycleError.alreadyRunning
        }
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            beginShutdown(within: configuration.shutdownTimeout)
        }
    }

    /// Stops intake, sends everything queued within `timeout`, closes the
    /// exporters and reports what could not be sent.
    ///
    /// Safe to call more than once, with or without ``run()``; later calls
    /// wait for the first to end and return the same totals.
    @discardableResult
    public func shutdown(timeout: Duration = .seconds(5)) async -> ShutdownReport {
        beginShutdown(within: timeout)
        let (task, _) = startLoop()
        await task.value
        return ShutdownReport(statistics: statistics, unsent: await sender.unsent)
    }

    /// Sends consumer profiles (Moesif's `update_user` and its batch form)
    /// through the queue and exporters, as records of kind `consumer`.
    public func updateConsumers(_ consumers: [Consumer]) {
        for consumer in consumers {
            var raw = consumer
            // A profile is no call: no key was used, and none is kept.
            raw.apiKey = nil
            enqueue(.consumer(consumer.normalized() ?? raw))
        }
    }

    /// Sends one consumer profile; see ``updateConsumers(_:)``.
    public func updateConsumer(_ consumer: Consumer) {
        updateConsumers([consumer])
    }

    /// Sends company profiles (Moesif's `update_company` and its batch form).
    public func updateCompanies(_ companies: [CompanyProfile]) {
        for company in companies { enqueue(.company(company)) }
    }

    /// Sends one company profile; see ``updateCompanies(_:)``.
    public func updateCompany(_ company: CompanyProfile) {
        updateCompanies([company])
    }

    /// Sends subscriptions (Moesif's `update_subscription` and its batch form).
    public func updateSubscriptions(_ subscriptions: [SubscriptionProfile]) {
        for subscription in subscriptions { enqueue(.subscription(subscription)) }
    }

    /// Sends one subscription; see ``updateSubscriptions(_:)``.
    public func updateSubscription(_ subscription: SubscriptionProfile) {
        updateSubscriptions([subscription])
    }

    private func enqueue(_ profile: EntityRecord.Profile) {
        guard configuration.isEnabled else { return }
        let record = EntityRecord(profile: profile, timestampNanoseconds: CaptureClock.wallNanoseconds())
        counters.recorded.add(1, ordering: .relaxed)
        if !queue.push(.entity(record), bytes: record.estimatedBytes) {
            counters.droppedQueueFull.add(1, ordering: .relaxed)
        }
    }

    /// The pipeline's running totals.
    public var statistics: Statistics {
        counters.statistics(queued: queue.count, spool: spool?.counts)
    }

    /// Whether the alerts still wait for the states an earlier run left in
    /// the store (windows cut meanwhile move no alert).
    var isLoadingAlerts: Bool { sender.alerts?.isLoading ?? false }

    private func beginShutdown(within timeout: Duration) {
        signal.begin(within: timeout)
        queue.close()
    }

    /// Starts the sender loop once; its task is not a child of the caller, so
    /// that a cancelled `run()` can still flush.
    private func startLoop() -> (Task<Void, Never>, isNew: Bool) {
        loop.withLock { current in
            if let current { return (current, false) }
            let sender = self.sender, listener = self.listener
            let task = Task {
                await sender.run()
                listener?.stop()
            }
            current = task
            return (task, true)
        }
    }
}
