import Synchronization

/// Matches a header, query parameter or body field name, ignoring case.
///
/// ```swift
/// config.redaction.headers += [.exact("x-internal-id"), .glob("x-*-signature")]
/// config.redaction.requestBody.fields.append("iban")      // a literal is `.exact`
/// ```
public struct FieldMatcher: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    enum Kind: Sendable, Hashable {
        case exact(String)
        case contains(String)
        case glob([Substring])
    }

    let kind: Kind
    /// The matcher as written.
    public let description: String

    /// The whole name, such as `authorization`.
    public static func exact(_ name: String) -> FieldMatcher {
        FieldMatcher(kind: .exact(name.lowercased()), description: name)
    }

    /// Any name holding `fragment`, such as `token` for `x-auth-token`.
    public static func contains(_ fragment: String) -> FieldMatcher {
        FieldMatcher(kind: .contains(fragment.lowercased()), description: "*\(fragment)*")
    }

    /// A pattern where `*` stands for any run of characters, such as `x-*-key`.
    public static func glob(_ pattern: String) -> FieldMatcher {
        let lowered = pattern.lowercased()
        return FieldMatcher(kind: .glob(lowered.split(separator: "*", omittingEmptySubsequences: false)), description: pattern)
    }

    /// Reads `*text*` as ``contains(_:)``, a pattern with another `*` as
    /// ``glob(_:)``, and anything else as ``exact(_:)``.
    public static func parse(_ text: String) -> FieldMatcher {
        if text.count > 2, text.hasPrefix("*"), text.hasSuffix("*"), !text.dropFirst().dropLast().contains("*") {
            return .contains(String(text.dropFirst().dropLast()))
        }
        return text.contains("*") ? .glob(text) : .exact(text)
    }

    /// A literal is an exact name.
    public init(stringLiteral value: String) {
        self = .exact(value)
    }

    private init(kind: Kind, description: String) {
        self.kind = kind
        self.description = description
    }

    /// Whether `name` (already lowercased) matches.
    func matches(lowercased name: String) -> Bool {
        switch kind {
        case let .exact(expected):
            return name == expected
        case let .contains(fragment):
            return name.contains(fragment)
        case let .glob(parts):
            return Self.glob(parts, matches: Substring(name))
        }
    }

    private static func glob(_ parts: [Substring], matches name: Substring) -> Bool {
        guard let first = parts.first else { return name.isEmpty }
        guard name.hasPrefix(first) else { return false }
        if parts.count == 1 { return name.count == first.count }
        var rest = name.dropFirst(first.count)
        for (index, part) in parts.enumerated().dropFirst() {
            let isLast = index == parts.count - 1
            if isLast {
                return rest.hasSuffix(part)
            }
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }

    var isExact: Bool {
        if case .exact = kind { return true }
        return false
    }

    var isValid: Bool {
        switch kind {
        case let .exact(name): return !name.isEmpty
        case let .contains(fragment): return !fragment.isEmpty
        case let .glob(parts): return parts.contains { !$0.isEmpty }
        }
    }
}

/// A compiled list of matchers: exact names in a set, the rest in order,
/// and the answers for names already seen (header and field names repeat
/// from one event to the next, so most lookups are one hash).
struct NameSet: Sendable {
    private let exact: Set<String>
    /// What ``mightOccur(in:)`` looks for in a body.
    private let probe: BodyProbe
    private let others: [FieldMatcher]
    /// Every matcher as bytes, when all of them are ASCII: then an ASCII
    /// name is matched in place, with no string made and none hashed.
    private let byteMatchers: ByteMatchers?
    private let cache = NameCache()
    private let byteCache = ByteNameCache()

    init(_ matchers: [FieldMatcher]) {
        var exact: Set<String> = []
        var others: [FieldMatcher] = []
        for matcher in matchers {
            if case let .exact(name) = matcher.kind {
                exact.insert(name)
            } else {
                others.append(matcher)
            }
        }
        self.exact = exact
        self.probe = BodyProbe(names: exact)
        self.others = others
        self.byteMatchers = ByteMatchers(matchers)
    }

