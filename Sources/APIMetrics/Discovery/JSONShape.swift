/// What the JSON values seen at one place of a document had in common: the
/// types, the string formats every string matched, the members of objects
/// (with how often each was present) and the shape of array items. Never
/// a value: no example, no enumeration, no string, no number.
///
/// Bounded: ``JSONShapeLimits`` caps the depth and the members kept per
/// object; past them values are counted and described as
/// `additionalProperties` or left open.
struct JSONShape: Sendable, Hashable {
    /// The JSON types seen.
    var types: JSONTypes = []
    /// The instances seen at this place.
    var count = 0
    /// The objects among them (a member is required when it was in all).
    var objects = 0
    /// The formats every string seen matched (all of them before the first).
    var formats: StringFormats = .all
    /// Whether an integer seen needs more than 32 bits.
    var isWide = false
    /// Members in the order first seen.
    var properties: [Property] = []
    /// Whether an object had members not kept (past the limit, or names
    /// that look like data: ids, emails, long numbers).
    var hasOtherProperties = false
    /// The merged shape of array items; empty until an item is seen.
    var items: [JSONShape] = []
    /// Whether values below the depth limit were left undescribed.
    var isCut = false

    /// One member of the objects seen here.
    struct Property: Sendable, Hashable {
        /// The member's name as sent (escapes decoded).
        var name: String
        /// Its name's bytes, to match the next documents without decoding.
        var key: [UInt8]
        var shape: JSONShape
        /// The distinct calls that had it (a document repeating it, in a
        /// duplicate key or in array items, counts once).
        var calls = 0
        /// The last call that had it (``JSONShapeScanner``'s call serial).
        var lastCall: UInt64 = 0
        /// Objects in a row that lacked it (since it was last seen).
        var missingRun = 0
        /// Whether it was in every object before its current missing run.
        var wasRequired = false

        /// Seen in two calls or more: described. A member of one call only
        /// may be a value a client made up as a name (a token, an id); it
        /// is kept, not written, and gives its place up when the object's
        /// members are full.
        var isConfirmed: Bool { calls >= 2 }
    }

    /// The members written: those confirmed by a second instance.
    var confirmedProperties: [Property] { properties.filter(\.isConfirmed) }

    /// Whether members seen once, or past the limit, are left out of ``confirmedProperties``.
    var hasUndescribedProperties: Bool { hasOtherProperties || properties.contains { !$0.isConfirmed } }

    /// Whether nothing was seen.
    var isEmpty: Bool { count == 0 }

    /// The places below this one (members and items, all levels).
    var nodeCount: Int {
        properties.reduce(0) { $0 + 1 + $1.shape.nodeCount } + items.reduce(0) { $0 + 1 + $1.nodeCount }
    }

    /// The bytes a member named `name` has between its quotes in a
    /// document written the usual way (quote, backslash and control
    /// characters escaped).
    static func key(forName name: String) -> [UInt8] {
        var key: [UInt8] = []
        for byte in name.utf8 {
            switch byte {
            case 0x22, 0x5C: key += [0x5C, byte]
            case 0..<0x20: key += Array("\\u00".utf8) + Array(String(byte, radix: 16).leftPadded(to: 2).utf8)
            default: key.append(byte)
            }
        }
        return key
    }

    /// The member named `key`, as an index into ``properties``.
    /// Tries `hint` first: documents of one place usually list members in
    /// the same order, so the member after the last one found is likely next.
    func propertyIndex(_ key: UnsafeBufferPointer<UInt8>, hint: Int = 0) -> Int? {
        if hint < properties.count, Self.matches(properties[hint].key, key) { return hint }
        for index in properties.indices where index != hint && Self.matches(properties[index].key, key) {
            return index
        }
        return nil
    }

    private static func matches(_ candidate: [UInt8], _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard candidate.count == key.count else { return false }
        return candidate.withUnsafeBufferPointer { stored in
            guard let left = stored.baseAddress, let right = key.baseAddress else { return true }
            return memcmp(left, right, key.count) == 0
        }
    }

    /// Merges what `other` saw into this shape (two instances, two stores).
    mutating func merge(_ other: JSONShape, limits: JSONShapeLimits, depth: Int = 0) {
        types.formUnion(other.types)
        if other.types.contains(.string) { formats.formIntersection(other.formats) }
        count += other.count
        objects += other.objects
        isWide = isWide || other.isWide
        hasOtherProperties = hasOtherProperties || other.hasOtherProperties
        isCut = isCut || other.isCut
        guard depth < limits.maxDepth else {
            if !other.properties.isEmpty || !other.items.isEmpty { isCut = true }
            return
        }
        for property in other.properties {
            if let index = properties.firstIndex(where: { $0.key == property.key }) {
                properties[index].calls += property.calls
                properties[index].shape.merge(property.shape, limits: limits, depth: depth + 1)
            } else if properties.count < limits.maxProperties {
                // Required only if in every object: its count says how many had it.
                properties.append(property)
            } else {
                hasOtherProperties = true
            }
        }
        if let item = other.items.first {
            if items.isEmpty { items = [item] } else { items[0].merge(item, limits: limits, depth: depth + 1) }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The JSON types a place held.
struct JSONTypes: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let null = JSONTypes(rawValue: 1)
    static let boolean = JSONTypes(rawValue: 2)
    static let integer = JSONTypes(rawValue: 4)
    static let number = JSONTypes(rawValue: 8)
    static let string = JSONTypes(rawValue: 16)
    static let object = JSONTypes(rawValue: 32)
    static let array = JSONTypes(rawValue: 64)

    /// The names JSON Schema gives them, in a fixed order; `integer` is
    /// left out when `number` is there (every integer is a number).
    var names: [String] {
        var names: [String] = []
        if contains(.string) { names.append("string") }
        if contains(.number) { names.append("number") } else if contains(.integer) { names.append("integer") }
        if contains(.boolean) { names.append("boolean") }
        if contains(.object) { names.append("object") }
        if contains(.array) { names.append("array") }
        if contains(.null) { names.append("null") }
        return names
    }
}

/// How far a shape is followed: the deepest nesting described and the
/// most members kept per object.
struct JSONShapeLimits: Sendable, Hashable {
    var maxDepth = 8
    var maxProperties = 64
    /// The longest member name kept; longer ones count as other members.
    var maxNameBytes = 40
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
