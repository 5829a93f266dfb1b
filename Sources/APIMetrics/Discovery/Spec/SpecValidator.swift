/// Checks a JSON value against a compiled schema of a team's spec and
/// names each rule it breaks and where (`response 200 application/json
/// $.items[].price`), never the value. A member's name is written when the
/// schema declares it or it reads as a name; otherwise `*`.
///
/// Bounded: ``maxSteps`` schema visits a value (a `oneOf` of `anyOf`s
/// cannot make it exponential), ``maxViolations`` recorded, 128 levels.
struct SpecValidator {
    let schemas: [SpecSchema]
    /// A request's value (readOnly members are not required) or a
    /// response's (writeOnly members are not required).
    let isRequest: Bool
    private(set) var violations: [Violation] = []
    /// Whether the budget ran out (the rest of the value passed unchecked).
    private(set) var isExhausted = false
    private var steps = 0

    static let maxSteps = 20_000
    static let maxViolations = 8

    /// A rule broken and where.
    struct Violation: Sendable, Hashable {
        var rule: String
        var location: String
    }

    init(schemas: [SpecSchema], isRequest: Bool) {
        self.schemas = schemas
        self.isRequest = isRequest
    }

    /// Checks `value` against schema `index`, recording what it breaks under `location`.
    mutating func check(_ value: JSONValue, schema index: Int, location: String) {
        _ = validate(value, index, location, depth: 0)
    }

    private mutating func record(_ rule: String, _ location: String?) {
        guard let location, violations.count < Self.maxViolations else { return }
        let violation = Violation(rule: rule, location: location)
        if !violations.contains(violation) { violations.append(violation) }
    }

    /// Whether `value` passes; what it breaks is recorded when `location`
    /// is not `nil` (branches of `anyOf`, `oneOf` and `not` are tried quietly).
    private mutating func validate(_ value: JSONValue, _ index: Int, _ location: String?, depth: Int) -> Bool {
        steps += 1
        guard steps <= Self.maxSteps, depth < 128, schemas.indices.contains(index) else {
            isExhausted = true
            return true
        }
        let schema = schemas[index]
        if schema.isNullable, value == .null { return true }
        if schema.isFalse {
            record("not", location)
            return false
        }
        var valid = true
        if let reference = schema.reference {
            valid = validate(value, reference, location, depth: depth + 1)
        }
        let type = Self.type(of: value)
        if let types = schema.types, !types.isEmpty, !types.contains(type) {
            record("type", location)
            return false
        }
        if let values = schema.enumValues, !values.contains(where: { Self.equal($0, value) }) {
            record("enum", location)
            valid = false
        }
        if let constant = schema.constValue, !Self.equal(constant, value) {
            record("const", location)
            valid = false
        }
        switch value {
        case let .number(text): valid = checkNumber(text, isInteger: type == .integer, schema, location) && valid
        case let .string(text): valid = checkString(text, schema, location) && valid
        case let .array(items): valid = checkArray(items, schema, location, depth: depth) && valid
        case let .object(members): valid = checkObject(members, schema, location, depth: depth) && valid
        case .bool, .null: break
        }
        for branch in schema.allOf { valid = validate(value, branch, location, depth: depth + 1) && valid }
        if !schema.anyOf.isEmpty, !schema.anyOf.contains(where: { validate(value, $0, nil, depth: depth + 1) }) {
            record("any_of", location)
            valid = false
        }
        if !schema.oneOf.isEmpty {
            var passing = 0
            for branch in schema.oneOf where validate(value, branch, nil, depth: depth + 1) {
                passing += 1
                if passing > 1 { break }
            }
            if passing != 1 {
                record("one_of", location)
                valid = false
            }
        }
        if let not = schema.not, validate(value, not, nil, depth: depth + 1) {
            record("not", location)
            valid = false
        }
        return valid
    }

