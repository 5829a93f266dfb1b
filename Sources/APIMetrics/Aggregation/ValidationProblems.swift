/// One problem a validation error response lists.
struct ValidationProblem: Sendable, Hashable {
    var field: String
    var type: String
    var message: String
}

/// Reads the problems a 400 or 422 response's JSON body lists, in the
/// shapes frameworks use:
/// - `{"detail": [{"loc": ["body", "email"], "msg": "…", "type": "…"}]}`
///   (FastAPI, Pydantic);
/// - `{"errors": [{"field" | "path" | "param" | "source": {"pointer"}: …,
///   "type" | "code": …, "message" | "detail": …}]}` and
///   `{"errors": {"email": ["is invalid"]}}` (Rails, Laravel, JSON:API);
/// - `{"invalid-params": [{"name": "age", "reason": "…"}]}` (RFC 9457).
///
/// Anything else yields nothing. Bounded: at most ``maxProblems`` a
/// response, each text cut to ``maxTextBytes`` UTF-8 bytes (`…` included).
enum ValidationProblems {
    static let maxProblems = 20
    static let maxTextBytes = 200

    static func isValidationStatus(_ status: Int) -> Bool {
        status == 400 || status == 422
    }

    /// The problems the server reported for a processed call, or else
    /// those its response body lists: never both, which would count the
    /// same problems twice.
    static func of(_ record: ExchangeRecord) -> [ValidationProblem] {
        if !record.validationProblems.isEmpty { return record.validationProblems }
        guard let status = record.response?.status, isValidationStatus(status) else { return [] }
        return parse(record.responseBody.bytes)
    }

    static func parse(_ body: [UInt8]) -> [ValidationProblem] {
        guard let first = body.first(where: { !ASCII.isOptionalWhitespace($0) && $0 != 0x0A && $0 != 0x0D }),
            first == UInt8(ascii: "{"),
            case let .object(members)? = try? JSONParser.parse(body, maxDepth: 32)
        else { return [] }
        var problems: [ValidationProblem] = []
        for member in members {
            switch (member.key, member.value) {
            case let ("detail", .array(items)):
                for item in items { if let problem = pydantic(item) { problems.append(problem) } }
            case let ("errors", .array(items)):
                for item in items { if let problem = listed(item) { problems.append(problem) } }
            case let ("errors", .object(fields)):
                for field in fields {
                    let message: String
                    switch field.value {
                    case let .array(messages): message = messages.first.flatMap(text) ?? ""
                    default: message = text(field.value) ?? ""
                    }
                    problems.append(make(field: field.key, type: "invalid", message: message))
                }
            case let ("invalid-params", .array(items)), let ("invalid_params", .array(items)),
                let ("invalidParams", .array(items)):
                for item in items {
                    guard case let .object(fields) = item,
                        let name = fields.first(where: { $0.key == "name" }).flatMap({ text($0.value) })
                    else { continue }
                    let reason = fields.first { $0.key == "reason" }.flatMap { text($0.value) } ?? ""
                    problems.append(make(field: name, type: "invalid", message: reason))
                }
            default:
                continue
            }
            if problems.count >= maxProblems { break }
        }
        return Array(problems.prefix(maxProblems))
    }

    private static func pydantic(_ item: JSONValue) -> ValidationProblem? {
        guard case let .object(fields) = item else { return nil }
        guard let loc = fields.first(where: { $0.key == "loc" })?.value else { return nil }
        let field: String
        switch loc {
        case let .array(parts): field = path(parts)
        default: field = text(loc) ?? ""
        }
        let type = fields.first { $0.key == "type" }.flatMap { text($0.value) } ?? "invalid"
        let message = fields.first { $0.key == "msg" }.flatMap { text($0.value) } ?? ""
        return make(field: field, type: type, message: message)
    }

    private static func listed(_ item: JSONValue) -> ValidationProblem? {
        guard case let .object(fields) = item else { return nil }
        func value(_ names: [String]) -> JSONValue? {
            for name in names { if let found = fields.first(where: { $0.key == name }) { return found.value } }
            return nil
        }
        var field: String?
        switch value(["field", "path", "param", "parameter", "name", "loc", "source"]) {
        case let .array(parts)?: field = path(parts)
        case let .object(source)?:
            field = source.first { $0.key == "pointer" || $0.key == "parameter" }.flatMap { text($0.value) }
        case let other?: field = text(other)
        case nil: field = nil
        }
        guard let field else { return nil }
        let type = value(["type", "code", "rule", "kind"]).flatMap(text) ?? "invalid"
        let message = value(["message", "msg", "detail", "title", "description"]).flatMap(text) ?? ""
        return make(field: field, type: type, message: message)
    }

    /// `["body", "items", 0, "sku"]` → `body.items[0].sku`.
    private static func path(_ parts: [JSONValue]) -> String {
        var result = ""
        for part in parts {
            switch part {
            case let .number(digits): result += "[\(digits)]"
            default:
                if !result.isEmpty { result += "." }
                result += text(part) ?? ""
            }
        }
        return result
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case let .string(string): return string
        case let .number(digits): return digits
        case let .bool(flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    static func make(field: String, type: String, message: String) -> ValidationProblem {
        ValidationProblem(field: cut(field), type: cut(type), message: cut(message))
    }

    /// Cut at a character boundary, the `…` marker within the budget.
    private static func cut(_ text: String) -> String {
        TextLimit.cut(text, maxBytes: maxTextBytes)
    }
}
