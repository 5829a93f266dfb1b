/// The encodings of a batch an exporter reads, so that the sender makes
/// each once per batch, on its processing thread, for every exporter that
/// reads it.
///
/// An exporter that encodes its own wire format from
/// ``ExportBatch/records`` needs none; one that writes the schema-v1 lines
/// (``ExportBatch/schemaV1Lines``) says ``schemaV1JSON``. An encoding read
/// without being declared is made on first use, once per batch all the same.
public struct ExportEncodings: OptionSet, Sendable, Hashable {
    /// The bits of the set.
    public let rawValue: UInt32

    /// Creates a set from its bits.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The schema-v1 JSON line of each record and profile update (the
    /// file's lines, the HTTP exporter's batch items).
    public static let schemaV1JSON = ExportEncodings(rawValue: 1 << 0)
}
