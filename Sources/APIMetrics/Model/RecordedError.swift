/// An error attached to a recorded exchange.
public struct RecordedError: Sendable, Hashable {
    /// The error's type name, such as `DecodingError`.
    public var type: String
    /// A readable message.
    public var message: String
    /// Where it was reported, such as `Orders/Handlers.swift:42`.
    public var location: String?
    /// The errors that caused it, nearest first, as far as they are exposed.
    public var causes: [RecordedError]

    /// The most causes kept; a longer chain is cut.
    public static let maxCauses = 8

    /// Creates a recorded error.
    public init(type: String, message: String, location: String? = nil, causes: [RecordedError] = []) {
        self.type = type
        self.message = message
        self.location = location
        self.causes = causes
    }

    /// Describes a Swift error by its dynamic type (or its
    /// ``NamedError/errorType``) and its description, with the chain of
    /// underlying errors it exposes (see ``UnderlyingErrorProviding``).
    public init(_ error: any Error) {
        self.init(type: Self.typeName(of: error), message: String(describing: error))
        var current: any Error = error
        while causes.count < Self.maxCauses, let next = Self.underlyingError(of: current) {
            causes.append(RecordedError(type: Self.typeName(of: next), message: String(describing: next)))
            current = next
        }
    }

    private static func typeName(of error: any Error) -> String {
        (error as? any NamedError)?.errorType ?? String(describing: Swift.type(of: error))
    }

    private static func underlyingError(of error: any Error) -> (any Error)? {
        if let provider = error as? any UnderlyingErrorProviding { return provider.underlyingError }
        switch error {
        case let DecodingError.dataCorrupted(context),
             let DecodingError.keyNotFound(_, context),
             let DecodingError.typeMismatch(_, context),
             let DecodingError.valueNotFound(_, context):
            return context.underlyingError
        case let EncodingError.invalidValue(_, context):
            return context.underlyingError
        default:
            return nil
        }
    }
}
