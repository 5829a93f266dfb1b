/// One schema of a team's OpenAPI document, compiled for validation: its
/// `$ref`s resolved to indices into ``OpenAPISpec/schemas``, so that a
/// recursive schema is a finite graph. The keywords it does not check
/// (`pattern`, `dependentSchemas`, `if`/`then`/`else`, `contains`,
/// `unevaluatedProperties`, `patternProperties`, `propertyNames`) are
/// counted in ``SpecSchemaCompiler/unchecked`` and pass.
struct SpecSchema: Sendable {
    /// What an object's members not listed in `properties` may be.
    enum Additional: Sendable {
        /// Anything (no `additionalProperties`, or `true`).
        case allowed
        /// Nothing (`additionalProperties: false`).
        case forbidden
        /// Values of a schema (a map).
        case schema(Int)
    }

    /// `false`, or `not: {}`: no value is valid.
    var isFalse = false
    /// The types allowed; `nil` when any is.
    var types: JSONTypes?
    /// The schema a `$ref` names (its siblings apply too, as in 3.1).
    var reference: Int?
    var properties: [String: Int] = [:]
    var required: [String] = []
    var additional = Additional.allowed
    /// Whether `additionalProperties` was written (a documented map).
    var declaresAdditional = false
    var items: Int?
    var prefixItems: [Int] = []
    var enumValues: [JSONValue]?
    var constValue: JSONValue?
    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?
    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    /// As written: checked on the digits, which a `Double` quotient gets
    /// wrong for large values (`1e308 / 0.5` overflows).
    var multipleOf: String?
    var minLength: Int?
    var maxLength: Int?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false
    var minProperties: Int?
    var maxProperties: Int?
    /// A string format checked (date-time, date, uuid, ipv4, ipv6).
    var format: StringFormats?
    /// The range an `int32` or `int64` format allows.
    var integerRange: ClosedRange<Double>?
    /// Sent by the server only: not required of requests.
    var isReadOnly = false
    /// Sent by clients only: not required of responses.
    var isWriteOnly = false
    /// 3.0's `nullable: true`: `null` passes whatever else the schema says.
    var isNullable = false
    /// An OpenAPI `discriminator`: `oneOf` branches may overlap.
    var hasDiscriminator = false
}

/// Compiles the schemas of an OpenAPI document (3.0 or 3.1) into
/// ``SpecSchema``s, following local `$ref`s (`#/components/schemas/Pet`).
/// A reference outside the document, or one that names nothing, passes
/// every value and is listed in ``notes``.
struct SpecSchemaCompiler {
    let root: JSONValue
    var schemas: [SpecSchema] = []
    /// Compiled targets of `$ref`s, by pointer (a cycle finds its own index).
    private var byPointer: [String: Int] = [:]
    /// What could not be followed, for the spec's notes.
    var notes: [String] = []
    /// Keywords met that are not checked, by name.
    var unchecked: Set<String> = []

    /// The most schemas one document compiles to.
    static let maxSchemas = 100_000
    /// The most `$ref`s followed in a row before giving up on a chain.
    static let maxReferenceChain = 32

    init(root: JSONValue) {
        self.root = root
    }

    /// Targets of `$ref`s reserved but not compiled yet: compiled in a loop,
    /// not by recursion, so that a chain of 50,000 references costs no stack.
    private var pending: [(value: JSONValue, index: Int)] = []
    private var isDraining = false

    /// The index of the schema `value`; schemas past ``maxSchemas`` pass everything.
    mutating func compile(_ value: JSONValue, depth: Int = 0) -> Int {
        let index = schemas.count
        schemas.append(SpecSchema())
        guard schemas.count <= Self.maxSchemas, depth < 64 else {
            if notes.count < Self.maxNotes { notes.append("schemas past \(Self.maxSchemas) (or nested past 64) are not checked") }
            return index
        }
        let drains = !isDraining
        isDraining = true
        schemas[index] = build(value, depth: depth)
        if drains {
            while let next = pending.popLast() { schemas[next.index] = build(next.value, depth: 0) }
            isDraining = false
        }
        return index
    }

    static let maxNotes = 20

    private mutating func build(_ value: JSONValue, depth: Int) -> SpecSchema {
        var schema = SpecSchema()
        switch value {
        case .bool(false):
            schema.isFalse = true
            return schema
        case let .object(members):
            for member in members { apply(member.key, member.value, to: &schema, depth: depth) }
            if case .bool(true)? = member("nullable", of: members) {
                schema.isNullable = true
                schema.types = schema.types?.union(.null)
            }
            if case .bool(true)? = member("exclusiveMinimum", of: members) {
                schema.exclusiveMinimum = schema.minimum; schema.minimum = nil
            }
            if case .bool(true)? = member("exclusiveMaximum", of: members) {
                schema.exclusiveMaximum = schema.maximum; schema.maximum = nil
            }
            return schema
        default:
            return schema
        }
    }

