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

    /// Creates a captured body.
    public init(bytes: [UInt8] = [], size: Int = 0, isTruncated: Bool = false) {
        self.bytes = bytes
        self.size = size
        self.isTruncated = isTruncated
    }

    /// No body at all.
    public static let empty = CapturedBody()
}