    private mutating func checkNumber(_ text: String, isInteger: Bool, _ schema: SpecSchema, _ location: String?) -> Bool {
        guard let number = Double(text) else { return true }
        var valid = true
        if let minimum = schema.minimum, number < minimum { record("minimum", location); valid = false }
        if let maximum = schema.maximum, number > maximum { record("maximum", location); valid = false }
        if let minimum = schema.exclusiveMinimum, number <= minimum { record("exclusive_minimum", location); valid = false }
        if let maximum = schema.exclusiveMaximum, number >= maximum { record("exclusive_maximum", location); valid = false }
        if let range = schema.integerRange, isInteger, !range.contains(number) { record("format", location); valid = false }
        if let stepText = schema.multipleOf, let step = Double(stepText) {
            let isMultiple: Bool
            if let exact = Self.isMultiple(text, of: stepText) {
                isMultiple = exact
            } else {
                let quotient = number / step
                isMultiple = !quotient.isFinite || abs(quotient - quotient.rounded()) <= 1e-9 * max(1, abs(quotient))
            }
            if !isMultiple { record("multiple_of", location); valid = false }
        }
        return valid
    }

    private mutating func checkString(_ text: String, _ schema: SpecSchema, _ location: String?) -> Bool {
        var valid = true
        if schema.minLength != nil || schema.maxLength != nil {
            let length = text.unicodeScalars.count
            if let minimum = schema.minLength, length < minimum { record("min_length", location); valid = false }
            if let maximum = schema.maxLength, length > maximum { record("max_length", location); valid = false }
        }
        if let format = schema.format {
            var text = text
            let formats = text.withUTF8 { StringFormats.of($0) }
            if !formats.contains(format) { record("format", location); valid = false }
        }
        return valid
    }

    private mutating func checkArray(_ items: [JSONValue], _ schema: SpecSchema, _ location: String?, depth: Int) -> Bool {
        var valid = true
        if let minimum = schema.minItems, items.count < minimum { record("min_items", location); valid = false }
        if let maximum = schema.maxItems, items.count > maximum { record("max_items", location); valid = false }
        let itemLocation = location.map { $0 + "[]" }
        for (position, item) in items.enumerated() {
            guard steps <= Self.maxSteps else { break }
            if position < schema.prefixItems.count {
                valid = validate(item, schema.prefixItems[position], itemLocation, depth: depth + 1) && valid
            } else if let items = schema.items {
                valid = validate(item, items, itemLocation, depth: depth + 1) && valid
            }
        }
        if schema.uniqueItems, items.count > 1 {
            // Pairs cost steps too: a long array of equal-looking items is bounded.
            outer: for first in items.indices {
                for second in items.indices where second > first {
                    steps += 1
                    guard steps <= Self.maxSteps else { break outer }
                    if Self.equal(items[first], items[second]) {
                        record("unique_items", location)
                        valid = false
                        break outer
                    }
                }
            }
        }
        return valid
    }

    private mutating func checkObject(_ members: [JSONValue.Member], _ schema: SpecSchema, _ location: String?, depth: Int) -> Bool {
        var valid = true
        if let minimum = schema.minProperties, members.count < minimum { record("min_properties", location); valid = false }
        if let maximum = schema.maxProperties, members.count > maximum { record("max_properties", location); valid = false }
        for name in schema.required where !members.contains(where: { $0.key == name }) {
            // A member the other side only sends is not required of this one.
            if let property = schema.properties[name], isOneSided(property) { continue }
            record("required", location.map { $0 + "." + name })
            valid = false
        }
        for member in members {
            guard steps <= Self.maxSteps else { break }
            if let property = schema.properties[member.key] {
                valid = validate(member.value, property, location.map { $0 + "." + member.key }, depth: depth + 1) && valid
                continue
            }
            let memberLocation = location.map { $0 + "." + Self.displayName(member.key) }
            switch schema.additional {
            case .allowed: break
            case .forbidden:
                record("additional_properties", memberLocation)
                valid = false
            case let .schema(additional):
                valid = validate(member.value, additional, memberLocation, depth: depth + 1) && valid
            }
        }
        return valid
    }

    /// Whether a property is readOnly in a request or writeOnly in a response (through its `$ref`s).
    private func isOneSided(_ index: Int) -> Bool {
        var index = index
        for _ in 0..<SpecSchemaCompiler.maxReferenceChain {
            guard schemas.indices.contains(index) else { return false }
            let schema = schemas[index]
            if isRequest ? schema.isReadOnly : schema.isWriteOnly { return true }
            guard let next = schema.reference else { return false }
            index = next
        }
        return false
    }

    /// A member name not declared: written when it reads as a name, `*` otherwise (it may be a value).
    static func displayName(_ name: String) -> String {
        var name = name
        let isName = name.withUTF8 { JSONShapeScanner.isName($0, maxBytes: 40) }
        return isName ? name : "*"
    }

