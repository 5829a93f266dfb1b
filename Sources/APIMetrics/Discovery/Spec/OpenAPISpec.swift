/// A team's own OpenAPI document (3.0 or 3.1, JSON or YAML), read once at
/// start (``DiscoveryOptions/specPath``): its operations with their
/// parameters, request bodies and responses, and their schemas compiled
/// for validation. What it cannot follow (a `$ref` to another file, a
/// keyword not checked) is listed in ``notes`` and passes.
struct OpenAPISpec: Sendable {
    /// `info.title`.
    var title: String
    /// `openapi` (`3.0.3`, `3.1.0`).
    var version: String
    /// The first 16 hex digits of the file's SHA-256: which spec findings were counted against.
    var digest: String
    var operations: [Operation]
    var schemas: [SpecSchema]
    /// Paths the `servers` put before every path (`/v1`), longest first.
    var basePaths: [String]
    /// What is not followed or not checked, for the report.
    var notes: [String]

    /// The largest file read.
    static let maxBytes = 16 << 20
    /// The most operations read.
    static let maxOperations = 10_000

    /// One operation: a method of a path.
    struct Operation: Sendable {
        var method: String
        var path: String
        var segments: [Segment]
        var parameters: [Parameter]
        var requestBody: RequestBody?
        var responses: [Response]
    }

