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
    /// The schemas while ``check(_:schema:location:)`` runs: read in place,
    /// a schema is never copied (with its arrays and maps, a copy is a
    /// dozen reference counts a value).
    private var buffer = UnsafeBufferPointer<SpecSchema>(start: nil, count: 0)
    /// Where the value being checked is, below the checked value's root;
    /// written out only for a violation.
    private var path: [Step] = []
    private var location = ""
    /// Above zero inside a branch of `anyOf`, `oneOf` or `not`, which is tried quietly.
    private var quiet = 0

    static let maxSteps = 20_000
    static let maxViolations = 8

    /// A rule broken and where.
    struct Violation: Sendable, Hashable {
        var rule: String
        var location: String
    }

    private enum Step {
        /// A member the schema declares.
        case declared(String)
        /// A member it does not: written only when it reads as a name.
        case undeclared(String)
        case items
        /// A value of a map (`additionalProperties` with a schema).
        case mapValue
    }

    init(schemas: [SpecSchema], isRequest: Bool) {
        self.schemas = schemas
        self.isRequest = isRequest
    }

    /// Checks `value` against schema `index`, recording what it breaks under `location`.
    mutating func check(_ value: JSONValue, schema index: Int, location: String) {
        self.location = location
        path.removeAll(keepingCapacity: true)
        let schemas = self.schemas
        schemas.withUnsafeBufferPointer { buffer in
            self.buffer = buffer
            _ = validate(value, index, depth: 0)
        }
        buffer = UnsafeBufferPointer(start: nil, count: 0)
    }

    private mutating func record(_ rule: String, member: String? = nil) {
        guard quiet == 0, violations.count < Self.maxViolations else { return }
        var text = location
        for step in path {
            switch step {
            case let .declared(name): text += "." + name
            case let .undeclared(name): text += "." + Self.displayName(name)
            case .items: text += "[]"
            case .mapValue: text += ".*"
            }
        }
        if let member { text += "." + member }
        let violation = Violation(rule: rule, location: text)
        if !violations.contains(violation) { violations.append(violation) }
    }

    /// Whether `value` passes schema `index`; what it breaks is recorded
    /// unless inside a quiet branch.
    private mutating func validate(_ value: JSONValue, _ index: Int, depth: Int) -> Bool {
        steps += 1
        guard steps <= Self.maxSteps, depth < 128, index >= 0, index < buffer.count else {
            isExhausted = true
            return true
        }
        if buffer[index].isNullable, case .null = value { return true }
        if buffer[index].isFalse {
            record("not")
            return false
        }
        var valid = true
        if let reference = buffer[index].reference {
            valid = validate(value, reference, depth: depth + 1)
        }
        let type = Self.type(of: value)
        if let types = buffer[index].types, !types.isEmpty, !types.contains(type) {
            record("type")
            return false
        }
        if buffer[index].enumValues != nil || buffer[index].constValue != nil {
            valid = checkConstants(value, index) && valid
        }
        switch value {
        case let .number(text): valid = checkNumber(text, isInteger: type == .integer, index) && valid
        case let .string(text): valid = checkString(text, index) && valid
        case let .array(items): valid = checkArray(items, index, depth: depth) && valid
        case let .object(members): valid = checkObject(members, index, depth: depth) && valid
        case .bool, .null: break
        }
        if !buffer[index].allOf.isEmpty || !buffer[index].anyOf.isEmpty || !buffer[index].oneOf.isEmpty
            || buffer[index].not != nil
        {
            valid = checkBranches(value, index, depth: depth) && valid
        }
        return valid
    }

    private mutating func checkConstants(_ value: JSONValue, _ index: Int) -> Bool {
        var valid = true
        if let values = buffer[index].enumValues, !values.contains(where: { equalCharged($0, value) }) {
            record("enum")
            valid = false
        }
        if let constant = buffer[index].constValue, !equalCharged(constant, value) {
            record("const")
            valid = false
        }
        return valid
    }

    private mutating func checkBranches(_ value: JSONValue, _ index: Int, depth: Int) -> Bool {
        var valid = true
        for branch in buffer[index].allOf { valid = validate(value, branch, depth: depth + 1) && valid }
        quiet += 1
        let anyOf = buffer[index].anyOf
        let anyFails = !anyOf.isEmpty && !anyOf.contains { validate(value, $0, depth: depth + 1) }
        var passing = 0
        for branch in buffer[index].oneOf where validate(value, branch, depth: depth + 1) {
            passing += 1
            if passing > 1 { break }
        }
        let notPasses = buffer[index].not.map { validate(value, $0, depth: depth + 1) } ?? false
        quiet -= 1
        if anyFails {
            record("any_of")
            valid = false
        }
        // With a `discriminator` the branches may overlap (a Cat is also a Pet): one that passes is enough.
        if !buffer[index].oneOf.isEmpty, passing == 0 || (passing > 1 && !buffer[index].hasDiscriminator) {
            record("one_of")
            valid = false
        }
        if notPasses {
            record("not")
            valid = false
        }
        return valid
    }

    private mutating func checkNumber(_ text: String, isInteger: Bool, _ index: Int) -> Bool {
        let minimum = buffer[index].minimum, maximum = buffer[index].maximum
        let exclusiveMinimum = buffer[index].exclusiveMinimum, exclusiveMaximum = buffer[index].exclusiveMaximum
        let integerRange = buffer[index].integerRange, multipleOf = buffer[index].multipleOf
        guard
            minimum != nil || maximum != nil || exclusiveMinimum != nil || exclusiveMaximum != nil || integerRange != nil
                || multipleOf != nil, let number = Double(text)
        else { return true }
        var valid = true
        if let minimum, number < minimum { record("minimum"); valid = false }
        if let maximum, number > maximum { record("maximum"); valid = false }
        if let exclusiveMinimum, number <= exclusiveMinimum { record("exclusive_minimum"); valid = false }
        if let exclusiveMaximum, number >= exclusiveMaximum { record("exclusive_maximum"); valid = false }
        if let integerRange, isInteger, !integerRange.contains(number) { record("format"); valid = false }
        if let stepText = multipleOf, let step = Double(stepText) {
            let isMultiple: Bool
            if let exact = Self.isMultiple(text, of: stepText) {
                isMultiple = exact
            } else {
                let quotient = number / step
                isMultiple = !quotient.isFinite || abs(quotient - quotient.rounded()) <= 1e-9 * max(1, abs(quotient))
            }
            if !isMultiple { record("multiple_of"); valid = false }
        }
        return valid
    }

    private mutating func checkString(_ text: String, _ index: Int) -> Bool {
        var valid = true
        let minLength = buffer[index].minLength, maxLength = buffer[index].maxLength
        if minLength != nil || maxLength != nil {
            let length = text.unicodeScalars.count
            if let minimum = minLength, length < minimum { record("min_length"); valid = false }
            if let maximum = maxLength, length > maximum { record("max_length"); valid = false }
        }
        if let format = buffer[index].format {
            var text = text
            let formats = text.withUTF8 { StringFormats.of($0) }
            if !formats.contains(format) { record("format"); valid = false }
        }
        return valid
    }

    private mutating func checkArray(_ items: [JSONValue], _ index: Int, depth: Int) -> Bool {
        var valid = true
        if let minimum = buffer[index].minItems, items.count < minimum { record("min_items"); valid = false }
        if let maximum = buffer[index].maxItems, items.count > maximum { record("max_items"); valid = false }
        let prefixItems = buffer[index].prefixItems
        let itemSchema = buffer[index].items
        if !prefixItems.isEmpty || itemSchema != nil {
            path.append(.items)
            for (position, item) in items.enumerated() {
                guard steps <= Self.maxSteps else { break }
                if position < prefixItems.count {
                    valid = validate(item, prefixItems[position], depth: depth + 1) && valid
                } else if let itemSchema {
                    valid = validate(item, itemSchema, depth: depth + 1) && valid
                }
            }
            path.removeLast()
        }
        if buffer[index].uniqueItems, items.count > 1 {
            // Pairs cost steps too: a long array of equal-looking items is bounded.
            outer: for first in items.indices {
                for second in items.indices where second > first {
                    steps += 1
                    guard steps <= Self.maxSteps else { break outer }
                    if equalCharged(items[first], items[second]) {
                        record("unique_items")
                        valid = false
                        break outer
                    }
                }
            }
        }
        return valid
    }

    private mutating func checkObject(_ members: [JSONValue.Member], _ index: Int, depth: Int) -> Bool {
        var valid = true
        if let minimum = buffer[index].minProperties, members.count < minimum { record("min_properties"); valid = false }
        if let maximum = buffer[index].maxProperties, members.count > maximum { record("max_properties"); valid = false }
        for name in buffer[index].required where !members.contains(where: { $0.key == name }) {
            // A member the other side only sends is not required of this one.
            if let property = buffer[index].properties[name], isOneSided(property) { continue }
            record("required", member: name)
            valid = false
        }
        let hasProperties = !buffer[index].properties.isEmpty
        for member in members {
            guard steps <= Self.maxSteps else { break }
            if hasProperties, let property = buffer[index].properties[member.key] {
                path.append(.declared(member.key))
                valid = validate(member.value, property, depth: depth + 1) && valid
                path.removeLast()
                continue
            }
            switch buffer[index].additional {
            case .allowed: break
            case .forbidden:
                path.append(.undeclared(member.key))
                record("additional_properties")
                path.removeLast()
                valid = false
            case let .schema(additional):
                // A map's keys are data (ids, names, emails): never written.
                path.append(.mapValue)
                valid = validate(member.value, additional, depth: depth + 1) && valid
                path.removeLast()
            }
        }
        return valid
    }

    /// Whether a property is readOnly in a request or writeOnly in a response (through its `$ref`s).
    private func isOneSided(_ index: Int) -> Bool {
        var index = index
        for _ in 0..<SpecSchemaCompiler.maxReferenceChain {
            guard index >= 0, index < buffer.count else { return false }
            if isRequest ? buffer[index].isReadOnly : buffer[index].isWriteOnly { return true }
            guard let next = buffer[index].reference else { return false }
            index = next
        }
        return false
    }

    /// A member name not declared: written when it reads as a name, `*` otherwise (it may be a value).
    static func displayName(_ name: String) -> String {
        var name = name
        // Stricter than discovery, which waits for a name's second call: no space, and a name as it reads.
        let isName = name.withUTF8 { bytes in
            !bytes.contains(0x20) && JSONShapeScanner.isName(bytes, maxBytes: 40)
        }
        return isName ? name : "*"
    }

    /// ``equal(_:_:)`` charged to the step budget, a step per value and per
    /// member compared: a client's two large lookalike items under
    /// `uniqueItems`, or a value against a long `enum`, cannot cost more
    /// than the budget. Past it, values count as different (the check passes).
    private mutating func equalCharged(_ left: JSONValue, _ right: JSONValue) -> Bool {
        steps += 1
        guard steps <= Self.maxSteps else {
            isExhausted = true
            return false
        }
        switch (left, right) {
        case let (.array(a), .array(b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where !equalCharged(x, y) { return false }
            return true
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for member in a {
                var found = false
                for other in b {
                    steps += 1
                    guard steps <= Self.maxSteps else {
                        isExhausted = true
                        return false
                    }
                    if other.key.unicodeScalars.elementsEqual(member.key.unicodeScalars) {
                        found = equalCharged(other.value, member.value)
                        break
                    }
                }
                if !found { return false }
            }
            return true
        default:
            return Self.equal(left, right)
        }
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
        guard let value = decimal(text), let divisor = decimal(step), !divisor.digits.isEmpty, divisor.digits.count <= 9 else {
            return nil
        }
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
            return a.count == b.count
                && a.allSatisfy { member in
                    b.contains { $0.key.unicodeScalars.elementsEqual(member.key.unicodeScalars) && equal($0.value, member.value) }
                }
        default: return left == right
        }
    }
}