    init(names: Set<String>) {
        self.exact = Set(names.map { $0.lowercased() })
        self.probe = BodyProbe(names: exact)
        self.others = []
        self.byteMatchers = ByteMatchers(exact.sorted().map(FieldMatcher.exact))
    }

    /// Whether the name in `bytes` (any case) matches, read in place when it
    /// and every matcher are ASCII (paths and user agents nearly always
    /// are); otherwise as a string, exactly as ``matches(_:)``.
    func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let byteMatchers else { return matches(String(decoding: bytes, as: UTF8.self)) }
        if let firstBytes = byteMatchers.firstBytes, let first = bytes.first, first < 0x80 {
            // An ASCII byte lowercases to its ASCII fold, whatever follows.
            let folded = HeaderFields.lowercasedASCII(first)
            let needed = folded < 64 ? firstBytes.low >> UInt64(folded) : firstBytes.high >> UInt64(folded - 64)
            if needed & 1 == 0 { return false }
            if let prefixes = byteMatchers.prefixes, bytes.count >= 2, bytes[1] < 0x80 {
                let prefix = UInt16(folded) | UInt16(HeaderFields.lowercasedASCII(bytes[1])) << 8
                if !prefixes.contains(prefix) { return false }
            }
        }
        for byte in bytes where byte >= 0x80 { return matches(String(decoding: bytes, as: UTF8.self)) }
        return byteMatchers.matchAny(bytes)
    }

    var isEmpty: Bool { exact.isEmpty && others.isEmpty }

    /// Whether `bytes` could hold a name of this set, ignoring ASCII case:
    /// `false` only when every matcher is an exact name and none of them
    /// occurs anywhere in the bytes. Lets the redactor skip parsing bodies
    /// that no rule can touch; it reads the bytes in place.
    func mightOccur(in bytes: [UInt8]) -> Bool {
        guard others.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { probe.occurs(in: $0) }
    }

    /// `needle` is lowercase already.
    static func containsIgnoringCase(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        let last = haystack.count - needle.count
        var index = 0
        while index <= last {
            if HeaderFields.lowercasedASCII(haystack[index]) == first {
                var matched = true
                for offset in 1..<needle.count where HeaderFields.lowercasedASCII(haystack[index + offset]) != needle[offset] {
                    matched = false
                    break
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }

    /// Whether the name in `bytes` (any case) is in the set, for names read
    /// from captured headers: answers already seen are found by the bytes
    /// themselves, with no string made and no string hashed.
    func contains(bytes: ArraySlice<UInt8>) -> Bool {
        if let known = byteCache.answer(for: bytes) { return known }
        let answer = contains(String(decoding: bytes, as: UTF8.self))
        byteCache.remember(answer, for: bytes)
        return answer
    }

    /// Whether `name` (any case) is in the set, without the shared cache:
    /// for the request path, where many threads ask at once and the names
    /// (paths, user agents) hardly repeat.
    func matches(_ name: String) -> Bool {
        let hasUppercase = name.utf8.contains { $0 >= 65 && $0 <= 90 }
        let lowered = hasUppercase ? name.lowercased() : name
        return exact.contains(lowered) || others.contains { $0.matches(lowercased: lowered) }
    }

    func contains(_ name: String) -> Bool {
        if let known = cache.answer(for: name) { return known }
        let lowered = name.lowercased()
        let answer = exact.contains(lowered) || others.contains { $0.matches(lowercased: lowered) }
        cache.remember(answer, for: name)
        return answer
    }
}

/// Remembered answers of a ``NameSet``, bounded: past 4,096 names it starts over.
final class NameCache: Sendable {
    private let answers = Mutex<[String: Bool]>([:])

    func answer(for name: String) -> Bool? {
        answers.withLock { $0[name] }
    }

    func remember(_ answer: Bool, for name: String) {
        answers.withLock { answers in
            if answers.count >= 4096 { answers.removeAll(keepingCapacity: true) }
            answers[name] = answer
        }
    }
}

/// Remembered answers keyed by a name's bytes, ignoring ASCII case: an
/// open-addressing table over FNV-1a hashes of the lowercased bytes, bounded
/// at 1,024 names (past that it starts over).
final class ByteNameCache: Sendable {
    private struct Table {
        static let slotCount = 2048
        static let maxEntries = 1024
        /// Index into `entries` plus one; 0 is an empty slot.
        var slots = [Int32](repeating: 0, count: slotCount)
        var entries: [(hash: UInt64, name: [UInt8], answer: Bool)] = []
    }

    private let table = Mutex(Table())

    private static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(HeaderFields.lowercasedASCII(byte))) &* 0x0100_0000_01b3
        }
        return hash
    }

    private static func equal(_ stored: [UInt8], _ bytes: ArraySlice<UInt8>) -> Bool {
        guard stored.count == bytes.count else { return false }
        var index = bytes.startIndex
        for byte in stored {
            if byte != HeaderFields.lowercasedASCII(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    func answer(for bytes: ArraySlice<UInt8>) -> Bool? {
        let hash = Self.hash(bytes)
        return table.withLock { table -> Bool? in
            var slot = Int(truncatingIfNeeded: hash) & (Table.slotCount - 1)
            while true {
                let entry = Int(table.slots[slot])
                if entry == 0 { return nil }
                let candidate = table.entries[entry - 1]
                if candidate.hash == hash && Self.equal(candidate.name, bytes) { return candidate.answer }
                slot = (slot + 1) & (Table.slotCount - 1)
            }
        }
    }

    func remember(_ answer: Bool, for bytes: ArraySlice<UInt8>) {
        let hash = Self.hash(bytes)
        let lowered = bytes.map(HeaderFields.lowercasedASCII)
        table.withLock { table in
            if table.entries.count >= Table.maxEntries {
                table = Table()
            }
            var slot = Int(truncatingIfNeeded: hash) & (Table.slotCount - 1)
            while table.slots[slot] != 0 {
                let existing = table.entries[Int(table.slots[slot]) - 1]
                if existing.hash == hash && existing.name == lowered { return }
                slot = (slot + 1) & (Table.slotCount - 1)
            }
            table.entries.append((hash, lowered, answer))
            table.slots[slot] = Int32(table.entries.count)
        }
    }
}

/// ``FieldMatcher``s over ASCII bytes, their text lowercase, flattened into
/// three arrays so that matching a name is integer work on one buffer: no
/// enum payload copied, no reference counted, per matcher. The answers are
/// the string matchers' for an ASCII name, with ASCII case folded.
struct ByteMatchers: Sendable {
    private enum Kind: UInt8, Sendable {
        case exact, contains, glob
    }

    private struct Entry: Sendable {
        var kind: Kind
        var firstPart: Int32
        var partCount: Int32
    }

    private struct Part: Sendable {
        var start: Int32
        var count: Int32
    }

    private let text: [UInt8]
    /// The exact names first (``exactCount`` of them), then the others.
    private let entries: [Entry]
    private let exactCount: Int
    /// A bit per length of exact name (the top bit for 63 and longer): a
    /// name of no such length skips every exact compare.
    private let exactLengths: UInt64
    private let parts: [Part]
    /// The first bytes the matchers need, a bit per byte, when every one of
    /// them needs a given ASCII first byte: then most names (a browser's
    /// user agent against probes' names) are answered from their first byte.
    let firstBytes: (low: UInt64, high: UInt64)?
    /// The first two bytes each matcher needs (lowercase ASCII, the first in
    /// the low byte), when every one of them needs two known bytes: paths
    /// all start with `/`, and it is their second byte that tells them apart.
    let prefixes: [UInt16]?

    /// `nil` when a matcher is not ASCII: names are then matched as strings.
    init?(_ matchers: [FieldMatcher]) {
        var text: [UInt8] = []
        var entries: [Entry] = []
        var parts: [Part] = []
        var low: UInt64 = 0, high: UInt64 = 0
        var everyFirstKnown = true
        var prefixes: [UInt16]? = []
        var exactLengths: UInt64 = 0
        // Exact names first, so that one length check can skip them all.
        let ordered = matchers.filter(\.isExact) + matchers.filter { !$0.isExact }
        for matcher in ordered {
            let kind: Kind
            let pieces: [[UInt8]]
            switch matcher.kind {
            case let .exact(name): (kind, pieces) = (.exact, [Array(name.utf8)])
            case let .contains(fragment): (kind, pieces) = (.contains, [Array(fragment.utf8)])
            case let .glob(globParts): (kind, pieces) = (.glob, globParts.map { Array($0.utf8) })
            }
            entries.append(Entry(kind: kind, firstPart: Int32(parts.count), partCount: Int32(pieces.count)))
            if kind == .exact { exactLengths |= 1 << UInt64(min(pieces[0].count, 63)) }
            for piece in pieces {
                parts.append(Part(start: Int32(text.count), count: Int32(piece.count)))
                text.append(contentsOf: piece)
            }
            // A matcher that can start anywhere, or matches only the empty name.
            if kind == .contains || (pieces.first?.isEmpty ?? true) {
                everyFirstKnown = false
                prefixes = nil
            } else if let firstPart = pieces.first, let first = firstPart.first, first < 0x80 {
                if first < 64 { low |= 1 << UInt64(first) } else { high |= 1 << UInt64(first - 64) }
                if firstPart.count >= 2 {
                    let prefix = UInt16(first) | UInt16(firstPart[1]) << 8
                    if prefixes?.contains(prefix) == false { prefixes?.append(prefix) }
                } else {
                    prefixes = nil
                }
            }
        }
        guard text.allSatisfy({ $0 < 0x80 }) else { return nil }
        self.text = text
        self.entries = entries
        self.exactCount = entries.prefix { $0.kind == .exact }.count
        self.exactLengths = exactLengths
        self.parts = parts
        self.firstBytes = everyFirstKnown ? (low, high) : nil
        self.prefixes = prefixes
    }

    /// Whether any matcher matches `name`, which must be ASCII.
    func matchAny(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        text.withUnsafeBufferPointer { text in
            parts.withUnsafeBufferPointer { parts in
                entries.withUnsafeBufferPointer { entries in
                    let start = exactLengths >> UInt64(min(name.count, 63)) & 1 == 0 ? exactCount : 0
                    for index in start..<entries.count where Self.matches(entries[index], name, text, parts) { return true }
                    return false
                }
            }
        }
    }

    private static func matches(
        _ entry: Entry, _ name: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, _ parts: UnsafeBufferPointer<Part>
    ) -> Bool {
        let first = parts[Int(entry.firstPart)]
        switch entry.kind {
        case .exact:
            return Int(first.count) == name.count && equal(name, from: 0, text, first)
        case .contains:
            return firstEnd(of: first, in: name, from: 0, text) != nil
        case .glob:
            guard equal(name, from: 0, text, first) else { return false }
            let count = Int(entry.partCount)
            if count == 1 { return name.count == Int(first.count) }
            var rest = Int(first.count)
            for index in 1..<count {
                let part = parts[Int(entry.firstPart) + index]
                if index == count - 1 {
                    return name.count - rest >= Int(part.count) && equal(name, from: name.count - Int(part.count), text, part)
                }
                // As the string matcher: an empty part between two stars is never found.
                guard part.count > 0, let end = firstEnd(of: part, in: name, from: rest, text) else { return false }
                rest = end
            }
            return true
        }
    }

    /// Whether `name[start...]` begins with the part, ignoring ASCII case.
    @inline(__always)
    private static func equal(
        _ name: UnsafeBufferPointer<UInt8>, from start: Int, _ text: UnsafeBufferPointer<UInt8>, _ part: Part
    ) -> Bool {
        let count = Int(part.count)
        guard name.count - start >= count else { return false }
        let offset = Int(part.start)
        for index in 0..<count where HeaderFields.lowercasedASCII(name[start + index]) != text[offset + index] {
            return false
        }
        return true
    }

    /// Where the first occurrence of the part at or after `start` ends.
    private static func firstEnd(
        of part: Part, in name: UnsafeBufferPointer<UInt8>, from start: Int, _ text: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        let count = Int(part.count)
        guard name.count - start >= count else { return nil }
        for offset in start...(name.count - count) where equal(name, from: offset, text, part) {
            return offset + count
        }
        return nil
    }
}

/// Finds whether any of a set of lowercase names occurs in a body, ignoring
/// ASCII case, in one pass over the body whatever the number of names.
///
/// Names that hold another of the set are left out (where `password`
/// occurs, `pass` does too), and the first two bytes of each name left are
/// marked in a table of ASCII pairs: a position whose two bytes are not
/// marked is passed over with one lookup, and only a marked one is compared
/// with the names. Names shorter than two bytes, or that start outside
/// ASCII, are looked for one by one.
struct BodyProbe: Sendable {
    /// The names with a marked pair, lowercase.
    private let paired: [[UInt8]]
    /// The names looked for one by one.
    private let others: [[UInt8]]
    /// A bit per pair of ASCII bytes (first × 128 + second), lowercase.
    private let pairs: [UInt64]

    init(names: Set<String>) {
        let all = names.map { Array($0.utf8) }.filter { !$0.isEmpty }
        let needed = all.filter { name in
            !all.contains { other in other.count < name.count && Self.contains(name, other) }
        }.sorted { $0.lexicographicallyPrecedes($1) }
        var pairs = [UInt64](repeating: 0, count: 128 * 128 / 64)
        var paired: [[UInt8]] = []
        var others: [[UInt8]] = []
        for name in needed {
            if name.count >= 2, name[0] < 0x80, name[1] < 0x80 {
                let index = Int(name[0]) << 7 | Int(name[1])
                pairs[index >> 6] |= 1 << UInt64(index & 63)
                paired.append(name)
            } else {
                others.append(name)
            }
        }
        self.paired = paired
        self.others = others
        self.pairs = pairs
    }

    /// Whether `other` occurs in `name`, both lowercase bytes.
    private static func contains(_ name: [UInt8], _ other: [UInt8]) -> Bool {
        guard other.count <= name.count else { return false }
        return (0...(name.count - other.count)).contains { start in name[start..<(start + other.count)].elementsEqual(other) }
    }

    /// Whether any of the names occurs in `haystack`, ignoring ASCII case.
    func occurs(in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        for name in others where NameSet.containsIgnoringCase(haystack, name) { return true }
        guard !paired.isEmpty, let base = haystack.baseAddress, haystack.count >= 2 else { return false }
        return pairs.withUnsafeBufferPointer { table -> Bool in
            var index = 0
            let last = haystack.count - 1
            var first = HeaderFields.lowercasedASCII(base[0])
            while index < last {
                let second = HeaderFields.lowercasedASCII(base[index + 1])
                if first < 0x80 && second < 0x80 {
                    let pair = Int(first) << 7 | Int(second)
                    if table[pair >> 6] >> UInt64(pair & 63) & 1 == 1, matchesAt(index, base, haystack.count) {
                        return true
                    }
                }
                first = second
                index += 1
            }
            return false
        }
    }

    /// Whether a paired name starts at `start` (its first two bytes are known to match one's).
    private func matchesAt(_ start: Int, _ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for name in paired where start + name.count <= count {
            let found = name.withUnsafeBufferPointer {
                HeaderFields.bytesEqualIgnoringCase(UnsafeBufferPointer(start: base + start, count: name.count), $0)
            }
            if found { return true }
        }
        return false
    }
}
