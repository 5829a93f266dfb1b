import Synchronization
import Foundation

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
        case credential(CredentialWords.Scope)
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

    /// Any header name whose words name a credential: `Authorization`,
    /// `Cookie`, `X-API-Key`, `X-Api_Key`, `X-Auth-Token`, `Private-Key`,
    /// `X-Hub-Signature-256`, `X-Amz-Credential`, `Ocp-Apim-Subscription-Key`,
    /// `X-Session-ID` and their kind, but not `Author` or `X-Keyboard`.
    /// The words are listed in the README's Privacy section.
    public static let credentialHeader = FieldMatcher(kind: .credential(.header), description: "<credential header>")

    /// Any query parameter name whose words name a credential, as for
    /// headers, plus `key` and `code` standing alone (an API key, an OAuth
    /// authorization code) and `jsessionid`-style session ids.
    public static let credentialQueryParameter = FieldMatcher(
        kind: .credential(.query), description: "<credential query parameter>")

    /// Any JSON member or form field name whose words name a credential:
    /// `newPassword`, `password_confirmation`, `accessToken`, `clientSecret`,
    /// `privateKey`, `pin`, `otp`, `cvv2`, `security_code`, `mfa_code`,
    /// `passwordHash`, `secretAnswer`, `card_number`, `pan`, `user[password]`.
    public static let credentialField = FieldMatcher(kind: .credential(.field), description: "<credential field>")

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

    /// Whether `name` (already lowercased) matches; `original` is the name
    /// as written, whose case changes split it into words.
    func matches(original: String, lowercased name: String) -> Bool {
        switch kind {
        case let .credential(scope):
            return CredentialWords.isCredential(original, lowered: name, scope: scope)
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

    var isCredential: Bool {
        if case .credential = kind { return true }
        return false
    }

    var isValid: Bool {
        switch kind {
        case .credential: return true
        case let .exact(name): return !name.isEmpty
        case let .contains(fragment): return !fragment.isEmpty
        case let .glob(parts): return parts.contains { !$0.isEmpty }
        }
    }
}