    /// The value's type; a number without a fraction is an integer (as JSON Schema says).
    static func type(of value: JSONValue) -> JSONTypes {
        switch value {
        case .null: return .null
        case .bool: return .boolean
        case .string: return .string
        case .array: return .array
        case .object: return .object
        case let .number(text):
            return isInteger(text) ? .integer : .number
        }
    }

    /// Whether a JSON number's text has no fraction, told from its digits
    /// rather than a `Double`, which cannot say for `1e308` (an integer) or
    /// `12345678901234567.5` (not one).
    ///
    /// Counts rather than calling ``decimal(_:)``: it runs for every number
    /// validated and allocates nothing.
    static func isInteger(_ text: String) -> Bool {
        var significand = 0, lastNonZero = 0, fractionDigits = 0, exponent = 0
        var inFraction = false, inExponent = false, negativeExponent = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: negativeExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    // Clamped: no body holds a billion fraction digits for it to matter.
                    exponent = min(exponent * 10 + Int(byte - UInt8(ascii: "0")), 1_000_000_000)
                } else {
                    significand += 1
                    if inFraction { fractionDigits += 1 }
                    if byte != UInt8(ascii: "0") { lastNonZero = significand }
                }
            default: break
            }
        }
        guard lastNonZero > 0 else { return true }
        // Trailing zeros of the digits move the point right, as the exponent does.
        let trailingZeros = significand - lastNonZero
        return (negativeExponent ? -exponent : exponent) - fractionDigits + trailingZeros >= 0
    }

    /// A JSON number's text as `digits × 10^exponent` (sign dropped), the
    /// digits without leading or trailing zeros (none for zero); `nil` when
    /// the exponent is written with more than nine digits.
    static func decimal(_ text: String) -> (digits: [UInt8], exponent: Int)? {
        var digits: [UInt8] = [], fractionDigits = 0, exponent = 0, exponentDigits = 0
        var inFraction = false, inExponent = false, negativeExponent = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: negativeExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = byte - UInt8(ascii: "0")
                if inExponent {
                    exponentDigits += 1
                    guard exponentDigits <= 9 else { return nil }
                    exponent = exponent * 10 + Int(digit)
                } else {
                    if inFraction { fractionDigits += 1 }
                    if digit != 0 || !digits.isEmpty { digits.append(digit) }
                }
            default: break
            }
        }
        var scale = (negativeExponent ? -exponent : exponent) - fractionDigits
        while digits.last == 0 {
            digits.removeLast()
            scale += 1
        }
        return (digits, digits.isEmpty ? 0 : scale)
    }

    /// Whether `text` is an integer multiple of `step`, exactly, on their
    /// digits; `nil` (the caller divides `Double`s) when the step has more
    /// than nine significant digits or either exponent is too long.
    static func isMultiple(_ text: String, of step: String) -> Bool? {
        guard let value = decimal(text), let divisor = decimal(step), !divisor.digits.isEmpty, divisor.digits.count <= 9 else { return nil }
        if value.digits.isEmpty { return true }
        // value / step = a × 10^shift / b; with a and b not ending in 0, a
        // negative shift leaves a fraction whatever b is.
        let shift = value.exponent - divisor.exponent
        guard shift >= 0 else { return false }
        let modulus = divisor.digits.reduce(0) { $0 * 10 + Int($1) }
        var remainder = value.digits.reduce(0) { ($0 * 10 + Int($1)) % modulus }
        // Times 10^shift, by squaring (the products stay below 10^18).
        var base = 10 % modulus, power = shift
        while power > 0, remainder != 0 {
            if power & 1 == 1 { remainder = remainder * base % modulus }
            base = base * base % modulus
            power >>= 1
        }
        return remainder == 0
    }

    /// JSON equality with numbers compared by value (`1.0` is `1`) and
    /// strings by code points: Swift's `==` finds "é" and "e\u{301}" equal
    /// (canonical equivalence), JSON Schema does not.
    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case let (.number(a), .number(b)): return a == b || (Double(a) != nil && Double(a) == Double(b))
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case let (.object(a), .object(b)):
            return a.count == b.count && a.allSatisfy { member in
                b.contains { $0.key.unicodeScalars.elementsEqual(member.key.unicodeScalars) && equal($0.value, member.value) }
            }
        default: return left == right
        }
    }
}
