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
