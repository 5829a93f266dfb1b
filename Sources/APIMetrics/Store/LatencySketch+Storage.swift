extension LatencySketch {
    /// The sketch as the store keeps it: the non-empty buckets as
    /// (index gap, count) varint pairs, then the sum, minimum and maximum.
    var storedBytes: [UInt8] {
        var writer = BinaryWriter()
        writer.byte(1)
        writer.count(bucketIndices.count)
        var previous: Int32 = -1
        for (index, count) in zip(bucketIndices, bucketCounts) {
            writer.unsigned(UInt64(index - previous))
            writer.unsigned(count)
            previous = index
        }
        writer.signed(sumNanoseconds)
        writer.signed(minNanoseconds)
        writer.signed(maxNanoseconds)
        return writer.bytes
    }

    /// Reads ``storedBytes`` back; `nil` for bytes that are not a sketch.
    init?(storedBytes bytes: [UInt8]) {
        var reader = BinaryReader(bytes)
        do {
            guard try reader.byte() == 1 else { return nil }
            let buckets = try reader.count()
            guard buckets <= Int(LatencySketch.maxIndex) + 1 else { return nil }
            var indices: [Int32] = []
            var counts: [UInt64] = []
            indices.reserveCapacity(buckets)
            counts.reserveCapacity(buckets)
            var index: Int64 = -1
            for _ in 0..<buckets {
                index += Int64(clamping: try reader.unsigned())
                guard index <= Int64(LatencySketch.maxIndex) else { return nil }
                indices.append(Int32(index))
                counts.append(try reader.unsigned())
            }
            let sum = try reader.signed(), low = try reader.signed(), high = try reader.signed()
            self.init(
                bucketIndices: indices, bucketCounts: counts, sumNanoseconds: sum, minNanoseconds: low, maxNanoseconds: high)
        } catch {
            return nil
        }
    }
}
