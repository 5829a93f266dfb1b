/// Entry points for the `apimetrics-bench` executable, which measures
/// stages that are internal to the library. Visible inside this package
/// only: not part of the public API.
package enum BenchmarkHooks {
    /// Empties the queue without sending, so that a benchmark measures the
    /// request path alone; returns how many items it removed.
    @discardableResult
    package static func drainQueue(of metrics: APIMetricsService) -> Int {
        metrics.recorder.queue.drain(limit: .max).count
    }

    /// A reusable redactor, so that its compilation is not measured.
    package static func makeRedactor(options: RedactionOptions) -> @Sendable (inout ExchangeRecord) -> Void {
        let redactor = Redactor(options: options)
        return { redactor.redact(&$0) }
    }

    /// A discovery learner with `options`: each call handed to the closure
    /// is learnt from as the sender does, before redaction.
    package static func makeDiscovery(options: DiscoveryOptions) -> @Sendable (ExchangeRecord) -> Void {
        let discovery = APIDiscovery(options: options, identification: .jwtClaim())
        return { discovery.observe($0) }
    }

    /// A discovery learner that also checks each call against `spec` (an
    /// OpenAPI document's bytes), and a closure giving the findings so far.
    package static func makeDiscovery(
        options: DiscoveryOptions, spec: [UInt8]
    ) throws -> (observe: @Sendable (ExchangeRecord) -> Void, findings: @Sendable () -> [String]) {
        let conformance = SpecConformance(spec: try OpenAPISpec.load(spec), source: "bench")
        let discovery = APIDiscovery(options: options, identification: .jwtClaim(), conformance: conformance)
        return ({ discovery.observe($0) }, { conformance.snapshot().findings.map { "\($0.key.rule) \($0.key.location)" } })
    }

    /// An alert engine over `rules`: each window handed to the closure is
    /// evaluated as the sender does; it returns the transitions told.
    package static func makeAlertEngine(rules: [AlertRule]) -> @Sendable (MetricsWindow) -> Int {
        let engine = AlertEngine(rules: rules)
        return { engine.evaluate($0).count }
    }

    /// A reusable client-address resolver: the peer and the request's
    /// header fields in, the client out.
    package static func makeClientAddressResolver(options: ForwardingOptions) -> @Sendable (String?, HeaderFields) -> String? {
        let resolver = ClientAddressResolver(options: options)
        return { resolver.resolve(peer: $0, fields: $1) }
    }

    /// Encodes `record` as one schema-v1 line.
    package static func encode(_ record: ExchangeRecord, identity: ServiceIdentity) -> [UInt8] {
        EventEncoder(identity: identity).encode(record)
    }

    /// Encodes `records` as one OTLP `ExportTraceServiceRequest` (protobuf).
    package static func encodeOTLPTraces(
        _ records: [ExchangeRecord], identity: ServiceIdentity, headers: Bool = false, bodySizes: Bool = false,
        json: Bool = false
    ) -> [UInt8] {
        let encoder = OTLPTraceEncoder(includesHeaders: headers, includesBodySizes: bodySizes)
        let resource = OTLPResource(identity: identity)
        return json ? encoder.encodeJSON(records, resource: resource) : encoder.encode(records, resource: resource)
    }

    /// The OTLP signals whose encoding is measured.
    package enum OTLPSignal {
        case traces, logs
    }

    /// Encodes `records` as one OTLP traces or logs request.
    package static func encodeOTLP(
        _ records: [ExchangeRecord], signal: OTLPSignal, identity: ServiceIdentity, json: Bool
    ) -> [UInt8] {
        let resource = OTLPResource(identity: identity)
        switch signal {
        case .traces:
            return encodeOTLPTraces(records, identity: identity, json: json)
        case .logs:
            let encoder = OTLPLogEncoder()
            return json ? encoder.encodeJSON(records, resource: resource) : encoder.encode(records, resource: resource)
        }
    }

    /// Empties the queue and processes what it held on the calling thread,
    /// as the processing thread does (identification, redaction,
    /// discovery, the tally), without exporting; returns how many items
    /// it processed.
    @discardableResult
    package static func processQueue(of metrics: APIMetricsService) -> Int {
        let items = metrics.recorder.queue.drain(limit: .max)
        return metrics.runner.processOnCallingThread(items).itemCount
    }

    /// Counts one call in the metrics, as the admission point does.
    package static func observe(_ call: borrowing CallSummary, in metrics: APIMetricsService) {
        metrics.aggregator.observe(call, outcome: .queued)
    }
}