    private func member(_ name: String, of members: [JSONValue.Member]) -> JSONValue? {
        members.first { $0.key == name }?.value
    }

    private mutating func apply(_ key: String, _ value: JSONValue, to schema: inout SpecSchema, depth: Int) {
        switch key {
        case "$ref":
            if case let .string(pointer) = value { schema.reference = reference(pointer, chain: 0) }
        case "type":
            schema.types = Self.types(value)
        case "properties":
            guard case let .object(members) = value else { return }
            for member in members { schema.properties[member.key] = compile(member.value, depth: depth + 1) }
        case "required":
            guard case let .array(names) = value else { return }
            schema.required = names.compactMap { if case let .string(name) = $0 { name } else { nil } }
        case "additionalProperties":
            schema.declaresAdditional = true
            switch value {
            case .bool(false): schema.additional = .forbidden
            case .bool(true): schema.additional = .allowed
            default: schema.additional = .schema(compile(value, depth: depth + 1))
            }
        case "items":
            // 3.0 and 3.1 both take one schema; an array (draft 4 tuples) is prefixItems.
            if case let .array(tuple) = value {
                schema.prefixItems = tuple.map { compile($0, depth: depth + 1) }
            } else {
                schema.items = compile(value, depth: depth + 1)
            }
        case "prefixItems":
            if case let .array(tuple) = value { schema.prefixItems = tuple.map { compile($0, depth: depth + 1) } }
        case "enum":
            if case let .array(values) = value { schema.enumValues = values }
        case "const":
            schema.constValue = value
        case "allOf", "anyOf", "oneOf":
            guard case let .array(branches) = value else { return }
            let compiled = branches.map { compile($0, depth: depth + 1) }
            switch key {
            case "allOf": schema.allOf = compiled
            case "anyOf": schema.anyOf = compiled
            default: schema.oneOf = compiled
            }
        case "not":
            schema.not = compile(value, depth: depth + 1)
        case "minimum": schema.minimum = Self.number(value)
        case "maximum": schema.maximum = Self.number(value)
        // 3.0 writes `exclusiveMinimum: true` beside `minimum` (handled after all members).
        case "exclusiveMinimum": schema.exclusiveMinimum = Self.number(value)
        case "exclusiveMaximum": schema.exclusiveMaximum = Self.number(value)
        case "multipleOf":
            if case let .number(text) = value, let step = Double(text), step > 0 { schema.multipleOf = text }
        case "minLength": schema.minLength = Self.count(value)
        case "maxLength": schema.maxLength = Self.count(value)
        case "minItems": schema.minItems = Self.count(value)
        case "maxItems": schema.maxItems = Self.count(value)
        case "minProperties": schema.minProperties = Self.count(value)
        case "maxProperties": schema.maxProperties = Self.count(value)
        case "uniqueItems": schema.uniqueItems = value == .bool(true)
        case "discriminator": schema.hasDiscriminator = true
        case "readOnly": schema.isReadOnly = value == .bool(true)
        case "writeOnly": schema.isWriteOnly = value == .bool(true)
        case "format":
            guard case let .string(format) = value else { return }
            switch format {
            case "date-time": schema.format = .dateTime
            case "date": schema.format = .date
            case "uuid": schema.format = .uuid
            // Not asserted: discovery's shapes for these are narrower than
            // RFC 5321 and RFC 3986 (quoted local parts, address literals,
            // tel: and news: URIs), and the JSON Schema Test Suite's valid
            // instances of them would be reported on conforming traffic.
            case "email", "uri": break
            case "ipv4": schema.format = .ipv4
            case "ipv6": schema.format = .ipv6
            case "int32": schema.integerRange = -2_147_483_648...2_147_483_647
            // Int64.max is no Double: its nearest, 2^63, is what a body's
            // 9223372036854775807 reads as, so it is in.
            case "int64": schema.integerRange = Double(Int64.min)...Double(Int64.max)
            default: break
            }
        case "pattern", "patternProperties", "propertyNames", "dependentSchemas", "dependentRequired", "if", "then", "else",
            "contains", "minContains", "maxContains", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef":
            unchecked.insert(key)
        default:
            break
        }
    }

    /// The schema a `$ref` names, compiled once; `nil` (anything passes)
    /// when it cannot be followed.
    private mutating func reference(_ pointer: String, chain: Int) -> Int? {
        if let known = byPointer[pointer] { return known }
        guard let target = resolveIndexed(pointer) else {
            if notes.count < Self.maxNotes {
                notes.append("$ref \(Self.quoted(pointer)) is not followed: only references inside the document are")
            }
            return nil
        }
        // Reserved before compiling, so that a schema that refers to itself finds its index.
        let index = schemas.count
        schemas.append(SpecSchema())
        byPointer[pointer] = index
        guard schemas.count <= Self.maxSchemas else { return index }
        pending.append((target, index))
        return index
    }

