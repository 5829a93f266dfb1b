/// The records of a batch in ``BinaryWriter``'s form and back, field by
/// field: what the give-up seam hands over can be written to disk and sent
/// again later, exactly as it was. Header names and values go as the bytes
/// captured (invalid UTF-8 included).
enum RecordCodec {
    /// The form ``BinaryWriter/record(_:version:keepingSessionToken:)`` writes: 2 added the peer
    /// address and the consumer's API key mask.
    static let version: UInt8 = 2
}

extension BinaryWriter {
    /// Writes `record` in form `version` (an older form for the tests that
    /// read what an older release spooled); without its session token when
    /// `keepingSessionToken` is false (the store keeps none).
    mutating func record(_ record: ExchangeRecord, version: UInt8 = RecordCodec.version, keepingSessionToken: Bool = true) {
        withUnsafePointer(to: record) { self.record(at: $0, version: version, keepingSessionToken: keepingSessionToken) }
    }

    /// ``record(_:version:keepingSessionToken:)`` of the record where it
    /// lies: its fields are read in place, not the whole record copied
    /// (retaining every field) as a value read from an array's storage is.
    mutating func record(
        at pointer: UnsafePointer<ExchangeRecord>, version: UInt8 = RecordCodec.version, keepingSessionToken: Bool = true
    ) {
        fixed64(pointer.pointee.id.high)
        fixed64(pointer.pointee.id.low)
        byte(pointer.pointee.direction == .incoming ? 0 : 1)
        signed(pointer.pointee.startTimeNanoseconds)
        signed(pointer.pointee.durationNanoseconds)
        request(pointer.pointee.request)
        body(pointer.pointee.requestBody)
        optional(pointer.pointee.response) { writer, response in
            writer.signed(Int64(response.status))
            writer.headers(response.headers)
        }
        body(pointer.pointee.responseBody)
        optional(pointer.pointee.consumer) { $0.consumer($1, version: version) }
        array(pointer.pointee.errors) { $0.error($1) }
        optional(pointer.pointee.traceID) { $0.string($1) }
        optional(pointer.pointee.parentID) { writer, id in
            writer.fixed64(id.high)
            writer.fixed64(id.low)
        }
        strings(pointer.pointee.metadata)
        double(pointer.pointee.weight)
        optional(keepingSessionToken ? pointer.pointee.sessionToken : nil) { $0.string($1) }
        optional(pointer.pointee.request.protocolVersion) { $0.string($1) }
        optional(pointer.pointee.remoteParentSpanID) { $0.fixed64($1) }
        if version >= 2 { optional(pointer.pointee.request.peerAddress) { $0.string($1) } }
    }

    mutating func entity(_ entity: EntityRecord, version: UInt8 = RecordCodec.version) {
        signed(entity.timestampNanoseconds)
        switch entity.profile {
        case let .consumer(consumer):
            byte(0)
            self.consumer(consumer, version: version)
        case let .company(company):
            byte(1)
            string(company.id)
            optional(company.name) { $0.string($1) }
            optional(company.domain) { $0.string($1) }
            strings(company.metadata)
        case let .subscription(subscription):
            byte(2)
            string(subscription.id)
            string(subscription.companyID)
            optional(subscription.plan) { $0.string($1) }
            optional(subscription.status) { $0.string($1) }
            optional(subscription.currentPeriodStartNanoseconds) { $0.signed($1) }
            optional(subscription.currentPeriodEndNanoseconds) { $0.signed($1) }
            strings(subscription.metadata)
        }
    }

    mutating func identity(_ identity: ServiceIdentity) {
        string(identity.service)
        string(identity.environment)
        optional(identity.version) { $0.string($1) }
        array(identity.tags) { $0.string($1) }
        bool(identity.isDevelopment)
        optional(identity.instanceID) { $0.string($1) }
    }

    private mutating func request(_ request: RequestHead) {
        string(request.method)
        string(request.target)
        headers(request.headers)
        optional(request.route) { $0.string($1) }
        optional(request.clientAddress) { $0.string($1) }
    }

    private mutating func headers(_ headers: HeaderFields) {
        count(headers.count)
        headers.forEachRaw { name, value in
            count(name.count)
            bytes.append(contentsOf: name)
            count(value.count)
            bytes.append(contentsOf: value)
        }
    }

    private mutating func body(_ body: CapturedBody) {
        run(body.bytes)
        count(body.size)
        bool(body.isTruncated)
    }

    private mutating func consumer(_ consumer: Consumer, version: UInt8) {
        string(consumer.id)
        optional(consumer.name) { $0.string($1) }
        optional(consumer.group) { $0.string($1) }
        optional(consumer.email) { $0.string($1) }
        optional(consumer.company) { $0.string($1) }
        strings(consumer.metadata)
        // Only the mask: a record reaches the spool after normalization.
        if version >= 2 { optional(consumer.apiKeyMask) { $0.string($1) } }
    }

    private mutating func error(_ error: RecordedError) {
        string(error.type)
        string(error.message)
        optional(error.location) { $0.string($1) }
        array(error.causes) { $0.error($1) }
    }
}

