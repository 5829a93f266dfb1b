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
        exact: [
            "application/json", "application/x-www-form-urlencoded", "application/xml",
            "application/problem+json", "application/graphql", "application/javascript",
        ],
        prefixes: ["text/"], suffixes: ["+json", "+xml"], allowsAll: false, allowsUntyped: false)

    /// Every body, whatever its type; binary ones are written as base64.
    public static let all = BodyContentTypes(exact: [], prefixes: [], suffixes: [], allowsAll: true, allowsUntyped: true)

    /// The listed media types: `type/subtype`, `type/*`, or `*+suffix`.
    public static func matching(_ types: [String]) -> BodyContentTypes {
        var exact: Set<String> = []
        var prefixes: [String] = []
        var suffixes: [String] = []
        for type in types.map({ $0.trimmingOptionalWhitespace.lowercased() }) {
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
        let mediaType = ASCII.mediaType(of: bytes)
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
