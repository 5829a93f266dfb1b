import Foundation

/// Decodes a JWT's payload without verifying it.
enum JWT {
    /// The payload's claims whose values are strings or numbers, as text;
    /// `nil` for anything that is not a JWT with a JSON object payload.
    static func claims(of token: String) -> [String: String]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 2,
            let payload = base64URLDecode(parts[1]),
            case let .object(members) = try? JSONParser.parse(payload, maxDepth: 8)
        else { return nil }
        var claims: [String: String] = [:]
        for member in members where claims[member.key] == nil {
            switch member.value {
            case let .string(text): claims[member.key] = text
            case let .number(text): claims[member.key] = text
            default: continue
            }
        }
        return claims
    }

    /// base64url (RFC 4648 §5) with or without padding.
    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        guard text.count <= 64 * 1024 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
