import Synchronization

/// Makes unique, unpredictable event ids without a system call per id.
///
/// Each id mixes a per-instance random seed with a counter through splitmix64,
/// a bijection, so ids of one generator never repeat. The high half starts
/// with the call's start in milliseconds (48 bits, as a UUIDv7 does), then
/// 16 mixed bits; the low half is 64 mixed bits: ids sort by time, so that
/// an index of them (the local store's) grows at its end instead of
/// touching a random page per call, and 80 bits stay unpredictable.
final class EventIDGenerator: Sendable {
    private let seedHigh: UInt64
    private let seedLow: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        seedHigh = generator.next()
        seedLow = generator.next()
    }

    /// The next id, for a call that started `wallNanoseconds` after the epoch.
    func next(wallNanoseconds: Int64) -> EventID {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let milliseconds = UInt64(max(0, wallNanoseconds) / 1_000_000) & 0xFFFF_FFFF_FFFF
        return EventID(
            high: milliseconds << 16 | (Self.mix(seedHigh &+ n) & 0xFFFF),
            low: Self.mix(seedLow &+ n &* 0x9E37_79B9_7F4A_7C15))
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
