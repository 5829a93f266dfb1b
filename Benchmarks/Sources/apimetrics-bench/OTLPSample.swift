import APIMetrics

/// Exchanges of every kind the OTLP trace encoder distinguishes, for an
/// independent decoder to check (Tests/EndToEnd/otlp_check.py knows them).
enum OTLPSample {
    static let identity = ServiceIdentity(
        service: "orders-api", environment: "staging", version: "1.4.2", instanceID: "host-7")

    static func records() -> [ExchangeRecord] {
        var incoming = ExchangeRecord(
            id: EventID(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718), direction: .incoming,
            startTimeNanoseconds: 1_795_255_200_123_000_000, durationNanoseconds: 3_214_000,
            request: RequestHead(
                method: "POST", target: "/orders?page=2&api_key=[REDACTED]",
                headers: HeaderFields([
                    ("Host", "api.example.com:8443"), ("User-Agent", "curl/8.5.0"), ("Content-Type", "application/json"),
                    ("Accept", "application/json"), ("ACCEPT", "text/plain"), ("X-Long", String(repeating: "v", count: 300)),
                ]),
                route: "/orders", clientAddress: "10.0.0.9", protocolVersion: "1.1"),
            requestBody: CapturedBody(bytes: [], size: 48),
            response: ResponseHead(status: 503, headers: ["Content-Type": "application/json", "Retry-After": "5"]),
            responseBody: CapturedBody(bytes: [], size: 21),
            consumer: Consumer(id: "acme", name: "Acme Corp", group: "enterprise"),
            errors: [RecordedError(type: "DatabaseUnavailable", message: "the pool is empty")],
            traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
        incoming.remoteParentSpanID = 0x00F0_67AA_0BA9_02B7  // from its traceparent
        // A value that is not UTF-8, as a tap may capture it: sent repaired.
        incoming.request.headers.append(nameBytes: Array("X-Raw".utf8)[...], valueBytes: [0x61, 0xFF, 0x62][...])
        let outgoing = ExchangeRecord(
            id: EventID(high: 0x2122_2324_2526_2728, low: 0x3132_3334_3536_3738), direction: .outgoing,
            startTimeNanoseconds: 1_795_255_200_124_000_000, durationNanoseconds: 1_000_000,
            request: RequestHead(method: "GET", target: "https://inventory.internal:9000/stock/42?fresh=1", headers: [:]),
            requestBody: CapturedBody(),
            response: ResponseHead(status: 404, headers: [:]),
            responseBody: CapturedBody(),
            traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
            parentID: incoming.id)
        let unmatched = ExchangeRecord(
            id: EventID(high: 0x4142_4344_4546_4748, low: 0x5152_5354_5556_5758), direction: .incoming,
            startTimeNanoseconds: 1_795_255_200_125_000_000, durationNanoseconds: 500_000,
            request: RequestHead(method: "PURGE", target: "/cache", headers: ["Host": "api.example.com"]),
            requestBody: CapturedBody(),
            response: ResponseHead(status: 200, headers: [:]),
            responseBody: CapturedBody())
        return [incoming, outgoing, unmatched]
    }

    /// The request in protobuf, or in OTLP's JSON encoding.
    static func body(json: Bool = false) -> [UInt8] {
        BenchmarkHooks.encodeOTLPTraces(records(), identity: identity, headers: true, bodySizes: true, json: json)
    }
}
