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

    /// Does nothing.
    public func shutdown() async {}
}
