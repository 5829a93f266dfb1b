/// W3C Trace Context (`traceparent`), read from incoming requests and
/// written on outgoing ones, so that calls across services join one trace.
public struct TraceContext: Sendable, Hashable {
    /// 32 lowercase hex digits, not all zero.
    public var traceID: String
    /// 16 lowercase hex digits, not all zero: the caller's span.
    public var parentSpanID: String
    /// The trace flags; bit 0 is "sampled".
    public var flags: UInt8

    /// Parses a `traceparent` value; `nil` when it is not valid, in which
    /// case the caller ignores it (W3C Trace Context §3.2).
    public init?(traceparent value: String) {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-")
        else { return nil }
        func isHex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        }
        guard isHex(0..<2), isHex(3..<35), isHex(36..<52), isHex(53..<55) else { return nil }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        guard version != "ff" else { return nil }
        // Version 00 is exactly 55 characters; later versions may add fields.
        if version == "00" {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }
        }
        let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
        let parentSpanID = String(decoding: bytes[36..<52], as: UTF8.self)
        guard traceID != String(repeating: "0", count: 32), parentSpanID != String(repeating: "0", count: 16),
            let flags = UInt8(String(decoding: bytes[53..<55], as: UTF8.self), radix: 16)
        else { return nil }
        self.traceID = traceID
        self.parentSpanID = parentSpanID
        self.flags = flags
    }

    /// The `traceparent` value a call made as span `spanID` of `traceID` sends.
    ///
    /// - Parameters:
    ///   - traceID: the trace's id: 32 lowercase hex digits, not all zero.
    ///   - spanID: the calling span's id: 16 lowercase hex digits, not all
    ///     zero.
    ///   - sampled: whether the trace is sampled (flags `01`, the default) or
    ///     not (`00`).
    /// - Returns: the version 00 header value,
    ///   `00-{traceID}-{spanID}-{flags}`.
    public static func traceparent(traceID: String, spanID: String, sampled: Bool = true) -> String {
        "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")"
    }
}

extension EventID {
    /// The id's low 64 bits as 16 hex digits: the span id the exchange uses
    /// in `traceparent` headers it sends.
    public var spanID: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        Self.appendHex(low == 0 ? 1 : low, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
