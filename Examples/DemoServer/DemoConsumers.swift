import APIMetrics

/// Who is calling the demo: an `X-API-Key` of the form `demo-key-NAME` names
/// the consumer `NAME`; any other key, or none, is anonymous.
enum DemoConsumers {
    static let keyPrefix = "demo-key-"

    @Sendable
    static func identify(_ request: RequestHead) -> Consumer? {
        guard let key = request.headers["x-api-key"], key.hasPrefix(keyPrefix) else { return nil }
        let name = String(key.dropFirst(keyPrefix.count))
        guard !name.isEmpty else { return nil }
        return Consumer(id: name, name: name, group: "demo")
    }
}
