/// Which way a recorded call went, seen from this server.
public struct ExchangeDirection: Sendable, Hashable, CustomStringConvertible {
    private let raw: String

    /// A call this server received and answered.
    public static let incoming = ExchangeDirection(raw: "incoming")
    /// A call this server made to another service.
    public static let outgoing = ExchangeDirection(raw: "outgoing")

    /// The value written in the event's `direction` field.
    public var description: String { raw }
}
