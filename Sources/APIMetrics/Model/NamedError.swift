/// An error that names its own type in recorded events, such as a value of
/// one error type that stands for several kinds (`MalformedRequest`).
public protocol NamedError: Error {
    /// The name written as the error's `type`.
    var errorType: String { get }
}
