/// Folds one JSON document into a ``JSONShape`` in one pass over its
/// bytes, without building it: types, string formats, members and their
/// presence, array items. Values are looked at and forgotten.
///
/// The grammar is checked as the scan goes (structure, strings, numbers,
/// literals, nothing after the value, the parser's nesting limit): bytes
/// that are not JSON are reported as such, and what was folded before the
/// fault stays folded, as a client could have sent it as JSON. UTF-8 is not
/// checked: values are looked at for their shape only, and names are
/// decoded with replacement.
struct JSONShapeScanner {
    private let base: UnsafePointer<UInt8>
    private let count: Int
    private let limits: JSONShapeLimits
    private var offset = 0
    /// Whether the document taught the shape something new: a type, a
    /// member, a member no longer in every object, a narrower format.
    private(set) var changed = false
    /// Whether changes are reported (past an operation's first calls,
    /// whose every member would otherwise be "new").
    private let reportsChanges: Bool
    /// Member indices from the root to the value being folded; -1 for items.
    private let pathBase: UnsafeMutablePointer<Int>
    private var pathCount = 0
    /// The most steps a path takes: the parser's nesting limit, and one.
    static let maxPath = JSONParser.defaultMaxDepth + 2
    /// What changed, where: new members, new types, members gone optional or missing.
    private(set) var changes: [ShapeChange] = []
    /// This call's number: a member counts once per call, however often the
    /// document repeats it.
    private let call: UInt64
    /// Places (members, array items) the fold may still add: the body's and
    /// the learner's budgets, so that no stream of new names grows memory
    /// without end.
    private var budget: Int
    /// Places added less those given up (a member seen once, replaced).
    private(set) var added = 0

    /// Folds `bytes` into `shape`; returns whether they were JSON, and
    /// whether the shape changed.
    static func fold(
        _ bytes: [UInt8], into shape: inout JSONShape, limits: JSONShapeLimits, call: UInt64, budget: Int = .max
    ) -> (isJSON: Bool, changed: Bool) {
        let result = fold(bytes, into: &shape, limits: limits, call: call, budget: budget, reportingChanges: false)
        return (result.isJSON, result.changed)
    }

