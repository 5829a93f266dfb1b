/// Why an exporter could not deliver a batch, and what the sender does
/// about it: retry it, give it up, or send it again in halves.
///
/// An exporter throws one from ``EventExporter/export(_:)``; any other
/// error counts as ``Code/retryable``.
///
/// ```swift
/// guard response.status < 500 else {
///     throw ExportError.retryable("the collector answered \(response.status)", httpStatus: response.status)
/// }
/// ```
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure an export error is. Kinds may be added; match
    /// with `==`, not an exhaustive switch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case retryable
            case rejected
            case tooLarge
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// A failure that may pass (a timeout, a 5xx, a 408 or a 429): the
        /// sender retries the batch as its ``RetryPolicy`` says.
        public static let retryable = Code(.retryable)
        /// A refusal that a retry would repeat (a 400 or a 401, say): the
        /// batch is given up at once.
        public static let rejected = Code(.rejected)
        /// The destination found the batch too large (HTTP 413): the sender
        /// sends it again in halves, down to single events, before it gives up.
        public static let tooLarge = Code(.tooLarge)

        /// The kind's name: `retryable`, `rejected` or `too large`.
        public var description: String {
            switch kind {
            case .retryable: "retryable"
            case .rejected: "rejected"
            case .tooLarge: "too large"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong.
    public var message: String
    /// The HTTP status the destination answered with, when the failure is
    /// its answer; `nil` when there was no answer (a timeout, a refused
    /// connection, a file that cannot be written).
    public var httpStatus: Int?
    /// How long the destination asked to wait (`Retry-After`), when it did.
    public var retryAfter: Duration?

    /// An export error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure it is.
    ///   - message: What went wrong, for the diagnostics and the
    ///     undelivered batches.
    ///   - httpStatus: The destination's HTTP status, when it answered.
    ///   - retryAfter: How long the destination asked to wait, when it did.
    public init(code: Code, message: String, httpStatus: Int? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// Whether the sender may retry the batch.
    public var isRetryable: Bool { code == .retryable }

    /// Whether the destination found the batch too large.
    public var isTooLarge: Bool { code == .tooLarge }

    /// A failure that may pass: a timeout, a 5xx, a 408 or a 429.
    ///
    /// - Parameters:
    ///   - message: What went wrong.
    ///   - retryAfter: How long the destination asked to wait, when it did.
    ///   - httpStatus: The destination's HTTP status, when it answered.
    /// - Returns: An error with ``Code/retryable``.
    public static func retryable(_ message: String, after retryAfter: Duration? = nil, httpStatus: Int? = nil) -> ExportError {
        ExportError(code: .retryable, message: message, httpStatus: httpStatus, retryAfter: retryAfter)
    }

    /// A refusal that a retry would repeat, such as a 400 or a 401.
    ///
    /// - Parameters:
    ///   - message: What went wrong.
    ///   - httpStatus: The destination's HTTP status, when it answered.
    /// - Returns: An error with ``Code/rejected``.
    public static func rejected(_ message: String, httpStatus: Int? = nil) -> ExportError {
        ExportError(code: .rejected, message: message, httpStatus: httpStatus)
    }

    /// A batch the destination found too large (HTTP 413, or a limit the
    /// exporter knows): not retried as it is, sent again in halves.
    ///
    /// - Parameters:
    ///   - message: What went wrong.
    ///   - httpStatus: The destination's HTTP status, when it answered.
    /// - Returns: An error with ``Code/tooLarge``.
    public static func tooLarge(_ message: String, httpStatus: Int? = nil) -> ExportError {
        ExportError(code: .tooLarge, message: message, httpStatus: httpStatus)
    }

    /// The message, with what the sender does about it.
    public var description: String {
        switch code {
        case .retryable: "\(message) (will retry)"
        case .tooLarge: "\(message) (sent again in halves)"
        default: "\(message) (not retried)"
        }
    }
}
