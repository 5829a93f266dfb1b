/// Hashes a credential a caller presents (an API key, an opaque bearer
/// token) into a consumer id, so that calls made with the same credential
/// are one consumer and the credential itself is never kept.
enum CredentialHash {
    /// Credentials shorter than this get no hint: four characters would be
    /// too much of them.
    static let minHintLength = 12

    /// The consumer for `credential`: id `sha256:` and its SHA-256 in hex;
    /// name `LABEL …abcd` (its last four characters) when it is at least
    /// ``minHintLength`` characters long; ``Consumer/apiKey`` set to it, so
    /// that it leaves only as its one-way mask.
    static func consumer(for credential: String, label: String) -> Consumer {
        let hint = credential.count >= minHintLength ? "\(label) …\(credential.suffix(4))" : nil
        return Consumer(id: "sha256:\(SHA256.hexDigest(credential))", name: hint, apiKey: credential)
    }
}
