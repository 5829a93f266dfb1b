import APIMetrics

/// Who is calling the demo, first match wins:
/// - `X-API-Key: demo-key-NAME` names the consumer `NAME` (the demo's key table),
///   with the key as its ``Consumer/apiKey`` (ReadMe groups by its mask);
/// - `Authorization: Bearer <JWT>` names its `sub` claim (`POST /login` hands
///   out such tokens), decoded without verification;
/// - any other `X-API-Key` names a consumer by the key's SHA-256 hash;
/// - anything else is anonymous.
enum DemoConsumers {
    static let keyPrefix = "demo-key-"

    static let identifier = ConsumerIdentifier.firstMatch([
        .custom(identify),
        .jwtClaim("sub"),
        .apiKey(header: "x-api-key"),
    ])

    @Sendable
    static func identify(_ request: RequestHead) -> Consumer? {
        guard let key = request.headers["x-api-key"], key.hasPrefix(keyPrefix) else { return nil }
        let name = String(key.dropFirst(keyPrefix.count))
        guard !name.isEmpty else { return nil }
        return Consumer(id: name, name: name, group: "demo", apiKey: key)
    }
}
