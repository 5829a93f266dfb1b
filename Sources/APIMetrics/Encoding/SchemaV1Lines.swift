/// A batch's records and profile updates as schema-v1 JSON lines (no
/// trailing newline), in the batch's order.
public struct SchemaV1Lines: Sendable {
    /// One line per record of ``ExportBatch/records``.
    public var events: [[UInt8]]
    /// One line per update of ``ExportBatch/entities``.
    public var entities: [[UInt8]]

    /// Creates lines.
    public init(events: [[UInt8]], entities: [[UInt8]]) {
        self.events = events
        self.entities = entities
    }

    /// The bytes of every line, without separators.
    var byteCount: Int {
        events.reduce(0) { $0 + $1.count } + entities.reduce(0) { $0 + $1.count }
    }
}
