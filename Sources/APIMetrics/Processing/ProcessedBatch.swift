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
        let cut = total / 2
        var first = ProcessedBatch(), second = ProcessedBatch()
        let hasRecordLines = recordLines.count == records.count
        let hasEntityLines = entityLines.count == entities.count
        for index in records.indices {
            if index < cut {
                first.records.append(records[index])
                if hasRecordLines { first.recordLines.append(recordLines[index]) }
            } else {
                second.records.append(records[index])
                if hasRecordLines { second.recordLines.append(recordLines[index]) }
            }
        }
        for index in entities.indices {
            if records.count + index < cut {
                first.entities.append(entities[index])
                if hasEntityLines { first.entityLines.append(entityLines[index]) }
            } else {
                second.entities.append(entities[index])
                if hasEntityLines { second.entityLines.append(entityLines[index]) }
            }
        }
        return (first, second)
    }

    mutating func append(_ other: consuming ProcessedBatch) {
        records.append(contentsOf: other.records)
        entities.append(contentsOf: other.entities)
        recordLines.append(contentsOf: other.recordLines)
        entityLines.append(contentsOf: other.entityLines)
        skipped += other.skipped
    }
}
