/// Folds one JSON document into a ``JSONShape`` in one pass over its
/// bytes, without building it: types, string formats, members and their
/// presence, array items. Values are looked at and forgotten.
///
/// The document is checked first with the redactor's scanner (the same
/// grammar and nesting limit as ``JSONParser``): bytes that are not JSON
/// change nothing.
struct JSONShapeScanner {
    private let base: UnsafePointer<UInt8>
    private let count: Int
    private let limits: JSONShapeLimits
    private var offset = 0
    /// Whether the document taught the shape something new: a type, a
    /// member, a member no longer in every object, a narrower format.
    private(set) var changed = false

    /// Folds `bytes` into `shape`; returns whether they were JSON, and
    /// whether the shape changed.
    static func fold(_ bytes: [UInt8], into shape: inout JSONShape, limits: JSONShapeLimits) -> (isJSON: Bool, changed: Bool) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress,
                  JSONFieldScanner.valuesToHide(in: buffer, named: Self.noNames) != nil else { return (false, false) }
            var scanner = JSONShapeScanner(base: base, count: buffer.count, limits: limits)
            if buffer.count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { scanner.offset = 3 }
            scanner.skipWhitespace()
            scanner.value(into: &shape, depth: 0)
            return (true, scanner.changed)
        }
    }

    private static let noNames = NameSet(names: [])

    private init(base: UnsafePointer<UInt8>, count: Int, limits: JSONShapeLimits) {
        self.base = base
        self.count = count
        self.limits = limits
    }

    private var current: UInt8 { offset < count ? base[offset] : 0 }

    private mutating func skipWhitespace() {
        while offset < count, base[offset] == 0x20 || base[offset] == 0x0A || base[offset] == 0x0D || base[offset] == 0x09 {
            offset += 1
        }
    }

    private mutating func add(_ type: JSONTypes, to shape: inout JSONShape) {
        shape.count += 1
        if !shape.types.contains(type) {
            shape.types.insert(type)
            changed = true
        }
    }

    private mutating func value(into shape: inout JSONShape, depth: Int) {
        switch current {
        case 0x7B:
            add(.object, to: &shape)
            shape.objects += 1
            if depth >= limits.maxDepth {
                if !shape.isCut { shape.isCut = true; changed = true }
                skipValue()
            } else {
                object(into: &shape, depth: depth)
            }
        case 0x5B:
            add(.array, to: &shape)
            if depth >= limits.maxDepth {
                if !shape.isCut { shape.isCut = true; changed = true }
                skipValue()
            } else {
                array(into: &shape, depth: depth)
            }
        case 0x22:
            let (start, end) = stringBounds()
            add(.string, to: &shape)
            let formats = StringFormats.of(UnsafeBufferPointer(start: base + start, count: end - start))
            let narrowed = shape.formats.intersection(formats)
            if narrowed != shape.formats {
                shape.formats = narrowed
                changed = true
            }
        case 0x74, 0x66:
            add(.boolean, to: &shape)
            offset += current == 0x74 ? 4 : 5
        case 0x6E:
            add(.null, to: &shape)
            offset += 4
        default:
            number(into: &shape)
        }
    }

    private mutating func number(into shape: inout JSONShape) {
        let start = offset
        var isInteger = true
        while offset < count {
            let byte = base[offset]
            if byte == 0x2E || byte == 0x65 || byte == 0x45 {
                isInteger = false
            } else if !(byte == 0x2D || byte == 0x2B || (byte >= 0x30 && byte <= 0x39)) {
                break
            }
            offset += 1
        }
        guard isInteger else {
            add(.number, to: &shape)
            return
        }
        add(.integer, to: &shape)
        // Wider than 32 bits: more than 9 digits and outside Int32.
        let digits = offset - start - (base[start] == 0x2D ? 1 : 0)
        if digits >= 10, !shape.isWide {
            var value: Int64 = 0
            var overflow = digits > 18
            if !overflow {
                for index in (offset - digits)..<offset { value = value * 10 + Int64(base[index] - 0x30) }
            }
            if base[start] == 0x2D { value = -value }
            overflow = overflow || value > Int64(Int32.max) || value < Int64(Int32.min)
            if overflow {
                shape.isWide = true
                changed = true
            }
        }
    }

    /// The bytes between the quotes of the string at `offset`; moves past it.
    private mutating func stringBounds() -> (Int, Int) {
        offset += 1
        let start = offset
        while offset < count, base[offset] != 0x22 {
            offset += base[offset] == 0x5C ? 2 : 1
        }
        let end = min(offset, count)
        offset += 1
        return (start, end)
    }

    private mutating func object(into shape: inout JSONShape, depth: Int) {
        offset += 1
        var seen: UInt64 = 0
        skipWhitespace()
        if current == 0x7D {
            offset += 1
        } else {
            while offset < count {
                skipWhitespace()
                let (start, end) = stringBounds()
                skipWhitespace()
                offset += 1 // the colon
                skipWhitespace()
                let key = UnsafeBufferPointer(start: base + start, count: end - start)
                if let index = shape.propertyIndex(key) {
                    if index < 64 { seen |= 1 << UInt64(index) }
                    // Its second instance: from now on it is described.
                    if !shape.properties[index].isConfirmed { changed = true }
                    value(into: &shape.properties[index].shape, depth: depth + 1)
                } else if Self.isName(key, maxBytes: limits.maxNameBytes),
                          let index = shape.properties.count < limits.maxProperties
                            ? shape.properties.count : shape.properties.firstIndex(where: { !$0.isConfirmed }) {
                    // A new member (in place of one seen only once, when full):
                    // described once a second instance confirms it is a name.
                    var property = JSONShape.Property(name: Self.decodedName(key), key: Array(key), shape: JSONShape())
                    value(into: &property.shape, depth: depth + 1)
                    if index == shape.properties.count {
                        shape.properties.append(property)
                    } else {
                        shape.properties[index] = property
                    }
                    if index < 64 { seen |= 1 << UInt64(index) }
                } else {
                    if !shape.hasOtherProperties { shape.hasOtherProperties = true; changed = true }
                    skipValue()
                }
                skipWhitespace()
                if current == 0x2C {
                    offset += 1
                    continue
                }
                offset += 1 // the closing brace
                break
            }
        }
        // A member that was in every object before and is missing from this one is now optional.
        for index in shape.properties.indices where index >= 64 || seen & (1 << UInt64(index)) == 0 {
            if shape.properties[index].isConfirmed, shape.properties[index].shape.count == shape.objects - 1 { changed = true }
        }
    }

    private mutating func array(into shape: inout JSONShape, depth: Int) {
        offset += 1
        skipWhitespace()
        if current == 0x5D {
            offset += 1
            return
        }
        if shape.items.isEmpty {
            shape.items = [JSONShape()]
            changed = true
        }
        while offset < count {
            skipWhitespace()
            value(into: &shape.items[0], depth: depth + 1)
            skipWhitespace()
            if current == 0x2C {
                offset += 1
                continue
            }
            offset += 1
            break
        }
    }

    /// Moves past the value at `offset` (already checked to be JSON).
    private mutating func skipValue() {
        var nesting = 0
        while offset < count {
            let byte = base[offset]
            if byte == 0x22 {
                _ = stringBounds()
                if nesting == 0 { return }
                continue
            }
            if byte == 0x7B || byte == 0x5B {
                nesting += 1
            } else if byte == 0x7D || byte == 0x5D {
                // The end of the enclosing value: not this one's to take.
                if nesting == 0 { return }
                nesting -= 1
                if nesting == 0 {
                    offset += 1
                    return
                }
            } else if nesting == 0, byte == 0x2C || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                return
            }
            offset += 1
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
        var digits = 0, letters = 0
        for byte in key {
            if byte >= 0x30 && byte <= 0x39 { digits += 1 }
            else if (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A { letters += 1 }
            else if byte == 0x40 || byte == 0x5C || byte < 0x20 || byte == 0x2F || byte == 0x3A { return false }
        }
        // All digits, many digits (hashes, ids), or none of the letters: data.
        if letters == 0 || digits * 2 >= key.count || digits > 6 { return false }
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
