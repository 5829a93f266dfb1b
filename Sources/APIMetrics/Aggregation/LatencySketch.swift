/// A mergeable latency distribution whose percentiles are within 1% of the
/// exact ones, whatever the distribution.
///
/// Durations, in nanoseconds, fall into log-linear buckets: below 128 ns one
/// bucket per nanosecond; above, each power of two is cut into 64 equal
/// buckets, so a bucket is never wider than 1/64 of its lower bound and its
/// midpoint is within 1/128 (0.78%) of any duration in it. A percentile is
/// the midpoint of the bucket that holds it, clamped to the smallest and
/// largest durations seen. Sketches of different windows or instances add
/// up bucket by bucket (``merge(_:)``) with no loss.
///
/// Only the buckets that hold something are kept, in index order.
///
/// ```swift
/// var sketch = LatencySketch()
/// sketch.add(nanoseconds: 12_400_000)
/// let p99 = sketch.percentile(0.99)  // nanoseconds, or nil when empty
/// ```
public struct LatencySketch: Sendable, Hashable {
    /// The indices of the buckets that hold something, ascending.
    public private(set) var bucketIndices: [Int32] = []
    /// How many durations each bucket of ``bucketIndices`` holds.
    public private(set) var bucketCounts: [UInt64] = []
    /// How many durations were added.
    public private(set) var count: UInt64 = 0
    /// Their sum, in nanoseconds.
    public private(set) var sumNanoseconds: Int64 = 0
    /// The smallest, in nanoseconds; 0 when empty.
    public private(set) var minNanoseconds: Int64 = 0
    /// The largest, in nanoseconds; 0 when empty.
    public private(set) var maxNanoseconds: Int64 = 0

    /// Durations below this many nanoseconds have a bucket each.
    static let exactBelow: Int64 = 128
    /// Buckets per power of two above ``exactBelow``.
    static let bucketsPerOctave = 64
    /// The largest bucket index: durations of 2^42 ns (about 73 minutes)
    /// and more share the last one (their exact maximum is still kept).
    public static let maxIndex: Int32 = Int32(exactBelow) + Int32((42 - 7) * bucketsPerOctave) - 1
    /// How many bucket indices there are.
    static let indexCount = Int(maxIndex) + 1

    /// An empty sketch.
    public init() {}

    /// The bucket a duration falls in.
    @inline(__always)
    public static func index(ofNanoseconds value: Int64) -> Int32 {
        guard value >= exactBelow else { return Int32(max(0, value)) }
        let exponent = 63 - value.leadingZeroBitCount  // ≥ 7
        let subBucket = Int32(truncatingIfNeeded: (value >> (exponent - 6)) & 63)
        let index = Int32(exactBelow) + Int32(exponent - 7) * 64 + subBucket
        return min(index, maxIndex)
    }

    /// The durations a bucket holds: `lower ..< upper` nanoseconds.
    public static func bounds(ofIndex index: Int32) -> (lower: Int64, upper: Int64) {
        guard Int64(index) >= exactBelow else { return (Int64(index), Int64(index) + 1) }
        let offset = Int64(index) - exactBelow
        let exponent = 7 + offset / 64
        let subBucket = offset % 64
        let width = Int64(1) << (exponent - 6)
        let lower = (64 + subBucket) * width
        return (lower, lower + width)
    }

    /// Adds one duration.
    public mutating func add(nanoseconds value: Int64) {
        add(nanoseconds: value, count: 1)
    }

    /// Adds `count` durations of the same value.
    public mutating func add(nanoseconds value: Int64, count added: UInt64) {
        guard added > 0 else { return }
        let value = max(0, value)
        let index = Self.index(ofNanoseconds: value)
        insert(index: index, count: added)
        noteExtremes(min: value, max: value, count: added, sum: value &* Int64(truncatingIfNeeded: added))
    }

    /// Adds every duration of `other`.
    public mutating func merge(_ other: LatencySketch) {
        guard other.count > 0 else { return }
        if count == 0 {
            self = other
            return
        }
        var indices: [Int32] = []
        var counts: [UInt64] = []
        indices.reserveCapacity(bucketIndices.count + other.bucketIndices.count)
        counts.reserveCapacity(indices.capacity)
        var left = 0, right = 0
        while left < bucketIndices.count || right < other.bucketIndices.count {
            if right == other.bucketIndices.count
                || (left < bucketIndices.count && bucketIndices[left] < other.bucketIndices[right])
            {
                indices.append(bucketIndices[left]); counts.append(bucketCounts[left]); left += 1
            } else if left == bucketIndices.count || other.bucketIndices[right] < bucketIndices[left] {
                indices.append(other.bucketIndices[right]); counts.append(other.bucketCounts[right]); right += 1
            } else {
                indices.append(bucketIndices[left]); counts.append(bucketCounts[left] &+ other.bucketCounts[right])
                left += 1; right += 1
            }
        }
        bucketIndices = indices
        bucketCounts = counts
        noteExtremes(min: other.minNanoseconds, max: other.maxNanoseconds, count: other.count, sum: other.sumNanoseconds)
    }

