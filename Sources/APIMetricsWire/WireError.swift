import APIMetrics

/// What the wire tap attaches to an exchange it could not read whole.
public struct WireError: NamedError, Sendable, Hashable, CustomStringConvertible {
    /// A short name, such as `MalformedRequest`.
    public let kind: String
    /// What was wrong.
    public let reason: String

    static func malformedRequest(_ reason: String) -> WireError {
        WireError(kind: "MalformedRequest", reason: reason)
    }

    static func malformedResponse(_ reason: String) -> WireError {
        WireError(kind: "MalformedResponse", reason: reason)
    }

    static let noResponse = WireError(kind: "NoResponse", reason: "the connection closed before a response was sent")

    /// The kind, written as the error's `type`.
    public var errorType: String { kind }

    /// What was wrong.
    public var description: String { reason }
}
