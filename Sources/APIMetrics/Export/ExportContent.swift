/// What an exporter sends of the batches it is given: the calls and
/// profile updates, the metrics records, or both.
///
/// The sender hands an exporter only the batches that hold something it
/// sends, and counts its deliveries by what it sends: an exporter of
/// metrics alone (OTLP's `/v1/metrics`) neither counts events as exported
/// nor, when it gives a batch up, as failed.
public struct ExportContent: OptionSet, Sendable, Hashable {
    /// The bits of the set.
    public let rawValue: UInt8

    /// Creates a set from its bits.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The calls (``ExportBatch/records``) and profile updates
    /// (``ExportBatch/entities``).
    public static let events = ExportContent(rawValue: 1 << 0)
    /// The metrics window, heartbeat and startup record.
    public static let metrics = ExportContent(rawValue: 1 << 1)
    /// The alert transitions (``ExportBatch/alerts``), which come with a
    /// metrics window: what an alert webhook sends.
    public static let alerts = ExportContent(rawValue: 1 << 2)
    /// Events and metrics: what the file, the console and the HTTP exporter send.
    public static let all: ExportContent = [.events, .metrics]
}
