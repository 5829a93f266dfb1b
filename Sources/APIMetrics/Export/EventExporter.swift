/// A destination for batches of events: a file, the console, a collector.
///
/// The sender calls ``export(_:)`` from one background task, one batch at a
/// time, and retries per ``RetryPolicy`` when it throws. Throw an
/// ``ExportError`` to say whether a retry can help; any other error counts
/// as retryable.
///
/// ```swift
/// struct StdoutCounter: EventExporter {
///     func export(_ batch: ExportBatch) async throws {
///         // hand batch.events[i].json to your own sink
///     }
/// }
/// config.exporters.append(.custom(StdoutCounter()))
/// ```
public protocol EventExporter: Sendable {
    /// A short name for diagnostics, such as `file(apimetrics.ndjson)`.
    var name: String { get }

    /// Delivers one batch, or throws when it could not.
    func export(_ batch: ExportBatch) async throws

    /// Releases what the exporter holds (files, sessions); called once, last.
    func shutdown() async
}

extension EventExporter {
    /// The type's name.
    public var name: String { String(describing: Self.self) }

    /// Does nothing.
    public func shutdown() async {}
}