    /// Objects that references name members of (`#/components/schemas`),
    /// by their decoded pointer, as maps: a document of 50,000 schemas
    /// resolves each reference in constant time, not by a scan of them all.
    private var indexed: [String: [String: JSONValue]] = [:]

    /// ``resolve(_:in:)`` through ``indexed`` for the last step.
    private mutating func resolveIndexed(_ pointer: String) -> JSONValue? {
        guard pointer.hasPrefix("#") else { return nil }
        let fragment = Self.percentDecoded(pointer.dropFirst())
        guard let slash = fragment.lastIndex(of: "/") else { return Self.resolve(pointer, in: root) }
        let parent = String(fragment[..<slash])
        if indexed[parent] == nil {
            guard case let .object(members)? = Self.resolve(decoded: parent, in: root) else {
                return Self.resolve(pointer, in: root)
            }
            // The first of repeated keys, as `resolve` finds it.
            indexed[parent] = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        return indexed[parent]?[Self.unescaped(fragment[fragment.index(after: slash)...])]
    }

    /// The value a local reference (`#/a/b~1c`) names in `root`.
    static func resolve(_ pointer: String, in root: JSONValue) -> JSONValue? {
        guard pointer.hasPrefix("#") else { return nil }
        return resolve(decoded: Self.percentDecoded(pointer.dropFirst()), in: root)
    }

    /// The value a percent-decoded pointer (`/a/b~1c`, or empty for the root) names in `root`.
    static func resolve(decoded fragment: String, in root: JSONValue) -> JSONValue? {
        guard fragment.isEmpty || fragment.hasPrefix("/") else { return nil }
        var value = root
        for token in fragment.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let name = unescaped(token)
            switch value {
            case let .object(members):
                guard let found = members.first(where: { $0.key == name }) else { return nil }
                value = found.value
            case let .array(elements):
                guard let position = Int(name), elements.indices.contains(position) else { return nil }
                value = elements[position]
            default:
                return nil
            }
        }
        return value
    }

    /// A URI fragment or path segment percent-decoded; `+` stays `+` (it
    /// is a space only in a query). Malformed escapes stay as they were.
    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let high = URLTarget.hexValue(utf8[index + 1]), let low = URLTarget.hexValue(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A pointer's token with `~1` as `/` and `~0` as `~` (RFC 6901 §4).
    static func unescaped(_ token: Substring) -> String {
        guard token.contains("~") else { return String(token) }
        var name = ""
        var escaping = false
        for character in token {
            if escaping {
                name.append(character == "1" ? "/" : character == "0" ? "~" : character)
                escaping = false
            } else if character == "~" {
                escaping = true
            } else {
                name.append(character)
            }
        }
        return name
    }

    /// Follows `$ref` members (of a parameter, a response, a request body)
    /// until a value without one; `nil` when a reference names nothing or
    /// the chain is longer than ``maxReferenceChain``.
    static func dereference(_ value: JSONValue, in root: JSONValue) -> JSONValue? {
        var value = value
        for _ in 0..<maxReferenceChain {
            guard case let .object(members) = value, let ref = members.first(where: { $0.key == "$ref" }) else { return value }
            guard case let .string(pointer) = ref.value, let target = resolve(pointer, in: root) else { return nil }
            value = target
        }
        return nil
    }

    static func types(_ value: JSONValue) -> JSONTypes? {
        func type(_ name: String) -> JSONTypes {
            switch name {
            case "null": .null
            case "boolean": .boolean
            case "integer": .integer
            case "number": [.number, .integer]
            case "string": .string
            case "object": .object
            case "array": .array
            default: []
            }
        }
        switch value {
        case let .string(name): return type(name)
        case let .array(names):
            return names.reduce(into: JSONTypes()) { types, name in
                if case let .string(name) = name { types.formUnion(type(name)) }
            }
        default: return nil
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        if case let .number(text) = value { Double(text) } else { nil }
    }

    private static func count(_ value: JSONValue) -> Int? {
        guard case let .number(text) = value, let number = Double(text), number >= 0, number < 1e15 else { return nil }
        return Int(number)
    }

    /// A pointer as the notes quote it: at most 100 characters, on one line.
    static func quoted(_ text: String) -> String {
        let line = text.prefix(100).map { $0.isNewline ? " " : $0 }
        return "\"" + String(line) + (text.count > 100 ? "…" : "") + "\""
    }
}