    /// ``fold(_:into:limits:)``, with the changes found when `reportingChanges`.
    static func fold(
        _ bytes: [UInt8], into shape: inout JSONShape, limits: JSONShapeLimits, call: UInt64, budget: Int, reportingChanges: Bool
    ) -> (isJSON: Bool, changed: Bool, changes: [ShapeChange], added: Int) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return (false, false, [], 0) }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxPath) { steps in
                guard let pathBase = steps.baseAddress else { return (false, false, [], 0) }
                var scanner = JSONShapeScanner(
                    base: base, count: buffer.count, limits: limits, reportsChanges: reportingChanges, call: call, budget: budget,
                    pathBase: pathBase)
                if buffer.count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { scanner.offset = 3 }
                scanner.skipWhitespace()
                var isJSON = scanner.value(into: &shape, depth: 0)
                scanner.skipWhitespace()
                isJSON = isJSON && scanner.offset == buffer.count
                return (isJSON, scanner.changed, scanner.changes, scanner.added)
            }
        }
    }

    private init(
        base: UnsafePointer<UInt8>, count: Int, limits: JSONShapeLimits, reportsChanges: Bool, call: UInt64, budget: Int,
        pathBase: UnsafeMutablePointer<Int>
    ) {
        self.pathBase = pathBase
        self.call = call
        // Far from Int's edges: places given back are added to it.
        self.budget = min(max(0, budget), 1 << 40)
        self.base = base
        self.count = count
        self.limits = limits
        self.reportsChanges = reportsChanges
    }

    /// The member indices from the root to the value being folded.
    private var path: [Int] { Array(UnsafeBufferPointer(start: pathBase, count: pathCount)) }

    private mutating func push(_ step: Int) {
        if pathCount < Self.maxPath { pathBase[pathCount] = step }
        pathCount += 1
    }

    private mutating func pop() { pathCount -= 1 }

    /// Notes a change at the current path.
    private mutating func report(_ kind: APIChange.Kind, _ detail: String = "") {
        guard reportsChanges, changes.count < Self.maxChanges else { return }
        changes.append(ShapeChange(kind: kind, path: path, detail: detail))
    }

    /// The most changes one document reports.
    static let maxChanges = 32
    /// Objects in a row without a member that was in (nearly) all of them
    /// before, after which it is reported gone.
    static let goneAfter = 10

    private var current: UInt8 { offset < count ? base[offset] : 0 }

    private mutating func skipWhitespace() {
        while offset < count, base[offset] == 0x20 || base[offset] == 0x0A || base[offset] == 0x0D || base[offset] == 0x09 {
            offset += 1
        }
    }

    private mutating func add(_ type: JSONTypes, to shape: inout JSONShape) {
        let wasConfirmed = shape.count >= 2
        shape.count += 1
        if !shape.types.contains(type) {
            let before = shape.types
            shape.types.insert(type)
            changed = true
            if wasConfirmed {
                report(.typeChanged, "\(before.names.joined(separator: ", ")) → \(shape.types.names.joined(separator: ", "))")
            }
        }
    }

    /// Folds the value at `offset`; false when the bytes are not JSON.
    private mutating func value(into shape: inout JSONShape, depth: Int) -> Bool {
        guard depth <= JSONParser.defaultMaxDepth else { return false }
        switch current {
        case 0x7B:
            add(.object, to: &shape)
            shape.objects += 1
            if depth >= limits.maxDepth {
                if !shape.isCut { shape.isCut = true; changed = true }
                return skipValue(depth: depth)
            }
            return object(into: &shape, depth: depth)
        case 0x5B:
            add(.array, to: &shape)
            if depth >= limits.maxDepth {
                if !shape.isCut { shape.isCut = true; changed = true }
                return skipValue(depth: depth)
            }
            return array(into: &shape, depth: depth)
        case 0x22:
            guard let (start, end) = stringBounds() else { return false }
            add(.string, to: &shape)
            if shape.formats != [] {
                let formats = StringFormats.of(UnsafeBufferPointer(start: base + start, count: end - start))
                let narrowed = shape.formats.intersection(formats)
                if narrowed != shape.formats {
                    shape.formats = narrowed
                    changed = true
                }
            }
            return true
        case 0x74, 0x66, 0x6E:
            let literal: StaticString = current == 0x74 ? "true" : (current == 0x66 ? "false" : "null")
            guard let end = JSONGrammar.literalEnd(literal, in: UnsafeBufferPointer(start: base, count: count), from: offset)
            else { return false }
            add(current == 0x6E ? .null : .boolean, to: &shape)
            offset = end
            return true
        default:
            return number(into: &shape)
        }
    }

    private mutating func number(into shape: inout JSONShape) -> Bool {
        let start = offset
        guard let end = JSONGrammar.numberEnd(UnsafeBufferPointer(start: base, count: count), from: start) else { return false }
        offset = end
        var isInteger = true
        for index in start..<end where base[index] == 0x2E || base[index] | 0x20 == 0x65 { isInteger = false }
        guard isInteger else {
            add(.number, to: &shape)
            return true
        }
        add(.integer, to: &shape)
        // Wider than 32 bits: ten digits or more, outside Int32.
        let negative = base[start] == 0x2D
        let digits = end - start - (negative ? 1 : 0)
        if digits >= 10, !shape.isWide {
            var value: Int64 = 0
            let overflow = digits > 18
            if !overflow {
                for index in (end - digits)..<end { value = value * 10 + Int64(base[index] - 0x30) }
            }
            if negative { value = -value }
            if overflow || value > Int64(Int32.max) || value < Int64(Int32.min) {
                shape.isWide = true
                changed = true
            }
        }
        return true
    }

    /// The bytes between the quotes of the string at `offset`; moves past
    /// it. `nil` when it is not a JSON string (unterminated, a control
    /// character, an escape JSON does not have).
    private mutating func stringBounds() -> (Int, Int)? {
        guard current == 0x22 else { return nil }
        offset += 1
        let start = offset
        while offset < count {
            let byte = base[offset]
            if byte == 0x22 {
                offset += 1
                return (start, offset - 1)
            }
            if byte < 0x20 { return nil }
            if byte == 0x5C {
                guard offset + 1 < count else { return nil }
                switch base[offset + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: offset += 2
                case 0x75:
                    guard offset + 5 < count else { return nil }
                    for index in (offset + 2)...(offset + 5) where !Self.isHex(base[index]) { return nil }
                    offset += 6
                default: return nil
                }
                continue
            }
            offset += 1
        }
        return nil
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }

    private mutating func object(into shape: inout JSONShape, depth: Int) -> Bool {
        offset += 1
        var seen: UInt64 = 0
        var hint = 0
        skipWhitespace()
        if current == 0x7D {
            offset += 1
        } else {
            while true {
                skipWhitespace()
                guard let (start, end) = stringBounds() else { return false }
                skipWhitespace()
                guard current == 0x3A else { return false }
                offset += 1
                skipWhitespace()
                let key = UnsafeBufferPointer(start: base + start, count: end - start)
                if let index = shape.propertyIndex(key, hint: hint), index >= 64 || seen & (1 << UInt64(index)) == 0 {
                    hint = index + 1
                    if index < 64 { seen |= 1 << UInt64(index) }
                    push(index)
                    if shape.properties[index].lastCall != call {
                        shape.properties[index].lastCall = call
                        shape.properties[index].calls += 1
                        // Its second call: from now on it is described.
                        if shape.properties[index].calls == 2 {
                            changed = true
                            report(.newField)
                        }
                    }
                    let run = shape.properties[index].missingRun
                    if run > 0 {
                        // Back after a short absence: it is optional now.
                        if shape.properties[index].wasRequired, run < Self.goneAfter { report(.fieldOptional) }
                        shape.properties[index].missingRun = 0
                    }
                    let isJSON = value(into: &shape.properties[index].shape, depth: depth + 1)
                    pop()
                    guard isJSON else { return false }
                } else if let index = shape.propertyIndex(key), index < 64 {
                    // A key the object already had: its value counts once, the first.
                    guard skipValue(depth: depth + 1) else { return false }
                } else if budget > 0, Self.isName(key, maxBytes: limits.maxNameBytes),
                    let index = shape.properties.count < limits.maxProperties
                        ? shape.properties.count : shape.properties.firstIndex(where: { !$0.isConfirmed })
                {
                    // The place it takes, and what a member it replaces gave back.
                    let freed = index < shape.properties.count ? 1 + shape.properties[index].shape.nodeCount : 0
                    budget += freed - 1
                    added += 1 - freed
                    // A new member (in place of one seen only once, when full):
                    // described once a second instance confirms it is a name.
                    var property = JSONShape.Property(
                        name: Self.decodedName(key), key: Array(key), shape: JSONShape(), calls: 1, lastCall: call)
                    push(index)
                    let isJSON = value(into: &property.shape, depth: depth + 1)
                    pop()
                    guard isJSON else { return false }
                    if index == shape.properties.count {
                        shape.properties.append(property)
                    } else {
                        shape.properties[index] = property
                    }
                    if index < 64 { seen |= 1 << UInt64(index) }
                } else {
                    if !shape.hasOtherProperties { shape.hasOtherProperties = true; changed = true }
                    guard skipValue(depth: depth + 1) else { return false }
                }
                skipWhitespace()
                if current == 0x2C {
                    offset += 1
                    continue
                }
                guard current == 0x7D else { return false }
                offset += 1
                break
            }
        }
        // A member that was in every object before and is missing from this one is now optional;
        // missing from the last goneAfter objects, after being in nearly all before, it is gone.
        for index in shape.properties.indices where index >= 64 || seen & (1 << UInt64(index)) == 0 {
            guard shape.properties[index].isConfirmed else { continue }
            let present = shape.properties[index].shape.count
            if shape.properties[index].missingRun == 0 {
                shape.properties[index].wasRequired = present == shape.objects - 1
                if shape.properties[index].wasRequired { changed = true }
            }
            shape.properties[index].missingRun += 1
            let run = shape.properties[index].missingRun
            if run == Self.goneAfter, present * 10 >= (shape.objects - run) * 9 {
                push(index)
                report(.fieldGone)
                pop()
            }
        }
        return true
    }

    private mutating func array(into shape: inout JSONShape, depth: Int) -> Bool {
        if shape.items.isEmpty, budget <= 0 {
            // No place left for its items: checked, not described.
            if !shape.isCut { shape.isCut = true; changed = true }
            return skipValue(depth: depth)
        }
        offset += 1
        skipWhitespace()
        if current == 0x5D {
            offset += 1
            return true
        }
        if shape.items.isEmpty {
            budget -= 1
            added += 1
            shape.items = [JSONShape()]
            changed = true
        }
        while true {
            skipWhitespace()
            push(-1)
            let isJSON = value(into: &shape.items[0], depth: depth + 1)
            pop()
            guard isJSON else { return false }
            skipWhitespace()
            if current == 0x2C {
                offset += 1
                continue
            }
            guard current == 0x5D else { return false }
            offset += 1
            return true
        }
    }

    /// Moves past the value at `offset`, checking it, folding nothing.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= JSONParser.defaultMaxDepth else { return false }
        switch current {
        case 0x7B, 0x5B:
            let isObject = current == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            offset += 1
            skipWhitespace()
            if current == close {
                offset += 1
                return true
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard stringBounds() != nil else { return false }
                    skipWhitespace()
                    guard current == 0x3A else { return false }
                    offset += 1
                    skipWhitespace()
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if current == 0x2C {
                    offset += 1
                    continue
                }
                guard current == close else { return false }
                offset += 1
                return true
            }
        case 0x22:
            return stringBounds() != nil
        case 0x74, 0x66, 0x6E:
            let literal: StaticString = current == 0x74 ? "true" : (current == 0x66 ? "false" : "null")
            guard let end = JSONGrammar.literalEnd(literal, in: UnsafeBufferPointer(start: base, count: count), from: offset)
            else { return false }
            offset = end
            return true
        default:
            guard let end = JSONGrammar.numberEnd(UnsafeBufferPointer(start: base, count: count), from: offset) else {
                return false
            }
            offset = end
            return true
        }
    }

    /// Whether a member's name reads as a name, not as data a client made
    /// up (an id, an email, a number, a long token): those make the
    /// object a map, described by `additionalProperties`. A name that
    /// passes is still described only from its second instance on (see
    /// ``JSONShape/Property/isConfirmed``): a token made up for one call
    /// never reaches the document.
    static func isName(_ key: UnsafeBufferPointer<UInt8>, maxBytes: Int) -> Bool {
        guard !key.isEmpty, key.count <= maxBytes else { return false }
        var digits = 0, letters = 0, upper = 0, lower = 0, humps = 0
        var previousIsLower = false
        for byte in key {
            if byte >= 0x30 && byte <= 0x39 {
                digits += 1
                previousIsLower = false
            } else if byte >= 0x61 && byte <= 0x7A {
                letters += 1
                lower += 1
                previousIsLower = true
            } else if byte >= 0x41 && byte <= 0x5A {
                letters += 1
                upper += 1
                if previousIsLower { humps += 1 }
                previousIsLower = false
            } else if byte == 0x5F || byte == 0x2D || byte == 0x2E || byte == 0x24 || byte == 0x20 {
                previousIsLower = false
            } else {
                // Escapes, non-ASCII text, punctuation: not a name a schema would use.
                return false
            }
        }
        // All digits, many digits (hashes, ids), or none of the letters: data.
        if letters == 0 || digits * 2 >= key.count || digits > 6 { return false }
        // A long run of mixed case with digits, or case flipping more than words do: a token.
        if key.count >= 16, digits > 0, upper > 0, lower > 0, humps * 4 > key.count { return false }
        if digits >= 3, upper > 0, lower > 0, key.count >= 12 { return false }
        return StringFormats.of(key).isEmpty
    }

    /// The name with its escapes decoded (names with escapes are rare).
    static func decodedName(_ key: UnsafeBufferPointer<UInt8>) -> String {
        guard key.contains(0x5C) else { return String(decoding: key, as: UTF8.self) }
        var quoted: [UInt8] = [0x22]
        quoted.append(contentsOf: key)
        quoted.append(0x22)
        if case let .string(text)? = try? JSONParser.parse(quoted) { return text }
        return String(decoding: key, as: UTF8.self)
    }
}
