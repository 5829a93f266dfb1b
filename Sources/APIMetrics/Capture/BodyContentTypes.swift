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

    /// Whether a body with this `Content-Type` value is kept.
    func allows(_ contentType: String?) -> Bool {
        if allowsAll { return true }
        guard let contentType else { return allowsUntyped }
        var mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        while let first = mediaType.first, first == 0x20 || first == 0x09 { mediaType = mediaType.dropFirst() }
        while let last = mediaType.last, last == 0x20 || last == 0x09 { mediaType = mediaType.dropLast() }
        let lowered = String(decoding: mediaType.map(HeaderFields.lowercasedASCII), as: UTF8.self)
        if exact.contains(lowered) { return true }
        for prefix in prefixes where lowered.hasPrefix(prefix) { return true }
        for suffix in suffixes where lowered.hasSuffix(suffix) { return true }
        return false
    }
}
