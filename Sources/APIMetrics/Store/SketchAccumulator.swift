/// Adds up stored sketches (``LatencySketch/storedBytes``) bucket by bucket
/// into dense counts, reading each blob in place: the reader merges
/// thousands of rows for a month's percentiles.
struct SketchAccumulator {
    private var counts: [UInt64] = []
    private(set) var count: UInt64 = 0
    private var sum: Int64 = 0
    private var low: Int64 = .max
    private var high: Int64 = .min

    /// Adds one stored sketch; bytes that are not one are skipped whole.
    mutating func add(storedBytes bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 1, bytes[0] == 1 else { return }
        // A first pass reads and checks it all, a second adds the buckets: a
        // sketch cut or damaged halfway must add nothing, not its first buckets.
        guard let (added, rowSum, rowLow, rowHigh) = Self.walk(bytes, into: nil), added > 0 else { return }
        let (total, overflow) = count.addingReportingOverflow(added)
        guard !overflow else { return }
        if counts.isEmpty { counts = Array(repeating: 0, count: Int(LatencySketch.maxIndex) + 1) }
        counts.withUnsafeMutableBufferPointer { _ = Self.walk(bytes, into: $0) }
        count = total
        sum &+= rowSum
        low = min(low, rowLow)
        high = max(high, rowHigh)
    }

    /// Reads a stored sketch: its total count, sum, minimum and maximum, or
    /// `nil` when it is not one (or its counts overflow); adds its buckets
    /// to `counts` when given.
    private static func walk(
        _ bytes: UnsafeRawBufferPointer, into counts: UnsafeMutableBufferPointer<UInt64>?
    ) -> (UInt64, Int64, Int64, Int64)? {
        var position = 1
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        func zigzag() -> Int64? {
            varint().map { Int64(bitPattern: ($0 >> 1) ^ (0 &- ($0 & 1))) }
        }
        guard let buckets = varint(), buckets <= UInt64(LatencySketch.maxIndex) + 1 else { return nil }
        var index: Int64 = -1
        var added: UInt64 = 0
        for _ in 0..<buckets {
            guard let gap = varint(), let bucketCount = varint() else { return nil }
            index += Int64(clamping: gap)
            guard index >= 0, index <= Int64(LatencySketch.maxIndex) else { return nil }
            let (total, overflow) = added.addingReportingOverflow(bucketCount)
            guard !overflow else { return nil }
            added = total
            counts?[Int(index)] &+= bucketCount
        }
        guard let rowSum = zigzag(), let rowLow = zigzag(), let rowHigh = zigzag() else { return nil }
        return (added, rowSum, rowLow, rowHigh)
    }

    /// Adds another accumulator's durations.
    mutating func merge(_ other: SketchAccumulator) {
        guard other.count > 0 else { return }
        if counts.isEmpty {
            counts = other.counts
        } else {
            for index in counts.indices where other.counts[index] > 0 { counts[index] &+= other.counts[index] }
        }
        count &+= other.count
        sum &+= other.sum
        low = min(low, other.low)
        high = max(high, other.high)
    }

    /// The merged sketch.
    var sketch: LatencySketch {
        guard count > 0 else { return LatencySketch() }
        var indices: [Int32] = []
        var bucketCounts: [UInt64] = []
        for (index, value) in counts.enumerated() where value > 0 {
            indices.append(Int32(index))
            bucketCounts.append(value)
        }
        return LatencySketch(
            bucketIndices: indices, bucketCounts: bucketCounts, sumNanoseconds: sum, minNanoseconds: low, maxNanoseconds: high)
            ?? LatencySketch()
    }
}