    /// The duration below which a fraction `quantile` (0…1) of the durations
    /// fall, in nanoseconds; `nil` when the sketch is empty.
    public func percentile(_ quantile: Double) -> Double? {
        guard count > 0 else { return nil }
        let q = min(1, max(0, quantile))
        // The rank of the wanted duration among the sorted ones, 0-based
        // (the "nearest rank" that the exact percentile uses too).
        let rank = UInt64((q * Double(count - 1)).rounded(.down))
        var seen: UInt64 = 0
        for (position, bucketCount) in bucketCounts.enumerated() {
            seen &+= bucketCount
            if seen > rank {
                let (lower, upper) = Self.bounds(ofIndex: bucketIndices[position])
                let middle = upper - lower <= 1 ? Double(lower) : (Double(lower) + Double(upper)) / 2
                return min(Double(maxNanoseconds), max(Double(minNanoseconds), middle))
            }
        }
        return Double(maxNanoseconds)
    }

    /// The mean duration in nanoseconds; `nil` when empty.
    public var meanNanoseconds: Double? {
        count == 0 ? nil : Double(sumNanoseconds) / Double(count)
    }

    /// Builds a sketch from dense counts (index → count) and the extremes,
    /// as the aggregator's per-series buckets hold them.
    init(denseCounts: UnsafeBufferPointer<UInt32>, range: ClosedRange<Int>, count: UInt64, sum: Int64, min: Int64, max: Int64) {
        for index in range where denseCounts[index] > 0 {
            bucketIndices.append(Int32(index))
            bucketCounts.append(UInt64(denseCounts[index]))
        }
        self.count = count
        self.sumNanoseconds = sum
        self.minNanoseconds = min
        self.maxNanoseconds = max
    }

    /// Rebuilds a sketch from its parts (as read back from a file).
    /// Returns `nil` when they do not fit together: indices not ascending or
    /// out of range, counts that do not add up to `count`.
    ///
    /// - Parameters:
    ///   - bucketIndices: the indices of the buckets that hold something,
    ///     strictly ascending; one for each of `bucketCounts`.
    ///   - bucketCounts: how many durations each bucket of `bucketIndices`
    ///     holds, none of them 0; their total is the sketch's ``count``.
    ///   - sumNanoseconds: the durations' sum, in nanoseconds.
    ///   - minNanoseconds: the smallest duration, in nanoseconds; at most
    ///     `maxNanoseconds`, read as 0 when the sketch is empty.
    ///   - maxNanoseconds: the largest duration, in nanoseconds; read as 0
    ///     when the sketch is empty.
    public init?(
        bucketIndices: [Int32], bucketCounts: [UInt64], sumNanoseconds: Int64, minNanoseconds: Int64, maxNanoseconds: Int64
    ) {
        guard bucketIndices.count == bucketCounts.count else { return nil }
        var previous: Int32 = -1
        var total: UInt64 = 0
        for (index, bucketCount) in zip(bucketIndices, bucketCounts) {
            guard index > previous, index <= Self.maxIndex, bucketCount > 0 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(bucketCount)
            guard !overflow else { return nil }
            total = sum
            previous = index
        }
        guard minNanoseconds <= maxNanoseconds || total == 0 else { return nil }
        self.bucketIndices = bucketIndices
        self.bucketCounts = bucketCounts
        self.count = total
        self.sumNanoseconds = sumNanoseconds
        self.minNanoseconds = total == 0 ? 0 : minNanoseconds
        self.maxNanoseconds = total == 0 ? 0 : maxNanoseconds
    }

    private mutating func insert(index: Int32, count added: UInt64) {
        // Binary search: the sketch's buckets stay in index order.
        var low = 0, high = bucketIndices.count
        while low < high {
            let middle = (low + high) / 2
            if bucketIndices[middle] < index { low = middle + 1 } else { high = middle }
        }
        if low < bucketIndices.count && bucketIndices[low] == index {
            bucketCounts[low] &+= added
        } else {
            bucketIndices.insert(index, at: low)
            bucketCounts.insert(added, at: low)
        }
    }

    private mutating func noteExtremes(min low: Int64, max high: Int64, count added: UInt64, sum: Int64) {
        if count == 0 {
            minNanoseconds = low
            maxNanoseconds = high
        } else {
            minNanoseconds = Swift.min(minNanoseconds, low)
            maxNanoseconds = Swift.max(maxNanoseconds, high)
        }
        count &+= added
        sumNanoseconds &+= sum
    }
}
