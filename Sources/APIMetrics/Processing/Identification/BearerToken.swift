/// Reads the token of `Authorization: Bearer <token>`.
enum BearerToken {
    static func extract(from header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.trimmingOptionalWhitespace.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingOptionalWhitespace
        return token.isEmpty ? nil : token
    }
}
