#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    private let byteCache: ByteNameCache

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
        self.byteCache = ByteNameCache(foldsCase: !others.contains(where: \.isCredential))
    }

    init(names: Set<String>) {
        self.exact = Set(names.map { $0.lowercased() })
        self.probe = BodyProbe(names: exact)
        self.others = []
        self.byteMatchers = ByteMatchers(exact.sorted().map(FieldMatcher.exact))
        self.byteCache = ByteNameCache()
    }

    /// Whether the name in `bytes` (any case) matches, read in place when it
    /// and every matcher are ASCII (paths and user agents nearly always
    /// are); otherwise as a string, exactly as ``matches(_:)``.
    func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let byteMatchers else { return matches(String(decoding: bytes, as: UTF8.self)) }
        if let firstBytes = byteMatchers.firstBytes, let first = bytes.first, first < 0x80 {
            // An ASCII byte lowercases to its ASCII fold, whatever follows.
            let folded = ASCII.lowercased(first)
            let needed = folded < 64 ? firstBytes.low >> UInt64(folded) : firstBytes.high >> UInt64(folded - 64)
            if needed & 1 == 0 { return false }
            if let prefixes = byteMatchers.prefixes, bytes.count >= 2, bytes[1] < 0x80 {
                let prefix = UInt16(folded) | UInt16(ASCII.lowercased(bytes[1])) << 8
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
    ///
    /// Names are matched after Unicode lowercasing, under which two
    /// characters outside ASCII become ASCII letters: U+212A KELVIN SIGN
    /// (`k`) and U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE (`i` and a
    /// combining dot). Bytes holding either could spell a name the ASCII
    /// probe cannot see (`to\u{212A}en`), so they always might.
    func mightOccur(in bytes: [UInt8]) -> Bool {
        guard others.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { buffer in
            probe.occurs(in: buffer) || Self.holdsASCIIFoldingCharacter(buffer)
        }
    }

    /// Whether the bytes hold U+212A (E2 84 AA) or U+0130 (C4 B0): two
    /// `memchr` passes, as most bodies hold neither lead byte.
    static func holdsASCIIFoldingCharacter(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        func holds(_ lead: UInt8, _ tail: [UInt8]) -> Bool {
            var start = 0
            while start < bytes.count, let found = memchr(base + start, Int32(lead), bytes.count - start) {
                let at = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                if at + tail.count < bytes.count, tail.indices.allSatisfy({ bytes[at + 1 + $0] == tail[$0] }) { return true }
                start = at + 1
            }
            return false
        }
        return holds(0xE2, [0x84, 0xAA]) || holds(0xC4, [0xB0])
    }

    /// `needle` is lowercase already.
    static func containsIgnoringCase(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        let last = haystack.count - needle.count
        var index = 0
        while index <= last {
            if ASCII.lowercased(haystack[index]) == first {
                var matched = true
                for offset in 1..<needle.count where ASCII.lowercased(haystack[index + offset]) != needle[offset] {
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

    /// The same for a name read in place (a JSON member's name): answers
    /// already seen are found by the bytes, with no string made.
    func contains(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
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
        return exact.contains(lowered) || others.contains { $0.matches(original: name, lowercased: lowered) }
    }

    func contains(_ name: String) -> Bool {
        // Strings compare by canonical equivalence (U+212A equals `K`), but
        // word matching reads the scalars as written: names outside ASCII
        // are not cached when words are matched.
        if byteCache.foldsCase == false, name.utf8.contains(where: { $0 >= 0x80 }) {
            let lowered = name.lowercased()
            return exact.contains(lowered) || others.contains { $0.matches(original: name, lowercased: lowered) }
        }
        if let known = cache.answer(for: name) { return known }
        let lowered = name.lowercased()
        let answer = exact.contains(lowered) || others.contains { $0.matches(original: name, lowercased: lowered) }
        cache.remember(answer, for: name)
        return answer
    }
}
