/// An error attached to a recorded exchange.
public struct RecordedError: Sendable, Hashable {
    /// The error's type name, such as `DecodingError`.
    public var type: String
    /// A readable message.
    public var message: String

    /// Creates a recorded error.
    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    /// Describes a Swift error by its dynamic type (or its
    /// ``NamedError/errorType``) and its description.
    public init(_ error: any Error) {
        self.type = (error as? any NamedError)?.errorType ?? String(describing: Swift.type(of: error))
        self.message = String(describing: error)
    }
}

/// An error that names its own type in recorded events, such as a value of
/// one error type that stands for several kinds (`MalformedRequest`).
public protocol NamedError: Error {
    /// The name written as the error's `type`.
    var errorType: String { get }
}
