/// What was kept of a message body: a prefix of its bytes and its full size.
///
/// The size counts every byte of the body as sent on the wire after removing
/// chunked framing, whether or not the bytes were kept.
public struct CapturedBody: Sendable, Hashable {
    /// The kept prefix; empty when bodies are not captured.
    public var bytes: [UInt8]
    /// The body's full length in bytes.
    public var size: Int
    /// Whether bytes were being kept and some of the body was left out.
    public var isTruncated: Bool
    /// What the kept bytes were decoded from before they were redacted, when
    /// they are not as sent: the content codings and character encoding, in
    /// the order undone, such as `gzip` or `deflate, utf-16le`. The bytes
    /// are then UTF-8; ``size`` still counts the bytes as sent.
    public var decodedFrom: String?

    /// Creates a captured body.
    ///
    /// - Parameters:
    ///   - bytes: the kept prefix; empty (the default) when bodies are not
    ///     captured.
    ///   - size: the body's full length in bytes, kept or not; 0 by default.
    ///   - isTruncated: whether bytes were being kept and some of the body
    ///     was left out; `false` by default.
    ///   - decodedFrom: what the kept bytes were decoded from, in the order
    ///     undone, such as `gzip` or `deflate, utf-16le`; `nil` (the default)
    ///     when they are as sent.
    public init(bytes: [UInt8] = [], size: Int = 0, isTruncated: Bool = false, decodedFrom: String? = nil) {
        self.bytes = bytes
        self.size = size
        self.isTruncated = isTruncated
        self.decodedFrom = decodedFrom
    }

    /// No body at all.
    public static let empty = CapturedBody()
}
