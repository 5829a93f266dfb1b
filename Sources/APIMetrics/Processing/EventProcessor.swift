/// The sender's work on each record, in order: the client's address behind
/// trusted proxies, the skip rule, the consumer,
/// session and metadata closures, redaction, the last-word closure, and the
/// schema-v1 line when an exporter reads it (made here, once, for all of
/// them). Off the request path by design.
struct EventProcessor: Sendable {
    enum Outcome: Sendable {
        /// A processed call, with its schema-v1 line when one was asked for.
        case record(ExchangeRecord, schemaV1: [UInt8]?)
        /// A profile update, with its schema-v1 line when one was asked for.
        case entity(EntityRecord, schemaV1: [UInt8]?)
        /// The skip closure left the call out.
        case skipped
    }

    let identify: ConsumerIdentifier?
    let skipRequest: APIMetricsConfiguration.SkipRequest?
    let sessionToken: APIMetricsConfiguration.SessionToken?
    let metadata: APIMetricsConfiguration.Metadata?
    let redactEvent: (@Sendable (inout ExchangeRecord) throws -> Void)?
    let redactor: Redactor
    let clientAddress: ClientAddressResolver
    /// Learns the API's shapes from each call before redaction; `nil` when discovery is off.
    let discovery: APIDiscovery?
    /// Encodes each record's schema-v1 line, when an exporter reads them;
    /// `nil` when none does.
    let encoder: EventEncoder?
    let diagnostics: Diagnostics

    init(configuration: APIMetricsConfiguration, encoder: EventEncoder?, discovery: APIDiscovery? = nil) {
        self.discovery = discovery
        identify = configuration.identifyConsumer
        skipRequest = configuration.skipRequest
        sessionToken = configuration.sessionToken
        metadata = configuration.metadata
        redactEvent = configuration.redaction.redactEvent
        redactor = Redactor(options: configuration.redaction, maxDecodedBytes: configuration.capture.maxBodyBytes)
        clientAddress = ClientAddressResolver(options: configuration.forwarding, diagnostics: configuration.diagnostics)
        self.encoder = encoder
        diagnostics = configuration.diagnostics
    }

    /// Whether any closure of the user's runs here.
    var runsUserCode: Bool {
        identify != nil || skipRequest != nil || sessionToken != nil || metadata != nil || redactEvent != nil
    }

    /// Processes one record. With `userCode` false no closure of the user's
    /// runs: the event keeps only what the server set, and, when a
    /// last-word closure exists, leaves without headers and bodies.
    func process(_ item: QueuedItem, userCode: Bool = true) -> Outcome {
        if case let .entity(entity) = item {
            return .entity(entity, schemaV1: encoder?.encode(entity))
        }
        // Without user code nothing can hang, so no item is processed twice
        // (see ProcessingRunner): the record may take the exchange's fields.
        guard let record = item.record(moving: !userCode) else { return .skipped }
        return process(record, userCode: userCode)
    }

    private func process(_ record: consuming ExchangeRecord, userCode: Bool) -> Outcome {
        resolveClientAddress(&record)
        if userCode, let skipRequest {
            do {
                if try skipRequest(record.request, record.response) { return .skipped }
            } catch {
                report("skipRequest", error, record)
            }
        }
        if let consumer = record.consumer {
            record.consumer = consumer.normalized()
        } else if userCode, let identify {
            do {
                record.consumer = try identify(record.request)?.normalized()
            } catch {
                report("identifyConsumer", error, record)
            }
        }
        if userCode, let sessionToken {
            do {
                record.sessionToken = try sessionToken(record.request)
            } catch {
                report("sessionToken", error, record)
            }
        }
        if userCode, let metadata {
            do {
                record.metadata.merge(try metadata(record.request, record.response)) { current, _ in current }
            } catch {
                report("metadata", error, record)
            }
        }
        // Shapes, never values: learnt from the call as it came, before
        // redaction changes its values. Once a call: a pass without user code
        // after a closure hung may follow one that already learnt from it
        // (the hung closure comes after this point), so only a pass that ran
        // the user's code, or a runner with none, learns.
        if userCode || !runsUserCode { discovery?.observe(record) }
        redactor.redact(&record)
        if let redactEvent {
            var masked = copy record
            do {
                guard userCode else { throw UserCodeUnavailable() }
                try redactEvent(&masked)
                record = masked
            } catch {
                report("redactEvent", error, record)
                Self.stripHeadersAndBodies(&record)
            }
        }
        // The line first: as the second argument it would have the record
        // copied (every field retained) for the first.
        let line = encoder?.encode(record)
        return .record(record, schemaV1: line)
    }

    /// Moves the socket peer the adapter gave to `peerAddress` and puts the
    /// client found behind trusted proxies in `clientAddress`: here, off the
    /// request's path, and before redaction can strip the headers read.
    /// The queued item keeps the adapter's values, so that processing it
    /// again (after a closure hung) gives the same answer.
    func resolveClientAddress(_ record: inout ExchangeRecord) {
        guard record.direction == .incoming, record.request.peerAddress == nil else { return }
        let peer = record.request.clientAddress
        record.request.peerAddress = peer
        record.request.clientAddress = clientAddress.resolve(peer: peer, fields: record.request.headers)
    }

    /// What goes out when the last-word closure could not have its say:
    /// sizes, status and timing, but no header and no body.
    static func stripHeadersAndBodies(_ record: inout ExchangeRecord) {
        record.request.headers = HeaderFields()
        record.requestBody.bytes = []
        record.responseBody.bytes = []
        if var response = record.response {
            response.headers = HeaderFields()
            record.response = response
        }
        // The target can carry query values the closure would have hidden.
        let target = URLTarget(record.request.target)
        if target.rawQuery != nil { record.request.target = target.path }
    }

    private func report(_ closure: String, _ error: any Error, _ record: ExchangeRecord) {
        diagnostics.log(
            .warning,
            "\(closure) failed with \(type(of: error)) for \(record.request.method) \(URLTarget(record.request.target).path); the event goes without what it would have added"
        )
    }

    private struct UserCodeUnavailable: Error {}
}
