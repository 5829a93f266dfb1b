/// How many bodies fell in each size range, with their total size.
///
/// The bounds are powers of four from 64 bytes to 16 MiB
/// (``upperBounds``); the last bucket holds everything larger.
public struct SizeHistogram: Sendable, Hashable {
    /// The inclusive upper bound of each bucket but the last, in bytes.
    public static let upperBounds: [Int] = [
        64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216,
    ]

    /// How many buckets, the last (larger than every bound) included.
    static let bucketCount = 11

    /// How many bodies each bucket holds: `upperBounds.count + 1` entries,
    /// the last for bodies larger than every bound.
    public private(set) var counts: [UInt64]
    /// The total size of the bodies, in bytes.
    public private(set) var sumBytes: Int64 = 0

    /// An empty histogram.
    public init() {
        counts = Array(repeating: 0, count: Self.upperBounds.count + 1)
    }

    /// Rebuilds a histogram from its parts; `nil` when the counts do not
    /// match the bounds.
    public init?(counts: [UInt64], sumBytes: Int64) {
        guard counts.count == Self.upperBounds.count + 1 else { return nil }
        self.counts = counts
        self.sumBytes = sumBytes
    }

    /// How many bodies it holds.
    public var count: UInt64 { counts.reduce(0, &+) }

    /// The mean size in bytes; `nil` when empty.
    public var meanBytes: Double? {
        let total = count
        return total == 0 ? nil : Double(sumBytes) / Double(total)
    }

    /// The bucket a size falls in.
    @inline(__always)
    static func bucket(ofBytes size: Int) -> Int {
        // Powers of four from 2^6: the bucket is read off the bit length.
        guard size > 64 else { return 0 }
        let bits = Int.bitWidth - (size - 1).leadingZeroBitCount  // size - 1 < 2^bits
        return min(bucketCount - 1, (bits - 6 + 1) / 2)
    }

    /// Adds one body.
    public mutating func add(bytes size: Int) {
        counts[Self.bucket(ofBytes: size)] &+= 1
        sumBytes &+= Int64(max(0, size))
    }

    /// Adds every body of `other`.
    public mutating func merge(_ other: SizeHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        sumBytes &+= other.sumBytes
    }

    /// Adds raw bucket counts (the aggregator's per-series slots).
    mutating func add(counts added: UnsafeBufferPointer<UInt64>, sum: Int64) {
        for index in counts.indices { counts[index] &+= added[index] }
        sumBytes &+= sum
    }
}
