/// What the sender's processing made of a batch of queued items: the
/// processed (identified, redacted) records, and their schema-v1 lines when
/// an exporter reads them, kept in the arrays the exporters receive so that
/// nothing is copied between processing and export.
struct ProcessedBatch: Sendable {
    var records: [ExchangeRecord] = []
    var entities: [EntityRecord] = []
    /// One line per record, in order, when schema-v1 was asked for; else empty.
    var recordLines: [[UInt8]] = []
    /// One line per entity, in order, when schema-v1 was asked for; else empty.
    var entityLines: [[UInt8]] = []
    /// Calls the skip closure left out.
    var skipped = 0
    /// What the records say for the metrics, tallied on the processing
    /// thread as each was processed (see ``Aggregator/Attribution``); the
    /// sender hands it to the aggregator and drops it before the batch is
    /// exported. It covers only the records it counts: those processed
    /// elsewhere (after a closure hung) are not in it.
    var attribution = Aggregator.Attribution()

    init(capacity: Int = 0) {
        records.reserveCapacity(capacity)
    }

    /// How many queued items it accounts for.
    var itemCount: Int { records.count + entities.count + skipped }

    /// The schema-v1 lines made while processing, when every record and
    /// update has its line (an exporter reads them); `nil` otherwise.
    var schemaV1Lines: SchemaV1Lines? {
        guard !isEmpty, recordLines.count == records.count, entityLines.count == entities.count else { return nil }
        return SchemaV1Lines(events: recordLines, entities: entityLines)
    }

    /// Whether nothing is left to export.
    var isEmpty: Bool { records.isEmpty && entities.isEmpty }

    mutating func add(_ outcome: consuming EventProcessor.Outcome) {
        switch consume outcome {
        case let .record(record, line):
            records.append(record)
            if let line { recordLines.append(line) }
        case let .entity(entity, line):
            entities.append(entity)
            if let line { entityLines.append(line) }
        case .skipped:
            skipped += 1
        }
    }

    /// The batch cut in two halves (records first, then profile updates),
    /// each with its own lines; for a destination that found it too large.
    func halves() -> (ProcessedBatch, ProcessedBatch) {
        let total = records.count + entities.count
        return (slice(0..<total / 2), slice(total / 2..<total))
    }

    /// The batch cut in pieces of at most `maxItems` records and profile
    /// updates (records first), for a destination that takes no more in
    /// one request.
    func pieces(maxItems: Int) -> [ProcessedBatch] {
        let total = records.count + entities.count
        let size = max(1, maxItems)
        return stride(from: 0, to: total, by: size).map { slice($0..<min(total, $0 + size)) }
    }

    /// The records and updates at `range` of the batch's order (records,
    /// then updates), each with its line when the batch has them.
    private func slice(_ range: Range<Int>) -> ProcessedBatch {
        var piece = ProcessedBatch()
        let hasRecordLines = recordLines.count == records.count
        let hasEntityLines = entityLines.count == entities.count
        let recordRange = range.clamped(to: 0..<records.count)
        piece.records.append(contentsOf: records[recordRange])
        if hasRecordLines { piece.recordLines.append(contentsOf: recordLines[recordRange]) }
        let entityRange = (range.lowerBound - records.count..<range.upperBound - records.count).clamped(to: 0..<entities.count)
        piece.entities.append(contentsOf: entities[entityRange])
        if hasEntityLines { piece.entityLines.append(contentsOf: entityLines[entityRange]) }
        return piece
    }

    mutating func append(_ other: consuming ProcessedBatch) {
        attribution.append(other.attribution)
        records.append(contentsOf: other.records)
        entities.append(contentsOf: other.entities)
        recordLines.append(contentsOf: other.recordLines)
        entityLines.append(contentsOf: other.entityLines)
        skipped += other.skipped
    }
}
