import Synchronization

/// The encodings of one processed batch, shared by every exporter and
/// every attempt that delivers it: each is made at most once. The sender
/// makes the declared ones on its processing thread; one read without being
/// declared is made on first use, under the lock.
final class BatchEncodings: Sendable {
    private let identity: ServiceIdentity
    private let records: [ExchangeRecord]
    private let entities: [EntityRecord]
    private let schemaV1: Mutex<SchemaV1Lines?>

    init(identity: ServiceIdentity, records: [ExchangeRecord], entities: [EntityRecord], schemaV1: SchemaV1Lines? = nil) {
        self.identity = identity
        self.records = records
        self.entities = entities
        self.schemaV1 = Mutex(schemaV1)
    }

    var schemaV1Lines: SchemaV1Lines {
        schemaV1.withLock { lines in
            if let lines { return lines }
            let encoder = EventEncoder(identity: identity)
            let made = SchemaV1Lines(events: records.map(encoder.encode), entities: entities.map(encoder.encode))
            lines = made
            return made
        }
    }
}
