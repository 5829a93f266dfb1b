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

    /// Describes a Swift error by its dynamic type and its description.
    public init(_ error: any Error) {
        self.type = String(describing: Swift.type(of: error))
        self.message = String(describing: error)
    }
}
