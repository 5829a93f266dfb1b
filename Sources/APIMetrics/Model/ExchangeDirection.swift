/// Which way a recorded call went, seen from this server.
public struct ExchangeDirection: Sendable, Hashable, CustomStringConvertible {
    /// A small tag rather than a string: the request path compares it.
    private enum Kind: UInt8, Sendable, Hashable {
        case incoming
        case outgoing
    }

    private let kind: Kind

    /// A call this server received and answered.
    public static let incoming = ExchangeDirection(kind: .incoming)
    /// A call this server made to another service.
    public static let outgoing = ExchangeDirection(kind: .outgoing)

    /// The value written in the event's `direction` field.
    public var description: String {
        switch kind {
        case .incoming: return "incoming"
        case .outgoing: return "outgoing"
        }
    }
}
