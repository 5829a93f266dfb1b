/// Trace ids as OTLP's protobuf encoding carries them: 16 raw bytes,
/// big-endian.
enum OTLPIDs {
    /// The two halves of a 32-hex-digit trace id, or of `fallback` when
    /// the id is missing, not hex or all zeros.
    static func traceID(_ hex: String?, fallback: EventID) -> (UInt64, UInt64) {
        guard let hex, hex.utf8.count == 32 else { return (fallback.high, fallback.low) }
        var high: UInt64 = 0, low: UInt64 = 0
        for (index, character) in hex.utf8.enumerated() {
            guard let nibble = URLTarget.hexValue(character) else { return (fallback.high, fallback.low) }
            if index < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
        }
        return high == 0 && low == 0 ? (fallback.high, fallback.low) : (high, low)
    }

}
