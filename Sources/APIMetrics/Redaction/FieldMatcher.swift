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
    private let exactBytes: [[UInt8]]
    private let others: [FieldMatcher]
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
        self.exactBytes = exact.sorted().map { Array($0.utf8) }
        self.others = others
    }

    init(names: Set<String>) {
        self.exact = Set(names.map { $0.lowercased() })
        self.exactBytes = exact.sorted().map { Array($0.utf8) }
        self.others = []
    }

    var isEmpty: Bool { exact.isEmpty && others.isEmpty }

    /// Whether `bytes` could hold a name of this set, ignoring ASCII case:
    /// `false` only when every matcher is an exact name and none of them
    /// occurs anywhere in the bytes. Lets the redactor skip parsing bodies
    /// that no rule can touch; it reads the bytes in place.
    func mightOccur(in bytes: [UInt8]) -> Bool {
        guard others.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { haystack in
            for name in exactBytes where Self.containsIgnoringCase(haystack, name) { return true }
            return false
        }
    }

    /// `needle` is lowercase already.
    private static func containsIgnoringCase(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
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
