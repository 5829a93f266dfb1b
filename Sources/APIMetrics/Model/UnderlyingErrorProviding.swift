/// An error that wraps another, so that a recorded error shows the chain.
///
/// ```swift
/// struct RepositoryError: Error, UnderlyingErrorProviding {
///     var underlyingError: (any Error)?
/// }
/// ```
public protocol UnderlyingErrorProviding: Error {
    /// The error that caused this one, if any.
    var underlyingError: (any Error)? { get }
}
