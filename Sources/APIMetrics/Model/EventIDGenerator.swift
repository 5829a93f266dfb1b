import Synchronization

/// Makes unique, unpredictable event ids without a system call per id.
///
/// Each id mixes a per-instance random seed with a counter through splitmix64,
/// a bijection, so ids of one generator never repeat.
final class EventIDGenerator: Sendable {
    private let seedHigh: UInt64
    private let seedLow: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        seedHigh = generator.next()
        seedLow = generator.next()
    }

    func next() -> EventID {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return EventID(high: Self.mix(seedHigh &+ n), low: Self.mix(seedLow &+ n &* 0x9E37_79B9_7F4A_7C15))
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
