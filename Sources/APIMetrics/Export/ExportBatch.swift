/// What an exporter receives: the processed records (identified, redacted,
/// ready to leave) and profile updates, plus what was lost since the last
/// batch this exporter took.
///
/// Each exporter encodes its own wire format from ``records`` and
/// ``entities``; the schema-v1 lines that several exporters share
/// (``schemaV1Lines``) are made once per batch for all of them.
public struct ExportBatch: Sendable {
    /// Who is sending.
    public var identity: ServiceIdentity
    /// The calls, oldest first, after identification and redaction.
    public var records: [ExchangeRecord]
    /// Profile updates (consumers, companies, subscriptions), oldest first.
    public var entities: [EntityRecord]
    /// Events that this exporter will never receive and has not yet been told
    /// of: dropped from a full queue, or given up after failed attempts.
    public var dropped: Int
    /// When the batch was built, in nanoseconds since the Unix epoch.
    public var sentAtNanoseconds: Int64
    /// The metrics window that ended just before this batch, once per
    /// ``MetricsOptions/interval`` (the batch may then carry no events).
    public var metrics: MetricsWindow?
    /// The heartbeat taken with ``metrics``; sent with no traffic too.
    public var heartbeat: Heartbeat?
    /// The startup record, in the first batch after start.
    public var startup: StartupRecord?
    /// The pipeline's running totals when the batch was handed over, so
    /// that a collector sees the pipeline's health with every batch;
    /// `nil` for a batch made outside the sender.
    public var statistics: Statistics?
    /// The API's changes discovery saw since the last window (with the
    /// window): the store keeps them, OTLP sends them as log records.
    var apiChanges: [APIChange] = []
    /// The alert transitions of the window (``AlertRule``), oldest first.
    public var alerts: [AlertEvent] = []
    /// Shared by the copies of this batch handed to each exporter.
    private let encodings: BatchEncodings
    /// Where ``reportRejected(_:message:)`` and the other reports count;
    /// none for a batch made outside the sender.
    private var reportSink: (@Sendable (ExportReport) -> Void)?

    /// Creates a batch.
    ///
    /// - Parameters:
    ///   - identity: who is sending.
    ///   - records: the calls, oldest first, after identification and
    ///     redaction.
    ///   - entities: profile updates (consumers, companies, subscriptions),
    ///     oldest first; none by default.
    ///   - dropped: events that this exporter will never receive and has not
    ///     yet been told of; 0 by default.
    ///   - sentAtNanoseconds: when the batch was built, in nanoseconds since
    ///     the Unix epoch.
    ///   - metrics: the metrics window that ended just before this batch;
    ///     `nil` (the default) for none.
    ///   - heartbeat: the heartbeat taken with `metrics`; `nil` (the default)
    ///     for none.
    ///   - startup: the startup record, in the first batch after start; `nil`
    ///     (the default) for none.
    public init(
        identity: ServiceIdentity, records: [ExchangeRecord], entities: [EntityRecord] = [],
        dropped: Int = 0, sentAtNanoseconds: Int64,
        metrics: MetricsWindow? = nil, heartbeat: Heartbeat? = nil, startup: StartupRecord? = nil
    ) {
        self.init(
            identity: identity, records: records, entities: entities, dropped: dropped,
            sentAtNanoseconds: sentAtNanoseconds,
            encodings: BatchEncodings(identity: identity, records: records, entities: entities))
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.startup = startup
    }

    init(
        identity: ServiceIdentity, records: [ExchangeRecord], entities: [EntityRecord], dropped: Int,
        sentAtNanoseconds: Int64, encodings: BatchEncodings, reportSink: (@Sendable (ExportReport) -> Void)? = nil
    ) {
        self.reportSink = reportSink
        self.identity = identity
        self.records = records
        self.entities = entities
        self.dropped = dropped
        self.sentAtNanoseconds = sentAtNanoseconds
        self.encodings = encodings
    }

    /// Counts items the destination took the request for but refused one
    /// by one (an OTLP `partialSuccess`), in ``Statistics/rejected``, and
    /// logs `message` as a warning. The batch counts as delivered: a retry
    /// would be refused the same way.
    public func reportRejected(_ count: Int, message: String) {
        guard count > 0 else { return }
        reportSink?(.rejected(count, message))
    }

