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
    /// The most UTF-8 bytes of a ``type`` kept; a longer one is cut and ends with `…`.
    public static let maxTypeBytes = 128
    /// The most UTF-8 bytes of a ``message`` kept; a longer one is cut and ends with `…`.
    public static let maxMessageBytes = 512
    /// The most UTF-8 bytes of a ``location`` kept; a longer one is cut and ends with `…`.
    public static let maxLocationBytes = 256

    /// The error with every text cut to its byte limit and at most
    /// ``maxCauses`` causes: what an event and the error groups keep, since
    /// a message can carry what a client sent.
    func bounded() -> RecordedError {
        if isWithinLimits && causes.count <= Self.maxCauses && causes.allSatisfy({ $0.causes.isEmpty && $0.isWithinLimits }) {
            return self
        }
        return RecordedError(
            type: TextLimit.cut(type, maxBytes: Self.maxTypeBytes),
            message: TextLimit.cut(message, maxBytes: Self.maxMessageBytes),
            location: location.map { TextLimit.cut($0, maxBytes: Self.maxLocationBytes) },
            // A cause keeps its texts, cut, not causes of its own.
            causes: causes.prefix(Self.maxCauses).map {
                RecordedError(type: $0.type, message: $0.message, location: $0.location).bounded()
            })
    }

    private var isWithinLimits: Bool {
        type.utf8.count <= Self.maxTypeBytes && message.utf8.count <= Self.maxMessageBytes
            && (location?.utf8.count ?? 0) <= Self.maxLocationBytes
    }

    /// Creates a recorded error.
    ///
    /// - Parameters:
    ///   - type: the error's type name, such as `DecodingError`.
    ///   - message: a readable message.
    ///   - location: where it was reported, such as
    ///     `Orders/Handlers.swift:42`; `nil` by default.
    ///   - causes: the errors that caused it, nearest first; none by default.
    public init(type: String, message: String, location: String? = nil, causes: [RecordedError] = []) {
        self.type = type
        self.message = message
        self.location = location
        self.causes = causes
    }

    /// Describes a Swift error by its dynamic type (or its
    /// ``NamedError/errorType``) and its description, with the chain of
    /// underlying errors it exposes (see ``UnderlyingErrorProviding``).
    ///
    /// Its texts are cut to ``maxTypeBytes``, ``maxMessageBytes`` and
    /// ``maxLocationBytes`` when the event is recorded.
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
