/// A batch the sender gave up on for one exporter, in a form that can be
/// written to disk and sent again later (``serialized()``,
/// ``init(serialized:)``): the processed records and profile updates, the
/// alert transitions, who sent them, which exporter refused them and why.
///
/// The sender hands each one to the configured
/// ``UndeliveredBatchHandler`` (a disk spool, a dead-letter file of yours).
public struct UndeliveredBatch: Sendable {
    /// Why a batch was given up.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: UInt8, Sendable, Hashable {
            case retriesExhausted = 0
            case rejected = 1
            case shutdownDeadline = 2
        }

        private let kind: Kind

        /// The exporter kept failing with errors a retry could mend, and the
        /// retry budget ran out: sending it again later may succeed.
        public static let retriesExhausted = Reason(kind: .retriesExhausted)
        /// The exporter refused it for good (a 4xx other than 408 and 429):
        /// sending it again would be refused again.
        public static let rejected = Reason(kind: .rejected)
        /// Shutdown's deadline passed before it was delivered (it may never
        /// have been tried): sending it again later may succeed.
        public static let shutdownDeadline = Reason(kind: .shutdownDeadline)

        /// `retries-exhausted`, `rejected` or `shutdown-deadline`.
        public var description: String {
            switch kind {
            case .retriesExhausted: return "retries-exhausted"
            case .rejected: return "rejected"
            case .shutdownDeadline: return "shutdown-deadline"
            }
        }

        /// Whether sending the batch again later could succeed.
        public var isWorthRetrying: Bool { kind != .rejected }

        var code: UInt8 { kind.rawValue }

        init?(code: UInt8) {
            guard let kind = Kind(rawValue: code) else { return nil }
            self.kind = kind
        }

        private init(kind: Kind) {
            self.kind = kind
        }
    }

    /// The ``EventExporter/name`` of the exporter that did not take it.
    public var exporterName: String
    /// Why it was given up.
    public var reason: Reason
    /// The last error, as the exporter described it.
    public var message: String
    /// Who sent it.
    public var identity: ServiceIdentity
    /// The calls, processed (identified, redacted), oldest first.
    public var records: [ExchangeRecord]
    /// Profile updates, oldest first.
    public var entities: [EntityRecord]
    /// The alert transitions the exporter did not take (for an exporter of
    /// ``ExportContent/alerts``), oldest first.
    public var alerts: [AlertEvent]
    /// When it was given up, in nanoseconds since the Unix epoch.
    public var abandonedAtNanoseconds: Int64

    /// Creates an undelivered batch.
    ///
    /// - Parameters:
    ///   - exporterName: the ``EventExporter/name`` of the exporter that did
    ///     not take it.
    ///   - reason: why it was given up.
    ///   - message: the last error, as the exporter described it.
    ///   - identity: who sent it.
    ///   - records: the calls, processed (identified, redacted), oldest
    ///     first.
    ///   - entities: profile updates, oldest first; none by default.
    ///   - alerts: the alert transitions the exporter did not take, oldest
    ///     first; none by default.
    ///   - abandonedAtNanoseconds: when it was given up, in nanoseconds since
    ///     the Unix epoch.
    public init(
        exporterName: String, reason: Reason, message: String, identity: ServiceIdentity,
        records: [ExchangeRecord], entities: [EntityRecord] = [], alerts: [AlertEvent] = [], abandonedAtNanoseconds: Int64
    ) {
        self.exporterName = exporterName
        self.reason = reason
        self.message = message
        self.identity = identity
        self.records = records
        self.entities = entities
        self.alerts = alerts
        self.abandonedAtNanoseconds = abandonedAtNanoseconds
    }

    /// The number of records, calls and profile updates (the alert
    /// transitions are ``alerts``'s count).
    public var count: Int { records.count + entities.count }

    /// Whether it holds nothing: no record, profile update or alert transition.
    public var isEmpty: Bool { records.isEmpty && entities.isEmpty && alerts.isEmpty }
}