    /// Counts events of this batch that the destination's own rules left
    /// out (Moesif's remote sample rate; ReadMe takes no call without a
    /// consumer), in ``Statistics/destinationLeftOut``. The batch counts as
    /// delivered.
    public func reportLeftOut(_ count: Int) {
        guard count > 0 else { return }
        reportSink?(.leftOut(count))
    }

    /// Counts events of this batch not sent because the destination asked
    /// for a pause (ReadMe's 15 s after a refusal), in
    /// ``Statistics/destinationPaused``, and logs `message` as a warning.
    /// They are not held for later; the batch counts as delivered.
    public func reportPaused(_ count: Int, message: String) {
        guard count > 0 else { return }
        reportSink?(.paused(count, message))
    }

    /// Counts events an exporter took earlier and lost since (a sync it
    /// held and had to give up), in ``Statistics/failed``, and logs
    /// `message` as a warning.
    public func reportLost(_ count: Int, message: String) {
        guard count > 0 else { return }
        reportSink?(.lost(count, message))
    }

    /// ``reportLost(_:message:)`` without the batch, for an exporter that
    /// learns of a loss later, between batches (a sync timer of its own).
    var lossReporter: @Sendable (Int, String) -> Void {
        { [reportSink] count, message in
            guard count > 0 else { return }
            reportSink?(.lost(count, message))
        }
    }

    /// Logs `message` as a warning, counting nothing: for an exporter that
    /// folds what its destination's tables cannot take (Apitally's sync has
    /// no field for it) and says so once per sync.
    var warningReporter: @Sendable (String) -> Void {
        { [reportSink] message in reportSink?(.warning(message)) }
    }

    /// The number of records, calls and profile updates.
    public var count: Int { records.count + entities.count }

    /// Whether the batch carries a metrics window, a heartbeat or a startup record.
    public var hasMetrics: Bool { metrics != nil || heartbeat != nil || startup != nil }

    /// The startup record, metrics window and heartbeat as JSON lines of
    /// their own `kind` (`startup`, `metrics`, `heartbeat`), in that order,
    /// as the file exporter writes them after the batch's events.
    public var metricsLines: [[UInt8]] {
        MetricsJSON.lines(identity: identity, metrics: metrics, heartbeat: heartbeat, startup: startup)
    }

    /// The records and updates as schema-v1 JSON lines, made once per batch
    /// whichever exporters read them (see ``ExportEncodings/schemaV1JSON``).
    public var schemaV1Lines: SchemaV1Lines { encodings.schemaV1Lines }

    /// The batch as one JSON document:
    /// `{"v":1,"service":…,"env":…,"sent_at":…,"dropped":N,"events":[…]}`,
    /// with `"entities":[…]` when it carries profile updates, and
    /// `"startup"`, `"metrics"` and `"heartbeat"` objects when it carries them,
    /// and `"pipeline"` (``statistics``) when the sender made it.
    public func encodedJSON() -> [UInt8] {
        let lines = schemaV1Lines
        var writer = JSONWriter(capacity: 256 + lines.byteCount + lines.events.count + lines.entities.count)
        writer.beginObject()
        writer.key("v")
        writer.int(1)
        identity.writeFields(into: &writer, includingEventFields: false)
        writer.field("sent_at", Timestamp.rfc3339(nanosecondsSinceEpoch: sentAtNanoseconds))
        writer.field("dropped", dropped)
        writer.key("events")
        writer.beginArray()
        for line in lines.events { writer.raw(line) }
        writer.endArray()
        if !lines.entities.isEmpty {
            writer.key("entities")
            writer.beginArray()
            for line in lines.entities { writer.raw(line) }
            writer.endArray()
        }
        MetricsJSON.writeBatchMembers(metrics: metrics, heartbeat: heartbeat, startup: startup, into: &writer)
        if let statistics {
            writer.key("pipeline")
            MetricsJSON.writePipeline(statistics, into: &writer)
        }
        writer.endObject()
        return writer.bytes
    }
}

/// What an exporter reports about a batch besides delivering it.
enum ExportReport: Sendable {
    case rejected(Int, String)
    case leftOut(Int)
    case paused(Int, String)
    case lost(Int, String)
    case warning(String)
}
