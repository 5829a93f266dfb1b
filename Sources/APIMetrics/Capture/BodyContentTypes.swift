/// Which bodies are kept, by content type; others are recorded by size only.
///
/// ```swift
/// config.capture.bodyContentTypes = .textual                       // the default
/// config.capture.bodyContentTypes = .all                           // binary too, as base64
/// config.capture.bodyContentTypes = .matching(["application/json", "text/*"])
/// ```
public struct BodyContentTypes: Sendable, Hashable, CustomStringConvertible {
    private let exact: Set<String>
    private let prefixes: [String]
    private let suffixes: [String]
    private let allowsAll: Bool
    private let allowsUntyped: Bool
    // The same lists as case-folding patterns, for the request path.
    private let exactList: [FoldedPattern]
    private let prefixList: [FoldedPattern]
    private let suffixList: [FoldedPattern]

    private init(exact: Set<String>, prefixes: [String], suffixes: [String], allowsAll: Bool, allowsUntyped: Bool) {
        self.exact = exact
        self.prefixes = prefixes
        self.suffixes = suffixes
        self.allowsAll = allowsAll
        self.allowsUntyped = allowsUntyped
        self.exactList = exact.sorted().map { FoldedPattern($0) }
        self.prefixList = prefixes.map { FoldedPattern($0) }
        self.suffixList = suffixes.map { FoldedPattern($0) }
    }

    /// JSON, `text/*`, forms, XML and problem details: `application/json`,
    /// `*+json`, `text/*`, `application/x-www-form-urlencoded`,
    /// `application/xml`, `*+xml`.
    public static let textual = BodyContentTypes(
        exact: ["application/json", "application/x-www-form-urlencoded", "application/xml",
                "application/problem+json", "application/graphql", "application/javascript"],
        prefixes: ["text/"], suffixes: ["+json", "+xml"], allowsAll: false, allowsUntyped: false)

    /// Every body, whatever its type; binary ones are written as base64.
    public static let all = BodyContentTypes(exact: [], prefixes: [], suffixes: [], allowsAll: true, allowsUntyped: true)

    /// The listed media types: `type/subtype`, `type/*`, or `*+suffix`.
    public static func matching(_ types: [String]) -> BodyContentTypes {
        var exact: Set<String> = []
        var prefixes: [String] = []
        var suffixes: [String] = []
        for type in types.map({ $0.trimmingSpaces.lowercased() }) {
            if type.hasPrefix("*+") {
                suffixes.append(String(type.dropFirst()))
            } else if type.hasSuffix("/*") {
                prefixes.append(String(type.dropLast()))
            } else {
                exact.insert(type)
            }
        }
        return BodyContentTypes(exact: exact, prefixes: prefixes, suffixes: suffixes, allowsAll: false, allowsUntyped: false)
    }

    /// The rule as a list.
    public var description: String {
        if allowsAll { return "all" }
        return (exact.sorted() + prefixes.map { "\($0)*" } + suffixes.map { "*\($0)" }).joined(separator: ", ")
    }

    /// Whether a body with this `Content-Type` value is kept. Runs on the
    /// request path: it compares bytes and allocates nothing.
    func allows(_ contentType: String?) -> Bool {
        if allowsAll { return true }
        guard var value = contentType else { return allowsUntyped }
        return value.withUTF8 { allows(bytes: $0) }
    }

    /// Whether a message with these headers has its body kept, read from the
    /// captured bytes of its `Content-Type`.
    func allows(_ headers: HeaderFields) -> Bool {
        if allowsAll { return true }
        return headers.withFirstValue(named: "content-type") { value in
            guard let value else { return allowsUntyped }
            return allows(bytes: value)
        }
    }

    private func allows(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        let mediaType = UnsafeBufferPointer(rebasing: bytes[start..<end])
        let length = mediaType.count
        // Lengths first: most candidates are ruled out without reading a byte.
        for candidate in exactList where candidate.count == length {
            if candidate.matches(mediaType) { return true }
        }
        for prefix in prefixList where prefix.count <= length {
            if prefix.matches(UnsafeBufferPointer(rebasing: mediaType[..<prefix.count])) { return true }
        }
        for suffix in suffixList where suffix.count <= length {
            if suffix.matches(UnsafeBufferPointer(rebasing: mediaType[(length - suffix.count)...])) { return true }
        }
        return false
    }
}

/// A lowercase ASCII text matched against bytes in any case, eight bytes at
/// a time: each word of input is OR-ed with a mask that has bit 5 set where
/// the pattern holds a letter, then compared with the pattern's word. At a
/// letter's place only that letter's two cases pass; elsewhere bytes must be
/// equal. Words overlap at the end instead of a byte-by-byte tail.
struct FoldedPattern: Sendable, Hashable {
    private let words: [UInt64]
    private let masks: [UInt64]
    private let bytes: [UInt8]

    /// The pattern's length in bytes.
    var count: Int { bytes.count }

    init(_ text: String) {
        bytes = Array(text.lowercased().utf8)
        var words: [UInt64] = []
        var masks: [UInt64] = []
        if bytes.count >= 8 {
            for offset in Self.wordOffsets(count: bytes.count) {
                var word: UInt64 = 0
                var mask: UInt64 = 0
                for index in 0..<8 {
                    let byte = bytes[offset + index]
                    word |= UInt64(byte) << (8 * index)
                    if byte >= 0x61 && byte <= 0x7A { mask |= 0x20 << (8 * index) }
                }
                words.append(word)
                masks.append(mask)
            }
        }
        self.words = words
        self.masks = masks
    }

    /// Where the words start: every eight bytes, and the last eight.
    private static func wordOffsets(count: Int) -> [Int] {
        Array(stride(from: 0, to: count - 8, by: 8)) + [count - 8]
    }

    /// Whether `input`, exactly as long as the pattern, spells it in any case.
    func matches(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard input.count == count else { return false }
        guard count >= 8 else {
            return bytes.withUnsafeBufferPointer { pattern in
                for index in 0..<count where HeaderFields.lowercasedASCII(input[index]) != pattern[index] {
                    return false
                }
                return true
            }
        }
        guard let base = input.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        return words.withUnsafeBufferPointer { words in
            masks.withUnsafeBufferPointer { masks in
                var offset = 0
                for index in 0..<words.count {
                    let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    if word | masks[index] != words[index] { return false }
                    offset = Swift.min(offset + 8, count - 8)
                }
                return true
            }
        }
    }
}
