/// How a server turns a thrown error into the status its client receives,
/// for the exchanges that end in one.
///
/// Frameworks map their own error types (Hummingbird's `HTTPResponseError`,
/// Vapor's `AbortError`) to statuses after the handler has thrown; a
/// middleware that records the call asks a mapping for the same answer.
/// Mappings chain: the first that knows the error decides.
///
/// ```swift
/// struct OutOfStock: Error {}
/// let statuses = ErrorStatusMapping { error in error is OutOfStock ? 409 : nil }
///     .then(.responseStatusProviding)
/// statuses.status(of: OutOfStock())   // 409
/// ```
public struct ErrorStatusMapping: Sendable {
    private let mappings: [@Sendable (any Error) -> Int?]

    /// A mapping from a closure that returns the status of the errors it
    /// knows and `nil` for the others.
    public init(_ status: @escaping @Sendable (any Error) -> Int?) {
        mappings = [status]
    }

    private init(mappings: [@Sendable (any Error) -> Int?]) {
        self.mappings = mappings
    }

    /// Errors that conform to ``ResponseStatusProviding`` give their own
    /// status.
    public static let responseStatusProviding = ErrorStatusMapping { error in
        (error as? any ResponseStatusProviding)?.responseStatus
    }

    /// This mapping, then `other` for the errors it does not know.
    public func then(_ other: ErrorStatusMapping) -> ErrorStatusMapping {
        ErrorStatusMapping(mappings: mappings + other.mappings)
    }

    /// The status of `error` from the first mapping that knows it, or `nil`.
    public func status(of error: any Error) -> Int? {
        for mapping in mappings {
            if let status = mapping(error) { return status }
        }
        return nil
    }
}