extension BinaryReader {
    /// Causes nest; past this depth the input is taken as corrupted.
    static let maxErrorDepth = 32

    /// Reads a record of form `version`: version 1 predates the peer address
    /// and the consumer's API key mask.
    mutating func record(version: UInt8 = RecordCodec.version) throws(Failure) -> ExchangeRecord {
        let id = EventID(high: try fixed64(), low: try fixed64())
        let direction: ExchangeDirection
        switch try byte() {
        case 0: direction = .incoming
        case 1: direction = .outgoing
        case let other: throw fail("direction \(other)")
        }
        let start = try signed()
        let duration = try signed()
        let request = try request()
        let requestBody = try body()
        let response = try optional { (reader: inout BinaryReader) throws(Failure) in
            ResponseHead(status: Int(try reader.signed()), headers: try reader.headers())
        }
        let responseBody = try body()
        let consumer = try optional { (reader: inout BinaryReader) throws(Failure) in try reader.consumer(version: version) }
        let errors = try array { (reader: inout BinaryReader) throws(Failure) in try reader.error(depth: 0) }
        let traceID = try optional { (reader: inout BinaryReader) throws(Failure) in try reader.string() }
        let parentID = try optional { (reader: inout BinaryReader) throws(Failure) in
            EventID(high: try reader.fixed64(), low: try reader.fixed64())
        }
        let metadata = try strings()
        let weight = try double()
        var record = ExchangeRecord(
            id: id, direction: direction, startTimeNanoseconds: start, durationNanoseconds: duration,
            request: request, requestBody: requestBody, response: response, responseBody: responseBody,
            consumer: consumer, errors: errors, traceID: traceID, parentID: parentID, metadata: metadata, weight: weight)
        record.sessionToken = try optional { (reader: inout BinaryReader) throws(Failure) in try reader.string() }
        record.request.protocolVersion = try optionalString()
        record.remoteParentSpanID = try optional { (reader: inout BinaryReader) throws(Failure) in try reader.fixed64() }
        if version >= 2 { record.request.peerAddress = try optionalString() }
        return record
    }

    /// Reads a profile update of form `version` (version 1 predates the API key mask).
    mutating func entity(version: UInt8 = RecordCodec.version) throws(Failure) -> EntityRecord {
        let timestamp = try signed()
        let profile: EntityRecord.Profile
        switch try byte() {
        case 0:
            profile = .consumer(try consumer(version: version))
        case 1:
            profile = .company(
                CompanyProfile(
                    id: try string(), name: try optionalString(), domain: try optionalString(), metadata: try strings()))
        case 2:
            profile = .subscription(
                SubscriptionProfile(
                    id: try string(), companyID: try string(), plan: try optionalString(), status: try optionalString(),
                    currentPeriodStartNanoseconds: try optional { (reader: inout BinaryReader) throws(Failure) in
                        try reader.signed()
                    },
                    currentPeriodEndNanoseconds: try optional { (reader: inout BinaryReader) throws(Failure) in
                        try reader.signed()
                    },
                    metadata: try strings()))
        case let other:
            throw fail("profile kind \(other)")
        }
        return EntityRecord(profile: profile, timestampNanoseconds: timestamp)
    }

    mutating func identity() throws(Failure) -> ServiceIdentity {
        ServiceIdentity(
            service: try string(), environment: try string(), version: try optionalString(),
            tags: try array { (reader: inout BinaryReader) throws(Failure) in try reader.string() },
            isDevelopment: try bool(), instanceID: try optionalString())
    }

    private mutating func optionalString() throws(Failure) -> String? {
        try optional { (reader: inout BinaryReader) throws(Failure) in try reader.string() }
    }

    private mutating func request() throws(Failure) -> RequestHead {
        RequestHead(
            method: try string(), target: try string(), headers: try headers(),
            route: try optionalString(), clientAddress: try optionalString())
    }

    private mutating func headers() throws(Failure) -> HeaderFields {
        let count = try count()
        var headers = HeaderFields()
        for _ in 0..<count {
            let name = try run()
            let value = try run()
            headers.append(nameBytes: name[...], valueBytes: value[...])
        }
        return headers
    }

    private mutating func body() throws(Failure) -> CapturedBody {
        CapturedBody(bytes: try run(), size: try count(), isTruncated: try bool())
    }

    private mutating func consumer(version: UInt8) throws(Failure) -> Consumer {
        var consumer = Consumer(
            id: try string(), name: try optionalString(), group: try optionalString(),
            email: try optionalString(), company: try optionalString(), metadata: try strings())
        if version >= 2 { consumer.apiKeyMask = try optionalString() }
        return consumer
    }

    private mutating func error(depth: Int) throws(Failure) -> RecordedError {
        guard depth < Self.maxErrorDepth else { throw fail("errors nested past \(Self.maxErrorDepth) causes") }
        return RecordedError(
            type: try string(), message: try string(), location: try optionalString(),
            causes: try array { (reader: inout BinaryReader) throws(Failure) in try reader.error(depth: depth + 1) })
    }
}