    /// One segment of a path: a literal, or one with a `{parameter}`
    /// between a literal prefix and suffix (`{id}.json`).
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(prefix: String, suffix: String, name: String)
    }

    struct Parameter: Sendable {
        enum Location: String, Sendable { case path, query, header, cookie }
        var name: String
        var location: Location
        var isRequired: Bool
        var schema: Int?
        /// `style: deepObject` (`filter[name]=x`).
        var isDeepObject = false
    }

    /// A schema per media type (`application/json`, `application/*`, `*/*`).
    struct Media: Sendable {
        /// The media range's essence, lowercased.
        var range: String
        var schema: Int?
    }

    struct RequestBody: Sendable {
        var isRequired: Bool
        var content: [Media]
    }

    struct Response: Sendable {
        var status: StatusKey
        var content: [Media]
    }

    /// A key of `responses`: a status, a class (`4XX`), or `default`.
    enum StatusKey: Sendable, Hashable, CustomStringConvertible {
        case exact(Int)
        case range(Int)
        case `default`

        init?(_ key: String) {
            if key == "default" {
                self = .default
            } else if key.count == 3, let first = key.first?.wholeNumberValue, (1...5).contains(first),
                key.dropFirst().uppercased() == "XX"
            {
                self = .range(first)
            } else if let status = Int(key), (100...599).contains(status) {
                self = .exact(status)
            } else {
                return nil
            }
        }

        var description: String {
            switch self {
            case let .exact(status): String(status)
            case let .range(first): "\(first)XX"
            case .default: "default"
            }
        }
    }

    /// Why a spec cannot be used.
    struct LoadError: Error, Sendable, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Reads a document from its bytes: JSON when it starts with `{`, YAML otherwise.
    static func load(_ bytes: [UInt8]) throws(LoadError) -> OpenAPISpec {
        guard bytes.count <= maxBytes else {
            throw LoadError(reason: "the file has \(bytes.count) bytes; at most \(maxBytes) are read")
        }
        let root: JSONValue
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
            do {
                root = try JSONParser.parse(body, maxDepth: 128)
            } catch let .invalid(offset) {
                throw LoadError(reason: "not valid JSON at byte \(offset)")
            } catch {
                throw LoadError(reason: "JSON nested deeper than 128 levels")
            }
        } else {
            do {
                root = try YAMLReader.parse(body)
            } catch {
                throw LoadError(reason: "not valid YAML: \(error)")
            }
        }
        return try compile(root, digest: String(SHA256.hexDigest(bytes: bytes).prefix(16)))
    }

    static func compile(_ root: JSONValue, digest: String) throws(LoadError) -> OpenAPISpec {
        guard case let .object(top) = root else { throw LoadError(reason: "the document is not an object") }
        guard case let .string(version)? = top.first(where: { $0.key == "openapi" })?.value else {
            let swagger = top.contains { $0.key == "swagger" }
            throw LoadError(
                reason: swagger
                    ? "Swagger 2.0 is not read: convert it to OpenAPI 3" : "no `openapi` version: not an OpenAPI 3 document")
        }
        guard version.hasPrefix("3.0") || version.hasPrefix("3.1") else {
            throw LoadError(reason: "openapi \(SpecSchemaCompiler.quoted(version)) is not read: 3.0 and 3.1 are")
        }
        var title = ""
        if case let .object(info)? = top.first(where: { $0.key == "info" })?.value,
            case let .string(text)? = info.first(where: { $0.key == "title" })?.value
        {
            title = String(text.prefix(200))
        }
        var compiler = SpecSchemaCompiler(root: root)
        var operations: [Operation] = []
        var notes: [String] = []
        if case let .object(paths)? = top.first(where: { $0.key == "paths" })?.value {
            for path in paths {
                guard let item = SpecSchemaCompiler.dereference(path.value, in: root), case let .object(itemMembers) = item else {
                    notes.append("path \(SpecSchemaCompiler.quoted(path.key)): its $ref names nothing")
                    continue
                }
                let shared = parameters(itemMembers, root: root, compiler: &compiler)
                for member in itemMembers where methods.contains(member.key) {
                    guard operations.count < maxOperations else {
                        throw LoadError(reason: "more than \(maxOperations) operations")
                    }
                    guard case let .object(operation) = member.value else { continue }
                    var own = parameters(operation, root: root, compiler: &compiler)
                    // The operation's own parameters override the path's of the same name and place.
                    for parameter in shared
                    where !own.contains(where: { $0.name == parameter.name && $0.location == parameter.location }) {
                        own.append(parameter)
                    }
                    operations.append(
                        Operation(
                            method: member.key.uppercased(), path: path.key, segments: segments(of: path.key), parameters: own,
                            requestBody: requestBody(operation, root: root, compiler: &compiler),
                            responses: responses(operation, root: root, compiler: &compiler, notes: &notes)))
                }
            }
        }
        notes += compiler.notes
        if !compiler.unchecked.isEmpty {
            notes.append("not checked: " + compiler.unchecked.sorted().joined(separator: ", "))
        }
        return OpenAPISpec(
            title: title, version: version, digest: digest, operations: operations, schemas: compiler.schemas,
            basePaths: basePaths(top), notes: Array(notes.prefix(40)))
    }

    private static func member(_ name: String, _ members: [JSONValue.Member]) -> JSONValue? {
        members.first { $0.key == name }?.value
    }

    private static func parameters(
        _ members: [JSONValue.Member], root: JSONValue, compiler: inout SpecSchemaCompiler
    ) -> [Parameter] {
        guard case let .array(list)? = member("parameters", members) else { return [] }
        return list.compactMap { value in
            guard let resolved = SpecSchemaCompiler.dereference(value, in: root), case let .object(fields) = resolved,
                case let .string(name)? = member("name", fields), case let .string(place)? = member("in", fields),
                let location = Parameter.Location(rawValue: place)
            else { return nil }
            // A parameter described by `content` (a JSON-encoded query value) has no `schema`: checked for presence only.
            let schema = member("schema", fields).map { compiler.compile($0) }
            return Parameter(
                name: location == .header ? name.lowercased() : name, location: location,
                isRequired: location == .path || member("required", fields) == .bool(true), schema: schema,
                isDeepObject: member("style", fields) == .string("deepObject"))
        }
    }

    private static func content(_ value: JSONValue?, compiler: inout SpecSchemaCompiler) -> [Media] {
        guard case let .object(types)? = value else { return [] }
        return types.map { type in
            let essence = type.key.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
            var schema: Int?
            if case let .object(media) = type.value, let value = member("schema", media) { schema = compiler.compile(value) }
            return Media(range: essence, schema: schema)
        }
    }

    private static func requestBody(
        _ operation: [JSONValue.Member], root: JSONValue, compiler: inout SpecSchemaCompiler
    ) -> RequestBody? {
        guard let value = member("requestBody", operation), let resolved = SpecSchemaCompiler.dereference(value, in: root),
            case let .object(fields) = resolved
        else { return nil }
        return RequestBody(
            isRequired: member("required", fields) == .bool(true),
            content: content(member("content", fields), compiler: &compiler))
    }

    private static func responses(
        _ operation: [JSONValue.Member], root: JSONValue, compiler: inout SpecSchemaCompiler, notes: inout [String]
    ) -> [Response] {
        guard case let .object(list)? = member("responses", operation) else { return [] }
        return list.compactMap { entry in
            guard let status = StatusKey(entry.key) else {
                if notes.count < 20 {
                    notes.append("response key \(SpecSchemaCompiler.quoted(entry.key)) is not a status, a class or default")
                }
                return nil
            }
            guard let resolved = SpecSchemaCompiler.dereference(entry.value, in: root), case let .object(fields) = resolved else {
                return Response(status: status, content: [])
            }
            return Response(status: status, content: content(member("content", fields), compiler: &compiler))
        }
    }

    static func segments(of path: String) -> [Segment] {
        path.split(separator: "/").map { segment in
            guard let open = segment.firstIndex(of: "{"), let close = segment[open...].firstIndex(of: "}") else {
                return .literal(String(segment))
            }
            // `{lat},{lon}`: one segment of several parameters matches as one; none of them is read.
            let last = segment.lastIndex(of: "}") ?? close
            let several = segment[segment.index(after: open)...].contains("{")
            return .parameter(
                prefix: String(segment[..<open]), suffix: String(segment[segment.index(after: last)...]),
                name: several ? "" : String(segment[segment.index(after: open)..<close]))
        }
    }

    /// The paths of `servers` URLs (`https://api.example.com/v1` → `/v1`).
    private static func basePaths(_ top: [JSONValue.Member]) -> [String] {
        guard case let .array(servers)? = member("servers", top) else { return [] }
        var paths = Set<String>()
        for server in servers {
            guard case let .object(fields) = server, case let .string(url)? = member("url", fields) else { continue }
            var rest = Substring(url)
            if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
                rest = rest[rest.index(colon, offsetBy: 3)...]
                rest = rest[(rest.firstIndex(of: "/") ?? rest.endIndex)...]
            }
            let path = rest.hasSuffix("/") ? String(rest.dropLast()) : String(rest)
            // A templated server path (`/{version}`) is not matched literally.
            if path.hasPrefix("/"), !path.contains("{") { paths.insert(path) }
        }
        return paths.sorted { $0.count > $1.count }
    }
}
