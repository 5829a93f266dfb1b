/// What the API learnt from the traffic has that a team's spec does not
/// say, and the reverse: operations called but not documented, documented
/// ones never called, and statuses, media types, query parameters and body
/// members seen but not documented. Shapes against shapes: the values are
/// checked by ``SpecConformance``.
///
/// Request headers are not compared (clients send many the API never
/// reads), nor members the spec documents but no call had (optional ones
/// are common).
enum SpecDiff {
    struct Entry: Sendable, Hashable, Comparable {
        enum Kind: String, Sendable, Hashable, CaseIterable {
            case undocumentedOperation = "undocumented_operation"
            case neverCalled = "never_called"
            case undocumentedStatus = "undocumented_status"
            case undocumentedMediaType = "undocumented_media_type"
            case undocumentedParameter = "undocumented_parameter"
            case undocumentedField = "undocumented_field"
        }

        var kind: Kind
        var method: String
        /// The spec's path, or the learnt one for an undocumented operation.
        var path: String
        /// `response 200 application/json $.items[].sku`, `query page`; empty for an operation.
        var location: String

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.path, lhs.method, lhs.kind.rawValue, lhs.location) < (rhs.path, rhs.method, rhs.kind.rawValue, rhs.location)
        }
    }

    /// The differences, sorted by path; `called` names operations of the
    /// spec that calls reached even if nothing was learnt of them.
    static func compare(_ spec: OpenAPISpec, learnt: [OperationShape], called: Set<Int> = []) -> [Entry] {
        var entries: [Entry] = []
        var reached = called
        for operation in learnt where operation.calls > 0 {
            guard let index = spec.operationIndex(method: operation.method, route: operation.openAPIPath) else {
                entries.append(
                    Entry(kind: .undocumentedOperation, method: operation.method, path: operation.openAPIPath, location: ""))
                continue
            }
            reached.insert(index)
            let documented = spec.operations[index]
            func add(_ kind: Entry.Kind, _ location: String) {
                entries.append(Entry(kind: kind, method: documented.method, path: documented.path, location: location))
            }
            for parameter in operation.query
            where parameter.isConfirmed
                && !documented.parameters.contains(where: { $0.location == .query && $0.name == parameter.name })
            {
                add(.undocumentedParameter, "query \(parameter.name)")
            }
            for body in operation.requestBodies where body.isConfirmed {
                guard let expected = documented.requestBody, let media = media(body.mediaType, in: expected.content) else {
                    add(.undocumentedMediaType, "request \(body.mediaType)")
                    continue
                }
                if let schema = media.schema {
                    fields(body.shape, schema: schema, spec: spec, location: "request \(body.mediaType) $", depth: 0) {
                        add(.undocumentedField, $0)
                    }
                }
            }
            for response in operation.responses where response.count > 0 && response.status > 0 {
                let status = response.status
                guard
                    let entry = documented.responses.first(where: { $0.status == .exact(status) })
                        ?? documented.responses.first(where: { $0.status == .range(status / 100) })
                        ?? documented.responses.first(where: { $0.status == .default })
                else {
                    add(.undocumentedStatus, "response \(status)")
                    continue
                }
                for body in response.bodies where body.isConfirmed {
                    guard let media = media(body.mediaType, in: entry.content) else {
                        add(.undocumentedMediaType, "response \(status) \(body.mediaType)")
                        continue
                    }
                    if let schema = media.schema {
                        fields(
                            body.shape, schema: schema, spec: spec, location: "response \(status) \(body.mediaType) $", depth: 0
                        ) {
                            add(.undocumentedField, $0)
                        }
                    }
                }
            }
        }
        for (index, operation) in spec.operations.enumerated() where !reached.contains(index) {
            entries.append(Entry(kind: .neverCalled, method: operation.method, path: operation.path, location: ""))
        }
        return Array(Set(entries)).sorted()
    }

    static func media(_ type: String, in content: [OpenAPISpec.Media]) -> OpenAPISpec.Media? {
        let slash = type.firstIndex(of: "/") ?? type.endIndex
        return content.first { $0.range == type } ?? content.first { $0.range == type[..<slash] + "/*" }
            ?? content.first { $0.range == "*/*" }
    }

    /// Reports each confirmed member of `shape` that `schema` does not declare (and does not take as a map's value).
    private static func fields(
        _ shape: JSONShape, schema: Int, spec: OpenAPISpec, location: String, depth: Int, report: (String) -> Void
    ) {
        fields(shape, schemas: [schema], spec: spec, location: location, depth: depth, report: report)
    }

    /// The schemas that describe one place, taken together: a member
    /// several branches declare is followed once, under all of them (never
    /// once per branch, which would multiply at every level).
    private static func fields(
        _ shape: JSONShape, schemas: [Int], spec: OpenAPISpec, location: String, depth: Int, report: (String) -> Void
    ) {
        guard depth < 32, !schemas.isEmpty else { return }
        let declared = Declared(schemas, schemas: spec.schemas)
        guard !declared.isOpen else { return }
        if shape.types.contains(.object) {
            for property in shape.confirmedProperties {
                let place = location + "." + property.name
                if let next = declared.properties[property.name] {
                    fields(property.shape, schemas: next, spec: spec, location: place, depth: depth + 1, report: report)
                } else if !declared.maps.isEmpty {
                    fields(
                        property.shape, schemas: declared.maps, spec: spec, location: location + ".*", depth: depth + 1,
                        report: report)
                } else {
                    report(place)
                }
            }
        }
        if shape.types.contains(.array), let item = shape.items.first {
            fields(item, schemas: declared.items, spec: spec, location: location + "[]", depth: depth + 1, report: report)
        }
    }

    /// What a schema declares, through its `$ref`s and `allOf`/`anyOf`/`oneOf` branches.
    private struct Declared {
        var properties: [String: [Int]] = [:]
        var maps: [Int] = []
        var items: [Int] = []
        /// A schema that declares nothing about members (`{}`, a reference not followed): nothing is undocumented below it.
        var isOpen = false

        init(_ indices: [Int], schemas: [SpecSchema]) {
            var visited = Set<Int>()
            var hasObjectKeywords = false
            var pending = indices
            while let next = pending.popLast(), visited.count < 256 {
                guard visited.insert(next).inserted, schemas.indices.contains(next) else { continue }
                let schema = schemas[next]
                for (name, property) in schema.properties { properties[name, default: []].append(property) }
                if case let .schema(map) = schema.additional { maps.append(map) }
                if !schema.properties.isEmpty || schema.declaresAdditional { hasObjectKeywords = true }
                if let item = schema.items { items.append(item) }
                items += schema.prefixItems
                if let reference = schema.reference { pending.append(reference) }
                pending += schema.allOf + schema.anyOf + schema.oneOf
            }
            // An object schema with no `properties` (or an untyped `{}`) documents a free-form object.
            isOpen = !hasObjectKeywords && items.isEmpty
        }
    }
}
