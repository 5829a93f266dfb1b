extension SpecConformance {
    /// The most bytes of a JSON body parsed for validation (larger ones are
    /// checked for status and media type only).
    static let maxValidatedBytes = 1 << 20

    // MARK: Parameters

    /// Required query and header parameters present, and the values of
    /// those with a schema valid (as text: `true`, numbers, strings).
    func checkParameters(
        _ operation: OpenAPISpec.Operation, target: String, path: String, headers: HeaderFields,
        into violations: inout [SpecValidator.Violation], exhausted: inout Bool
    ) {
        guard !operation.parameters.isEmpty else { return }
        var validator = SpecValidator(schemas: spec.schemas, isRequest: true)
        let query = URLTarget(target).queryItems
        for parameter in operation.parameters {
            let location = "\(parameter.location.rawValue) \(parameter.name)"
            var values: [String] = []
            switch parameter.location {
            case .query where parameter.isDeepObject:
                // `filter[name]=x`: present when any member is; the members are not typed one by one.
                if !query.contains(where: { $0.name.hasPrefix(parameter.name + "[") }), parameter.isRequired {
                    violations.append(.init(rule: "missing_parameter", location: location))
                }
                continue
            case .query:
                values = query.lazy.filter { $0.name == parameter.name }.map(\.value)
            case .header:
                // OpenAPI: a header parameter named Accept, Content-Type or Authorization is ignored.
                guard !["accept", "content-type", "authorization"].contains(parameter.name) else { continue }
                values = headers.values(for: parameter.name)
            case .path:
                if let value = pathValue(of: parameter.name, in: operation, path: path) { values = [value] } else { continue }
            case .cookie:
                continue
            }
            if values.isEmpty {
                if parameter.isRequired { violations.append(.init(rule: "missing_parameter", location: location)) }
                continue
            }
            // Objects come in styles (`form`, `deepObject`, `simple`) that are not read member by member.
            guard let schema = parameter.schema, Self.declaredTypes(schema, in: spec.schemas)?.contains(.object) != true else {
                continue
            }
            let isArray = Self.declaredTypes(schema, in: spec.schemas)?.contains(.array) ?? false
            if isArray {
                // `?tag=a&tag=b` or `?tag=a,b`: the items' schema for each.
                // Around a header list's commas (`X-Ids: 1, 2`) spaces are optional (RFC 9110 §5.6.1).
                let parts = values.flatMap {
                    $0.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces) }
                }
                validator.check(
                    .array(parts.map { Self.typed($0, like: Self.itemSchema(schema, in: spec.schemas), in: spec.schemas) }),
                    schema: schema, location: location)
            } else {
                validator.check(Self.typed(values[0], like: schema, in: spec.schemas), schema: schema, location: location)
            }
        }
        violations += validator.violations
        exhausted = exhausted || validator.isExhausted
    }

    /// The text of a path parameter, from the path's segment in its place.
    private func pathValue(of name: String, in operation: OpenAPISpec.Operation, path: String) -> String? {
        guard
            let position = operation.segments.firstIndex(where: { segment in
                if case let .parameter(_, _, parameter) = segment { parameter == name } else { false }
            }), case let .parameter(prefix, suffix, _) = operation.segments[position]
        else { return nil }
        var segments = path.split(separator: "/")
        if segments.count != operation.segments.count {
            guard let base = spec.basePaths.first(where: { path.hasPrefix($0 + "/") }) else { return nil }
            segments = path.dropFirst(base.count).split(separator: "/")
        }
        guard segments.count == operation.segments.count, segments[position].count >= prefix.count + suffix.count else {
            return nil
        }
        // A path's `+` is a plus (`2024-01-01T00:00:00+01:00`), not a space as in a query.
        return SpecSchemaCompiler.percentDecoded(segments[position].dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// A parameter's text as the JSON value its schema reads it as: a
    /// boolean or a number where the schema allows one and the text is one,
    /// a string otherwise.
    static func typed(_ text: String, like schema: Int?, in schemas: [SpecSchema]) -> JSONValue {
        let types = schema.flatMap { declaredTypes($0, in: schemas) } ?? [.boolean, .integer, .number, .string]
        if types.contains(.boolean), text == "true" || text == "false" { return .bool(text == "true") }
        if !types.isDisjoint(with: [.integer, .number]), !text.isEmpty, text.utf8.count <= 40,
            text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E || $0 | 0x20 == 0x65 || $0 == 0x2B }),
            (try? JSONParser.parse(Array(text.utf8))) != nil
        {
            return .number(text)
        }
        return .string(text)
    }

    /// The types schema `index` declares (through its `$ref`s); `nil` when any.
    static func declaredTypes(_ index: Int, in schemas: [SpecSchema]) -> JSONTypes? {
        var index = index
        for _ in 0..<SpecSchemaCompiler.maxReferenceChain {
            guard schemas.indices.contains(index) else { return nil }
            if let types = schemas[index].types { return types }
            guard let next = schemas[index].reference else { return nil }
            index = next
        }
        return nil
    }

    static func itemSchema(_ index: Int, in schemas: [SpecSchema]) -> Int? {
        var index = index
        for _ in 0..<SpecSchemaCompiler.maxReferenceChain {
            guard schemas.indices.contains(index) else { return nil }
            if let items = schemas[index].items { return items }
            guard let next = schemas[index].reference else { return nil }
            index = next
        }
        return nil
    }

    // MARK: Bodies

    /// A `Content-Type`'s `type/subtype`, lowercased, without parameters; empty when missing.
    static func essence(_ value: String?) -> String {
        guard let value else { return "" }
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(type.trimmingSpaces.prefix(200)).lowercased()
    }

    func checkRequestBody(
        _ operation: OpenAPISpec.Operation, record: ExchangeRecord, into violations: inout [SpecValidator.Violation],
        exhausted: inout Bool
    ) {
        let body = record.requestBody
        guard let expected = operation.requestBody else {
            if body.size > 0 { violations.append(.init(rule: "undocumented_body", location: "request")) }
            return
        }
        guard body.size > 0 else {
            if expected.isRequired { violations.append(.init(rule: "missing_body", location: "request")) }
            return
        }
        checkBody(
            body, headers: record.request.headers, content: expected.content, place: "request", isRequest: true,
            into: &violations, exhausted: &exhausted)
    }

    func checkResponse(
        _ operation: OpenAPISpec.Operation, record: ExchangeRecord, into violations: inout [SpecValidator.Violation],
        exhausted: inout Bool
    ) {
        guard let response = record.response else { return }
        let status = response.status
        let entry =
            operation.responses.first { $0.status == .exact(status) }
            ?? operation.responses.first { $0.status == .range(status / 100) }
            ?? operation.responses.first { $0.status == .default }
        guard let entry else {
            // A 304 is the cache's answer to a conditional GET (an ETag middleware's), not the API's.
            if status != 304 { violations.append(.init(rule: "undocumented_status", location: "response \(status)")) }
            return
        }
        // A HEAD's answer and a 204/304 carry no body whatever the spec says of GET's.
        guard record.responseBody.size > 0, record.request.method != "HEAD" else { return }
        guard !entry.content.isEmpty else {
            violations.append(.init(rule: "undocumented_body", location: "response \(status)"))
            return
        }
        checkBody(
            record.responseBody, headers: response.headers, content: entry.content, place: "response \(status)", isRequest: false,
            into: &violations, exhausted: &exhausted)
    }

    private func checkBody(
        _ body: CapturedBody, headers: HeaderFields, content: [OpenAPISpec.Media], place: String, isRequest: Bool,
        into violations: inout [SpecValidator.Violation], exhausted: inout Bool
    ) {
        // The spec's ranges are matched against the type as sent (a vendor's
        // `application/vnd.acme.v20240101+json` included); a type it does not
        // list is named as discovery names it (a made-up one as
        // application/octet-stream), so that a client cannot fill the findings with types.
        let sent = Self.essence(headers["content-type"])
        let slash = sent.firstIndex(of: "/") ?? sent.endIndex
        let media =
            content.first { $0.range == sent }
            ?? content.first { $0.range == sent[..<slash] + "/*" }
            ?? content.first { $0.range == "*/*" }
        guard let media else {
            var named = ""
            MediaType.withEssence(of: headers, named: "content-type") { named = String(decoding: $0, as: UTF8.self) }
            violations.append(.init(rule: "undocumented_media_type", location: "\(place) \(named)"))
            return
        }
        var text = sent
        let isJSON = text.withUTF8 { MediaType.isJSON($0) }
        // Places are named by the spec's range, not the type sent.
        let essence = media.range
        let encoding = headers["content-encoding"]
        // Only a whole JSON body, kept and not compressed, is read (as discovery reads it).
        guard isJSON, let schema = media.schema, !body.bytes.isEmpty, !body.isTruncated, body.bytes.count == body.size,
            body.bytes.count <= Self.maxValidatedBytes, encoding == nil || encoding?.lowercased() == "identity"
        else { return }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body.bytes)
        } catch .tooDeep {
            // Valid, but deeper than is parsed: not checked, counted as cut short.
            exhausted = true
            return
        } catch {
            violations.append(.init(rule: "invalid_json", location: "\(place) \(essence)"))
            return
        }
        var validator = SpecValidator(schemas: spec.schemas, isRequest: isRequest)
        validator.check(value, schema: schema, location: "\(place) \(essence) $")
        violations += validator.violations
        exhausted = exhausted || validator.isExhausted
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
