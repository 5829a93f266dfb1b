/// A destination for batches of events: a file, the console, a collector.
///
/// The sender calls ``export(_:)`` from one background task, one batch at a
/// time, and retries per ``RetryPolicy`` when it throws. Throw an
/// ``ExportError`` to say whether a retry can help; any other error counts
/// as retryable.
///
/// ```swift
/// struct ErrorPrinter: EventExporter {
///     func export(_ batch: ExportBatch) async throws {
///         for record in batch.records where (record.response?.status ?? 0) >= 500 {
///             // hand the processed (identified, redacted) record to your own sink
///         }
///     }
/// }
/// config.exporters.append(.custom(ErrorPrinter()))
/// ```
public protocol EventExporter: Sendable {
    /// A short name for diagnostics, such as `file(apimetrics.ndjson)`.
    var name: String { get }

    /// The encodings of each batch this exporter reads, made once per batch
    /// on the sender's processing thread and shared with every exporter
    /// that reads them; none by default.
    var encodings: ExportEncodings { get }

    /// What this exporter sends; ``ExportContent/all`` by default. A batch
    /// holding none of it is not handed over.
    var content: ExportContent { get }

    /// How much one request to the destination may carry;
    /// ``ExportBatchLimits/unlimited`` by default. The sender hands over at
    /// most ``ExportBatchLimits/maxEvents`` events at a time; an exporter
    /// whose encoded request would pass ``ExportBatchLimits/maxBytes``
    /// throws ``ExportError/tooLarge(_:httpStatus:)`` without sending, and the sender
    /// sends the batch again in halves, as after a 413. A single event over
    /// the byte limit is the exporter's to shrink (its bodies replaced by a
    /// marker, say), never to drop.
    var batchLimits: ExportBatchLimits { get }

    /// Delivers one batch, or throws when it could not.
    func export(_ batch: ExportBatch) async throws

    /// Releases what the exporter holds (files, sessions); called once, last.
    func shutdown() async
}

extension EventExporter {
    /// The type's name.
    public var name: String { String(describing: Self.self) }

    /// None: the exporter encodes its own format from the records.
    public var encodings: ExportEncodings { [] }

    /// Events and metrics.
    public var content: ExportContent { .all }

    /// No limit: every batch as the sender made it.
    public var batchLimits: ExportBatchLimits { .unlimited }

    /// Does nothing.
    public func shutdown() async {}
}

/// How much one request to a destination may carry: what the vendor's
/// ingest documents, or what its own SDKs send.
public struct ExportBatchLimits: Sendable, Hashable {
    /// The most events (calls and profile updates) in one request.
    public var maxEvents: Int
    /// The most bytes of one request's body, before compression.
    public var maxBytes: Int

    /// Creates limits; both at least 1.
    public init(maxEvents: Int = .max, maxBytes: Int = .max) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
    }

    /// No limit but the sender's own batching.
    public static let unlimited = ExportBatchLimits()

    /// Whether a request body of `bytes` passes ``maxBytes``.
    public func isOver(bytes: Int) -> Bool { bytes > maxBytes }
}
