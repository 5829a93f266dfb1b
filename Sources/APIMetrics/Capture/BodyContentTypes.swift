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
    // The same lists as lowercase bytes, for the request path.
    private let exactList: [[UInt8]]
    private let prefixList: [[UInt8]]
    private let suffixList: [[UInt8]]

    private init(exact: Set<String>, prefixes: [String], suffixes: [String], allowsAll: Bool, allowsUntyped: Bool) {
        self.exact = exact
        self.prefixes = prefixes
        self.suffixes = suffixes
        self.allowsAll = allowsAll
        self.allowsUntyped = allowsUntyped
        self.exactList = exact.sorted().map { Array($0.lowercased().utf8) }
        self.prefixList = prefixes.map { Array($0.lowercased().utf8) }
        self.suffixList = suffixes.map { Array($0.lowercased().utf8) }
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
        for candidate in exactBytes where Self.equalIgnoringCase(mediaType, candidate[...]) { return true }
        for prefix in prefixBytes where prefix.count <= mediaType.count
            && Self.equalIgnoringCase(UnsafeBufferPointer(rebasing: mediaType[..<prefix.count]), prefix[...]) {
            return true
        }
        for suffix in suffixBytes where suffix.count <= mediaType.count
            && Self.equalIgnoringCase(UnsafeBufferPointer(rebasing: mediaType[(mediaType.count - suffix.count)...]), suffix[...]) {
            return true
        }
        return false
    }

    private var exactBytes: [[UInt8]] { exactList }
    private var prefixBytes: [[UInt8]] { prefixList }
    private var suffixBytes: [[UInt8]] { suffixList }

    /// `candidate` is lowercase already.
    private static func equalIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ candidate: ArraySlice<UInt8>) -> Bool {
        guard bytes.count == candidate.count else { return false }
        var index = candidate.startIndex
        for byte in bytes {
            if HeaderFields.lowercasedASCII(byte) != candidate[index] { return false }
            index += 1
        }
        return true
    }
}
