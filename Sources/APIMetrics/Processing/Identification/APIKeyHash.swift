/// Hashes API keys into consumer ids.
enum APIKeyHash {
    static func consumer(forKey key: String) -> Consumer {
        let hint = key.count >= 12 ? "key …\(key.suffix(4))" : nil
        return Consumer(id: "sha256:\(SHA256.hexDigest(key))", name: hint, apiKey: key)
    }
}
