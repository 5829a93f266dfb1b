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

/// Why an exporter could not deliver a batch, and whether to try again.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    /// Whether the sender may retry the batch.
    public var isRetryable: Bool
    /// How long the destination asked to wait (`Retry-After`), when it did.
    public var retryAfter: Duration?
    /// What went wrong.
    public var message: String

    /// A failure that may pass: a timeout, a 5xx, a 408 or a 429.
    public static func retryable(_ message: String, after retryAfter: Duration? = nil) -> ExportError {
        ExportError(isRetryable: true, retryAfter: retryAfter, message: message)
    }

    /// A refusal that a retry would repeat, such as a 400 or a 401.
    public static func rejected(_ message: String) -> ExportError {
        ExportError(isRetryable: false, retryAfter: nil, message: message)
    }

    /// The message, with the advice to retry or not.
    public var description: String {
        isRetryable ? "\(message) (will retry)" : "\(message) (not retried)"
    }
}
