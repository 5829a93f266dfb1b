extension YAMLReader {
    /// The longest octal or hexadecimal integer converted to decimal text: the
    /// conversion costs the square of the length.
    static let maxRadixDigits = 1_000

    mutating func countNode() throws(Failure) {
        nodes += 1
    }

    /// The node a scalar stands for, its tag and anchor applied.
    mutating func finish(scalar: Scalar, _ props: Properties) throws(Failure) -> JSONValue {
        let value = try resolve(scalar, tag: props.tag)
        try countNode()
        try remember(value, props)
        return value
    }

    mutating func finish(collection value: JSONValue, _ props: Properties) throws(Failure) -> JSONValue {
        switch (props.tag, value) {
        case (nil, _), (.nonSpecific?, _), (.mapping?, .object), (.sequence?, .array): break
        default:
            throw failure(
                "the tag \(props.tag.map(Self.name) ?? "") cannot apply to a \(value.isObject ? "mapping" : "sequence")",
                at: props.mark)
        }
        try remember(value, props)
        return value
    }

    /// A node with no content, such as the value of `key:` alone on its line.
    mutating func emptyNode(_ props: Properties) throws(Failure) -> JSONValue {
        try finish(scalar: Scalar(bytes: [], style: .plain, mark: props.mark, line: props.mark.line), props)
    }

    private mutating func remember(_ value: JSONValue, _ props: Properties) throws(Failure) {
        guard let anchor = props.anchor else { return }
        // An anchored node holding aliases is deeper than its text: without
        // this, anchors chained one inside the next build a document of any
        // depth, which every later reader would recurse into.
        guard Self.height(of: value, limit: Self.maxDepth) <= Self.maxDepth else {
            throw failure(
                "the anchor &\(anchor) names a node nested more than \(Self.maxDepth) deep once its aliases are expanded",
                at: props.mark)
        }
        anchors[anchor] = Anchored(value: value, size: max(1, nodes - props.nodesAtStart))
    }

    /// The levels of collections in `value`, counted up to `limit + 1` (no deeper).
    static func height(of value: JSONValue, limit: Int) -> Int {
        guard limit >= 0 else { return 1 }
        switch value {
        case let .object(members): return 1 + (members.lazy.map { height(of: $0.value, limit: limit - 1) }.max() ?? 0)
        case let .array(items): return 1 + (items.lazy.map { height(of: $0, limit: limit - 1) }.max() ?? 0)
        default: return 0
        }
    }

    private static func name(_ tag: Properties.Tag) -> String {
        switch tag {
        case .string: "!!str"
        case .integer: "!!int"
        case .float: "!!float"
        case .boolean: "!!bool"
        case .null: "!!null"
        case .mapping: "!!map"
        case .sequence: "!!seq"
        case .nonSpecific: "!"
        }
    }

    private func resolve(_ scalar: Scalar, tag: Properties.Tag?) throws(Failure) -> JSONValue {
        let text = scalar.bytes
        guard let tag else {
            guard scalar.style == .plain else { return .string(String(decoding: text, as: UTF8.self)) }
            if Self.isNull(text) { return .null }
            if let flag = Self.boolean(text) { return .bool(flag) }
            if let number = try number(text, scalar.mark) { return .number(number) }
            return .string(String(decoding: text, as: UTF8.self))
        }
        func wrong(_ what: String) -> Failure {
            failure("'\(Self.excerpt(text))' is not \(what) (it is tagged \(Self.name(tag)))", at: scalar.mark)
        }
        switch tag {
        case .string, .nonSpecific:
            return .string(String(decoding: text, as: UTF8.self))
        case .null:
            guard Self.isNull(text) else { throw wrong("null") }
            return .null
        case .boolean:
            guard let flag = Self.boolean(text) else { throw wrong("true or false") }
            return .bool(flag)
        case .integer:
            guard let number = try Self.integer(text, reader: self, scalar.mark) else { throw wrong("an integer") }
            return .number(number)
        case .float:
            guard let number = try number(text, scalar.mark) else { throw wrong("a number") }
            return .number(number)
        case .mapping, .sequence:
            guard text.isEmpty && scalar.style == .plain else { throw wrong(tag == .mapping ? "a mapping" : "a sequence") }
            return tag == .mapping ? .object([]) : .array([])
        }
    }

    static func excerpt(_ text: [UInt8]) -> String {
        text.count <= 60 ? String(decoding: text, as: UTF8.self) : String(decoding: text.prefix(57), as: UTF8.self) + "…"
    }

    /// Whether the text is one of the words, without building strings: every scalar passes here.
    private static func isOne(of words: [StaticString], _ t: [UInt8]) -> Bool {
        words.contains { word in
            word.utf8CodeUnitCount == t.count && word.withUTF8Buffer { $0.elementsEqual(t) }
        }
    }

    private static func isNull(_ t: [UInt8]) -> Bool {
        t.isEmpty || (t.count == 1 && t[0] == Byte.tilde) || (t.count == 4 && isOne(of: ["null", "Null", "NULL"], t))
    }

    private static func boolean(_ t: [UInt8]) -> Bool? {
        if t.count == 4 && isOne(of: ["true", "True", "TRUE"], t) { return true }
        if t.count == 5 && isOne(of: ["false", "False", "FALSE"], t) { return false }
        return nil
    }

    /// JSON number text for a core-schema integer or float, or nil.
    private func number(_ t: [UInt8], _ mark: Mark) throws(Failure) -> String? {
        guard let first = t.first, Self.isDigit(first) || first == Byte.plus || first == Byte.dash || first == Byte.dot else {
            return nil
        }
        if let integer = try Self.integer(t, reader: self, mark) { return integer }
        var body = t[...]
        if let first = body.first, first == Byte.plus || first == Byte.dash { body = body.dropFirst() }
        let special = String(decoding: body, as: UTF8.self)
        if [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"].contains(special) {
            throw failure(
                "\(String(decoding: t, as: UTF8.self)) is a YAML float JSON cannot hold; quote it to mean the text", at: mark)
        }
        return Self.float(t)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`, as decimal JSON text.
    private static func integer(_ t: [UInt8], reader: YAMLReader, _ mark: Mark) throws(Failure) -> String? {
        guard !t.isEmpty else { return nil }
        if t.count > 2 && t[0] == UInt8(ascii: "0") && (t[1] == UInt8(ascii: "o") || t[1] == UInt8(ascii: "x")) {
            let radix: UInt32 = t[1] == UInt8(ascii: "o") ? 8 : 16
            var digits: [UInt32] = []
            for c in t.dropFirst(2) {
                guard let d = hexValue(c), d < radix else { return nil }
                digits.append(d)
            }
            guard digits.count <= maxRadixDigits else {
                throw reader.failure("an integer of more than \(maxRadixDigits) digits in base \(radix)", at: mark)
            }
            return decimal(digits, radix: radix)
        }
        var body = t[...]
        var negative = false
        if body.first == Byte.plus || body.first == Byte.dash {
            negative = body.first == Byte.dash
            body = body.dropFirst()
        }
        guard !body.isEmpty, body.allSatisfy(isDigit) else { return nil }
        let trimmed = body.drop(while: { $0 == UInt8(ascii: "0") })
        return (negative ? "-" : "") + (trimmed.isEmpty ? "0" : String(decoding: trimmed, as: UTF8.self))
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Digits in `radix`, most significant first, as decimal text.
    private static func decimal(_ digits: [UInt32], radix: UInt32) -> String {
        var limbs: [UInt32] = [0]  // base 10⁹, least significant first
        for d in digits {
            var carry = UInt64(d)
            for i in limbs.indices {
                let v = UInt64(limbs[i]) * UInt64(radix) + carry
                limbs[i] = UInt32(v % 1_000_000_000)
                carry = v / 1_000_000_000
            }
            if carry > 0 { limbs.append(UInt32(carry)) }
        }
        var text = String(limbs[limbs.count - 1])
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` as JSON number text.
    private static func float(_ t: [UInt8]) -> String? {
        var i = 0
        var out = ""
        if i < t.count && (t[i] == Byte.plus || t[i] == Byte.dash) {
            if t[i] == Byte.dash { out = "-" }
            i += 1
        }
        let intStart = i
        while i < t.count && isDigit(t[i]) { i += 1 }
        let integerPart = t[intStart..<i]
        var fraction = t[i..<i]
        if i < t.count && t[i] == Byte.dot {
            i += 1
            let fracStart = i
            while i < t.count && isDigit(t[i]) { i += 1 }
            fraction = t[fracStart..<i]
        }
        guard !integerPart.isEmpty || !fraction.isEmpty else { return nil }
        let trimmed = integerPart.drop(while: { $0 == UInt8(ascii: "0") })
        out += trimmed.isEmpty ? "0" : String(decoding: trimmed, as: UTF8.self)
        if !fraction.isEmpty { out += "." + String(decoding: fraction, as: UTF8.self) }
        if i < t.count && (t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E")) {
            i += 1
            var exponent = "e"
            if i < t.count && (t[i] == Byte.plus || t[i] == Byte.dash) {
                exponent.append(Character(Unicode.Scalar(t[i])))
                i += 1
            }
            let expStart = i
            while i < t.count && isDigit(t[i]) { i += 1 }
            guard i > expStart else { return nil }
            out += exponent + String(decoding: t[expStart..<i], as: UTF8.self)
        }
        return i == t.count ? out : nil
    }

    // MARK: - Mappings

    /// A mapping's members as they are read, with what `<<` merges into it.
    struct MappingBuilder {
        var members: [JSONValue.Member] = []
        var firstLines: [String: Int] = [:]
        var merges: [(at: Int, members: [JSONValue.Member])] = []
    }

    mutating func add(_ key: Key, _ value: JSONValue, to builder: inout MappingBuilder) throws(Failure) {
        if key.isMerge {
            switch value {
            case let .object(members):
                builder.merges.append((builder.members.count, members))
                return
            case let .array(items):
                for item in items {
                    guard case let .object(members) = item else { break }
                    builder.merges.append((builder.members.count, members))
                }
                if items.allSatisfy(\.isObject) { return }
            default: break
            }
            throw failure("the merge key '<<' takes a mapping or a list of mappings", at: key.mark)
        }
        if let first = builder.firstLines[key.text] {
            throw failure(
                "the key '\(Self.excerpt(Array(key.text.utf8)))' appears twice in this mapping (first at line \(first))",
                at: key.mark)
        }
        builder.firstLines[key.text] = key.mark.line
        builder.members.append(JSONValue.Member(key.text, value))
    }

    /// Keys written in the mapping win over merged ones; of merged mappings, the first wins.
    mutating func finishMapping(_ builder: MappingBuilder) throws(Failure) -> JSONValue {
        try countNode()
        guard !builder.merges.isEmpty else { return .object(builder.members) }
        var seen = Set(builder.firstLines.keys)
        var out: [JSONValue.Member] = []
        var next = 0
        for index in 0...builder.members.count {
            while next < builder.merges.count && builder.merges[next].at == index {
                for member in builder.merges[next].members where !seen.contains(member.key) {
                    seen.insert(member.key)
                    out.append(member)
                }
                next += 1
            }
            if index < builder.members.count { out.append(builder.members[index]) }
        }
        return .object(out)
    }
}

extension JSONValue {
    fileprivate var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
