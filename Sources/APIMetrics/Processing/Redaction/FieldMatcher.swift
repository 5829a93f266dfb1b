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
