/// Why an adapter left a body as it was, without capturing it: what the
/// event says under `metadata["request_body"]` or
/// `metadata["response_body"]` (``ActiveExchange/markRequestBody(_:)``,
/// ``ActiveExchange/markResponseBody(_:)``), in the same words from every
/// adapter.
public struct UncapturedBodyReason: Sendable, Hashable {
    /// The text the event carries.
    public let text: String

    /// A reason in an adapter's own words, for a case none of the static
    /// members names.
    public init(_ text: String) {
        self.text = text
    }

    /// A streamed body the adapter could not see pass: counted by its
    /// declared length.
    public static let streamed = UncapturedBodyReason("streamed: not captured")

    /// A streamed body with no declared length: neither its bytes nor its
    /// size are known.
    public static let streamedOfUnknownSize = UncapturedBodyReason("streamed: not captured, size unknown")

    /// The metadata key of the request body's reason.
    public static let requestMetadataKey = "request_body"

    /// The metadata key of the response body's reason.
    public static let responseMetadataKey = "response_body"
}

extension ActiveExchange {
    /// The longest response body of known length an adapter records before
    /// it is written, gathered in memory (16 KiB): the call then ends when
    /// the handler hands the body over. A longer one, or one of unknown
    /// length, is recorded as it is written.
    public static let maxGatheredResponseBodyBytes = 16 * 1024

    /// Says in the event why the request's body was not captured.
    public func markRequestBody(_ reason: UncapturedBodyReason) {
        setMetadata(reason.text, forKey: UncapturedBodyReason.requestMetadataKey)
    }

    /// Says in the event why the response's body was not captured.
    public func markResponseBody(_ reason: UncapturedBodyReason) {
        setMetadata(reason.text, forKey: UncapturedBodyReason.responseMetadataKey)
    }
}
