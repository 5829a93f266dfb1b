/// Writes what discovery learnt as an OpenAPI 3.1 document (JSON): one
/// path item per route, one operation per method with its parameters,
/// request body and responses per status and media type as JSON Schema
/// 2020-12, security schemes from the consumer identification and the
/// calls, servers from the `Host` headers seen, and under `x-apimetrics`
/// how often each was seen and when.
enum OpenAPIDocument {
    static let contentType = "application/json"

    static func render(
        _ snapshot: APIDiscovery.Snapshot, identity: ServiceIdentity, schemes configured: SecuritySchemes
    ) -> [UInt8] {
        var schemes = configured
        for operation in snapshot.operations {
            if operation.bearer > 0 { schemes.bearer = true }
            if operation.basic > 0 { schemes.basic = true }
            // Only the configured API key headers are counted; a merged
            // store's operations bring theirs.
            for key in operation.apiKeys where !schemes.apiKeyHeaders.contains(key.name) {
                schemes.apiKeyHeaders.append(key.name)
            }
        }
        var writer = JSONWriter(capacity: 4_096)
        writer.beginObject()
        writer.field("openapi", "3.1.0")
        writer.key("info")
        writer.beginObject()
        writer.field("title", identity.service)
        writer.field("version", identity.version ?? "observed")
        writer.key("description")
        let calls = snapshot.operations.reduce(0) { $0 + $1.calls }
        writer.string(
            "What \(identity.service) (\(identity.environment)) answered, as APIMetrics observed it in \(calls) calls: shapes learnt from traffic, not a specification."
        )
        writer.endObject()
        if !snapshot.servers.isEmpty {
            writer.key("servers")
            writer.beginArray()
            for server in snapshot.servers {
                writer.beginObject()
                writer.field("url", server)
                if !snapshot.serversAreConfigured {
                    writer.field("description", "Seen in the Host headers of calls; not verified (set discovery.servers)")
                }
                writer.endObject()
            }
            writer.endArray()
        }
        writer.key("paths")
        writer.beginObject()
        var index = 0
        let operations = snapshot.operations
        while index < operations.count {
            let path = operations[index].openAPIPath
            writer.key(escaping: path)
            writer.beginObject()
            // The template's names are the same for every method of a path.
            while index < operations.count, operations[index].openAPIPath == path {
                let operation = operations[index]
                if let method = openAPIMethod(operation.method) {
                    writer.key(escaping: method)
                    write(operation, schemes: schemes, to: &writer)
                }
                index += 1
            }
            writer.endObject()
        }
        writer.endObject()
        writeComponents(schemes, to: &writer)
        writer.key("x-apimetrics")
        writer.beginObject()
        writer.field("learnt_calls", snapshot.figures.learnt)
        writer.field("sampled_out_calls", snapshot.figures.sampledOut)
        writer.field("unrouted_calls", snapshot.figures.unrouted)
        writer.field("unlearnt_calls", snapshot.figures.unlearnt)
        writer.field("unread_bodies", snapshot.figures.unreadBodies)
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    /// The methods a path item has fields for; others (`CONNECT`, made-up
    /// ones) are left out of the document.
    static func openAPIMethod(_ method: String) -> String? {
        let lowered = method.lowercased()
        return ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(lowered) ? lowered : nil
    }

    private static func write(_ operation: OperationShape, schemes: SecuritySchemes, to writer: inout JSONWriter) {
        writer.beginObject()
        let learnt = max(1, operation.learnt)
        let query = operation.query.filter(\.isConfirmed), headers = operation.headers.filter(\.isConfirmed)
        if !operation.pathParameters.isEmpty || !query.isEmpty || !headers.isEmpty {
            writer.key("parameters")
            writer.beginArray()
            for parameter in operation.pathParameters {
                writeParameter(parameter, in: "path", required: true, to: &writer)
            }
            for parameter in query {
                writeParameter(parameter, in: "query", required: parameter.count >= learnt, to: &writer)
            }
            for parameter in headers {
                writeParameter(parameter, in: "header", required: parameter.count >= learnt, to: &writer)
            }
            writer.endArray()
        }
        if operation.requestBodies.contains(where: \.isConfirmed) {
            writer.key("requestBody")
            writer.beginObject()
            writer.field("required", operation.requestBodies.reduce(0) { $0 + $1.count } >= learnt)
            writeContent(operation.requestBodies, to: &writer)
            writer.endObject()
        }
        writer.key("responses")
        writer.beginObject()
        var wroteResponse = false
        for response in operation.responses.sorted(by: { $0.status < $1.status }) where (100...599).contains(response.status) {
            writer.key(escaping: String(response.status))
            writer.beginObject()
            writer.field("description", "Seen \(response.count) time\(response.count == 1 ? "" : "s")")
            if response.bodies.contains(where: \.isConfirmed) { writeContent(response.bodies, to: &writer) }
            writer.field("x-apimetrics-calls", response.count)
            writer.endObject()
            wroteResponse = true
        }
        if !wroteResponse {
            writer.key("default")
            writer.beginObject()
            writer.field("description", "No response seen")
            writer.endObject()
        }
        writer.endObject()
        writeSecurity(operation, schemes: schemes, learnt: learnt, to: &writer)
        writer.key("x-apimetrics")
        writer.beginObject()
        writer.field("calls", operation.calls)
        writer.field("first_seen", timestamp: operation.firstSeen)
        writer.field("last_seen", timestamp: operation.lastSeen)
        writer.field("example_call", operation.firstCall)
        if operation.hasOtherQuery || query.count < operation.query.count {
            writer.field("other_query_parameters", true)
        }
        if operation.hasOtherHeaders || headers.count < operation.headers.count {
            writer.field("other_headers", true)
        }
        writer.endObject()
        writer.endObject()
    }

    private static func writeParameter(
        _ parameter: OperationShape.Parameter, in location: StaticString, required: Bool, to writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.field("name", parameter.name)
        writer.field("in", String(describing: location))
        writer.field("required", required)
        writer.key("schema")
        writeSchema(parameter.shape, to: &writer)
        writer.endObject()
    }

    private static func writeContent(_ bodies: [OperationShape.Body], to writer: inout JSONWriter) {
        writer.key("content")
        writer.beginObject()
        for body in bodies where body.isConfirmed {
            writer.key(escaping: body.mediaType)
            writer.beginObject()
            writer.key("schema")
            writeSchema(body.shape, to: &writer)
            writer.endObject()
        }
        writer.endObject()
    }

    /// Every way the operation's calls authenticated, and `{}` when some did not.
    private static func writeSecurity(
        _ operation: OperationShape, schemes: SecuritySchemes, learnt: Int, to writer: inout JSONWriter
    ) {
        var requirements: [String] = []
        if operation.bearer > 0 { requirements.append("bearerAuth") }
        if operation.basic > 0 { requirements.append("basicAuth") }
        for key in operation.apiKeys where schemes.apiKeyHeaders.contains(key.name) {
            requirements.append(SecuritySchemes.apiKeyName(key.name))
        }
        let authenticated = operation.authenticated
        writer.key("security")
        writer.beginArray()
        for name in requirements {
            writer.beginObject()
            writer.key(escaping: name)
            writer.beginArray()
            writer.endArray()
            writer.endObject()
        }
        if requirements.isEmpty || authenticated < learnt {
            writer.beginObject()
            writer.endObject()
        }
        writer.endArray()
    }

    private static func writeComponents(_ schemes: SecuritySchemes, to writer: inout JSONWriter) {
        guard schemes.bearer || schemes.basic || !schemes.apiKeyHeaders.isEmpty else { return }
        writer.key("components")
        writer.beginObject()
        writer.key("securitySchemes")
        writer.beginObject()
        if schemes.bearer {
            writer.key("bearerAuth")
            writer.beginObject()
            writer.field("type", "http")
            writer.field("scheme", "bearer")
            if schemes.isJWT {
                writer.field("bearerFormat", "JWT")
            }
            writer.endObject()
        }
        if schemes.basic {
            writer.key("basicAuth")
            writer.beginObject()
            writer.field("type", "http")
            writer.field("scheme", "basic")
            writer.endObject()
        }
        for header in schemes.apiKeyHeaders {
            writer.key(escaping: SecuritySchemes.apiKeyName(header))
            writer.beginObject()
            writer.field("type", "apiKey")
            writer.field("in", "header")
            writer.field("name", header)
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
    }

    /// A shape as JSON Schema 2020-12: `type` (a list for unions, `null`
    /// among them), `format`, `properties` with `required` from presence in
    /// every object, `items`, and `additionalProperties` for objects whose
    /// members read as data.
    static func writeSchema(_ shape: JSONShape, to writer: inout JSONWriter) {
        writer.beginObject()
        let names = shape.types.names
        if names.count == 1 {
            writer.field("type", names[0])
        } else if names.count > 1 {
            writer.key("type")
            writer.beginArray()
            for name in names { writer.string(name) }
            writer.endArray()
        }
        let nonNull = shape.types.subtracting(.null)
        if nonNull == .string, let format = shape.formats.name {
            writer.field("format", format)
        } else if nonNull == .integer {
            writer.field("format", shape.isWide ? "int64" : "int32")
        }
        if shape.types.contains(.object) {
            let properties = shape.confirmedProperties
            if !properties.isEmpty {
                writer.key("properties")
                writer.beginObject()
                for property in properties {
                    writer.key(escaping: property.name)
                    writeSchema(property.shape, to: &writer)
                }
                writer.endObject()
                let required = properties.filter { $0.shape.count >= shape.objects && shape.objects > 0 }
                if !required.isEmpty {
                    writer.key("required")
                    writer.beginArray()
                    for property in required { writer.string(property.name) }
                    writer.endArray()
                }
            }
            if shape.hasUndescribedProperties {
                writer.field("additionalProperties", true)
            }
        }
        if shape.types.contains(.array), let item = shape.items.first {
            writer.key("items")
            writeSchema(item, to: &writer)
        }
        writer.endObject()
    }
}
