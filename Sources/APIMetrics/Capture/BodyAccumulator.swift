/// Counts a body's bytes as they stream through and keeps at most `limit`
/// of them. What is past the limit is counted and never copied.
struct BodyAccumulator {
    private(set) var bytes: [UInt8] = []
    private(set) var size = 0
    private(set) var isTruncated = false
    let limit: Int

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Whether appended bytes may still be kept.
    var isCapturing: Bool { limit > 0 && !isTruncated }

    mutating func append<Bytes: Collection>(_ chunk: Bytes) where Bytes.Element == UInt8 {
        guard limit > 0, !isTruncated else {
            count(chunk.count)
            return
        }
        // Arrays, slices and Data hand over their bytes in one piece: one
        // copy, not a walk through the collection byte by byte.
        let copied: Void? = chunk.withContiguousStorageIfAvailable { buffer in
            append(buffer)
        }
        if copied != nil { return }
        let array = Array(chunk)
        array.withUnsafeBufferPointer { append($0) }
    }

    mutating func append(_ chunk: UnsafeBufferPointer<UInt8>) {
        append(UnsafeRawBufferPointer(chunk))
    }

    /// Raw bytes are read as bytes: no memory binding is assumed.
    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard limit > 0, !isTruncated else {
            count(chunk.count)
            return
        }
        let count = chunk.count
        size &+= count
        guard limit > 0 else { return }
        let room = limit - bytes.count
        if room <= 0 {
            if count > 0 { isTruncated = true }
            return
        }
        if bytes.capacity == 0 {
            bytes.reserveCapacity(Swift.min(limit, Swift.max(count, 256)))
        }
        if count <= room {
            bytes.append(contentsOf: chunk)
        } else {
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<room]))
            isTruncated = true
        }
    }

    /// Counts bytes that the caller did not hand over, such as a body the
    /// server streamed without passing it through the recorder.
    mutating func count(_ byteCount: Int) {
        guard byteCount > 0 else { return }
        size &+= byteCount
        if limit > 0 { isTruncated = true }
    }

    /// The body, its bytes moved out (nothing is appended afterwards).
    mutating func take() -> CapturedBody {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        return CapturedBody(bytes: taken, size: size, isTruncated: isTruncated)
    }
}
