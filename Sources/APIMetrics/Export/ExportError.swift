/// Why an exporter could not deliver a batch, and whether to try again.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    /// Whether the sender may retry the batch.
    public var isRetryable: Bool
    /// How long the destination asked to wait (`Retry-After`), when it did.
    public var retryAfter: Duration?
    /// What went wrong.
    public var message: String
    /// Whether the destination found the batch too large (HTTP 413): the
    /// sender then sends it again in halves, down to single events, before
    /// it gives up.
    public var isTooLarge = false

    /// A failure that may pass: a timeout, a 5xx, a 408 or a 429.
    public static func retryable(_ message: String, after retryAfter: Duration? = nil) -> ExportError {
        ExportError(isRetryable: true, retryAfter: retryAfter, message: message)
    }

    /// A refusal that a retry would repeat, such as a 400 or a 401.
    public static func rejected(_ message: String) -> ExportError {
        ExportError(isRetryable: false, retryAfter: nil, message: message)
    }

    /// A batch the destination found too large (HTTP 413): not retried as
    /// it is, sent again in halves.
    public static func tooLarge(_ message: String) -> ExportError {
        ExportError(isRetryable: false, retryAfter: nil, message: message, isTooLarge: true)
    }

    /// The message, with the advice to retry or not.
    public var description: String {
        isRetryable ? "\(message) (will retry)" : "\(message) (not retried)"
    }
}
