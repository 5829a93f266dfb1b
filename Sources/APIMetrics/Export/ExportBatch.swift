/// Who is sending: the fields every event and batch carries.
public struct ServiceIdentity: Sendable, Hashable {
    /// The service's name.
    public var service: String
    /// The deployment environment.
    public var environment: String
    /// The service's version, when set.
    public var version: String?
    /// Free-form tags.
    public var tags: [String]
    /// Whether this is a development deployment.
    public var isDevelopment: Bool
    /// This process among the service's instances.
    public var instanceID: String?

    /// Creates an identity.
    public init(
        service: String, environment: String, version: String? = nil, tags: [String] = [],
        isDevelopment: Bool = false, instanceID: String? = nil
    ) {
        self.service = service
        self.environment = environment
        self.version = version
        self.tags = tags
        self.isDevelopment = isDevelopment
        self.instanceID = instanceID
    }
}

extension ServiceIdentity {
    /// `service`, `env`, `version`, then `tags`, `development` and
    /// `instance_id`: the fields every event, entity and batch opens with.
    func writeFields(into writer: inout JSONWriter, includingEventFields: Bool = true) {
        writer.key("service")
        writer.string(service)
        writer.key("env")
        writer.string(environment)
        if let version {
            writer.key("version")
            writer.string(version)
        }
        if includingEventFields && !tags.isEmpty {
            writer.key("tags")
            writer.beginArray()
            for tag in tags { writer.string(tag) }
            writer.endArray()
        }
        if includingEventFields && isDevelopment {
            writer.key("development")
            writer.bool(true)
        }
        if let instanceID {
            writer.key("instance_id")
            writer.string(instanceID)
        }
    }
}

/// One event ready to leave: the processed record and its schema-v1 JSON.
public struct ExportedEvent: Sendable {
    /// The record after identification and redaction.
    public var record: ExchangeRecord
    /// The event as one line of JSON (no trailing newline), schema version 1.
    public var json: [UInt8]

    /// Creates an event.
    public init(record: ExchangeRecord, json: [UInt8]) {
        self.record = record
        self.json = json
    }
}

/// A profile update ready to leave: the record and its JSON line.
public struct ExportedEntity: Sendable {
    /// The profile update.
    public var record: EntityRecord
    /// The update as one line of JSON (no trailing newline), schema version 1.
    public var json: [UInt8]

    /// Creates an entity.
    public init(record: EntityRecord, json: [UInt8]) {
        self.record = record
        self.json = json
    }
}

/// What an exporter receives: events plus what was lost since the last
/// batch this exporter took.
public struct ExportBatch: Sendable {
    /// Who is sending.
    public var identity: ServiceIdentity
    /// The events, oldest first.
    public var events: [ExportedEvent]
    /// Profile updates (consumers, companies, subscriptions), oldest first.
    public var entities: [ExportedEntity] = []
    /// Events that this exporter will never receive and has not yet been told
    /// of: dropped from a full queue, or given up after failed attempts.
    public var dropped: Int
    /// When the batch was built, in nanoseconds since the Unix epoch.
    public var sentAtNanoseconds: Int64

    /// Creates a batch.
    public init(identity: ServiceIdentity, events: [ExportedEvent], dropped: Int, sentAtNanoseconds: Int64) {
        self.identity = identity
        self.events = events
        self.dropped = dropped
        self.sentAtNanoseconds = sentAtNanoseconds
    }

    /// The number of records, events and entities.
    public var count: Int { events.count + entities.count }

    /// The batch as one JSON document:
    /// `{"v":1,"service":…,"env":…,"sent_at":…,"dropped":N,"events":[…]}`,
    /// with `"entities":[…]` when it carries profile updates.
    public func encodedJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: events.reduce(256) { $0 + $1.json.count + 1 } + entities.reduce(0) { $0 + $1.json.count + 1 })
        writer.beginObject()
        writer.key("v")
        writer.int(1)
        identity.writeFields(into: &writer, includingEventFields: false)
        writer.key("sent_at")
        writer.string(Timestamp.rfc3339(nanosecondsSinceEpoch: sentAtNanoseconds))
        writer.key("dropped")
        writer.int(dropped)
        writer.key("events")
        writer.beginArray()
        for event in events {
            writer.raw(event.json)
        }
        writer.endArray()
        if !entities.isEmpty {
            writer.key("entities")
            writer.beginArray()
            for entity in entities { writer.raw(entity.json) }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }
}
