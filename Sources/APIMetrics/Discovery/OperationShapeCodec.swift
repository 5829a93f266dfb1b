/// An operation's shapes in ``BinaryWriter``'s form and back, for the
/// store's `api_operations` table: names, types, formats and counts, never
/// a value. Members and parameters seen once (not confirmed as names) are
/// left out, so that no client's made-up name reaches the file.
enum OperationShapeCodec {
    static let version: UInt8 = 1
    /// The deepest shape read back: past it the bytes are refused.
    static let maxDepth = 40

    static func encode(_ operation: OperationShape) -> [UInt8] {
        var writer = BinaryWriter()
        writer.byte(version)
        writer.string(operation.method)
        writer.string(operation.route)
        writer.count(operation.calls)
        writer.count(operation.learnt)
        writer.signed(operation.firstSeen)
        writer.signed(operation.lastSeen)
        writer.fixed64(operation.firstCall.high)
        writer.fixed64(operation.firstCall.low)
        writer.array(operation.pathParameters) { $0.parameter($1) }
        writer.array(operation.query.filter(\.isConfirmed)) { $0.parameter($1) }
        writer.bool(operation.hasOtherQuery || operation.query.contains { !$0.isConfirmed })
        writer.array(operation.headers.filter(\.isConfirmed)) { $0.parameter($1) }
        writer.bool(operation.hasOtherHeaders || operation.headers.contains { !$0.isConfirmed })
        writer.array(operation.requestBodies.filter(\.isConfirmed)) { $0.body($1) }
        writer.array(operation.responses) { writer, response in
            writer.signed(Int64(response.status))
            writer.count(response.count)
            writer.array(response.bodies.filter(\.isConfirmed)) { $0.body($1) }
        }
        writer.count(operation.bearer)
        writer.count(operation.basic)
        writer.count(operation.authenticated)
        writer.array(operation.apiKeys) { $0.parameter($1) }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(BinaryReader.Failure) -> OperationShape {
        var reader = BinaryReader(bytes)
        let version = try reader.byte()
        guard version == Self.version else { throw reader.fail("operation shape version \(version)") }
        let method = try reader.string()
        let route = try reader.string()
        let calls = try reader.count()
        let learnt = try reader.count()
        let firstSeen = try reader.signed()
        let lastSeen = try reader.signed()
        let firstCall = EventID(high: try reader.fixed64(), low: try reader.fixed64())
        var operation = OperationShape(method: method, route: route, time: firstSeen, call: firstCall)
        operation.calls = calls
        operation.learnt = learnt
        operation.lastSeen = lastSeen
        operation.pathParameters = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in
            try reader.parameter()
        }
        operation.query = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in try reader.parameter() }
        operation.hasOtherQuery = try reader.bool()
        operation.headers = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in try reader.parameter()
        }
        operation.hasOtherHeaders = try reader.bool()
        operation.requestBodies = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in
            try reader.body()
        }
        operation.responses = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in
            let status = Int(clamping: try reader.signed())
            let count = try reader.count()
            let bodies = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in try reader.body() }
            return OperationShape.Response(status: status, count: count, bodies: bodies)
        }
        operation.bearer = try reader.count()
        operation.basic = try reader.count()
        operation.authenticated = try reader.count()
        operation.apiKeys = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in try reader.parameter()
        }
        // Written by this codec, bounded as the learner bounds them.
        guard operation.query.count <= OperationShape.maxParameters, operation.headers.count <= OperationShape.maxParameters,
            operation.responses.count <= OperationShape.maxStatuses,
            operation.requestBodies.count <= OperationShape.maxMediaTypes,
            operation.responses.allSatisfy({ $0.bodies.count <= OperationShape.maxMediaTypes })
        else {
            throw reader.fail("an operation past the learner's limits")
        }
        return operation
    }
}

extension BinaryWriter {
    fileprivate mutating func parameter(_ parameter: OperationShape.Parameter) {
        string(parameter.name)
        count(parameter.count)
        shape(parameter.shape)
    }

    fileprivate mutating func body(_ body: OperationShape.Body) {
        string(body.mediaType)
        count(body.count)
        count(body.unread)
        shape(body.shape)
    }

    mutating func shape(_ shape: JSONShape) {
        byte(shape.types.rawValue)
        count(shape.count)
        count(shape.objects)
        byte(shape.formats.rawValue)
        bool(shape.isWide)
        let confirmed = shape.confirmedProperties
        array(confirmed) { writer, property in
            writer.string(property.name)
            writer.count(property.calls)
            writer.shape(property.shape)
        }
        bool(shape.hasUndescribedProperties)
        array(shape.items) { $0.shape($1) }
        bool(shape.isCut)
    }
}

extension BinaryReader {
    fileprivate mutating func parameter() throws(Failure) -> OperationShape.Parameter {
        OperationShape.Parameter(name: try string(), count: try count(), shape: try shape(depth: 0))
    }

    fileprivate mutating func body() throws(Failure) -> OperationShape.Body {
        OperationShape.Body(mediaType: try string(), count: try count(), unread: try count(), shape: try shape(depth: 0))
    }

    mutating func shape(depth: Int) throws(Failure) -> JSONShape {
        guard depth <= OperationShapeCodec.maxDepth else { throw fail("a shape nested past \(OperationShapeCodec.maxDepth)") }
        var shape = JSONShape()
        shape.types = JSONTypes(rawValue: try byte())
        shape.count = try count()
        shape.objects = try count()
        shape.formats = StringFormats(rawValue: try byte())
        shape.isWide = try bool()
        shape.properties = try array { (reader: inout BinaryReader) throws(Failure) in
            let name = try reader.string()
            let calls = try reader.count()
            return JSONShape.Property(
                name: name, key: JSONShape.key(forName: name), shape: try reader.shape(depth: depth + 1), calls: calls)
        }
        shape.hasOtherProperties = try bool()
        shape.items = try array { (reader: inout BinaryReader) throws(Failure) in try reader.shape(depth: depth + 1) }
        guard shape.items.count <= 1, shape.properties.count <= 64 else { throw fail("a shape past the learner's limits") }
        shape.isCut = try bool()
        return shape
    }
}
