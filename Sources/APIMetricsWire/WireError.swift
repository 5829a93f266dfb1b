public import APIMetrics

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

    /// A response the server sent to bytes the tap could not read as a
    /// request (after a request it judged malformed, or to a head it had
    /// not finished reading).
    static let unparsedRequest = WireError(
        kind: "UnparsedRequest", reason: "the server answered bytes that could not be read as a request")

    static let noResponse = WireError(kind: "NoResponse", reason: "the connection closed before a response was sent")

    /// The kind, written as the error's `type`.
    public var errorType: String { kind }

    /// What was wrong.
    public var description: String { reason }
}
