import CZlib

/// The spool's segment format: an 8-byte header (`AMSPOOL1`), then records
/// back to back, each a 4-byte marker, the payload's length and CRC-32
/// (little-endian `UInt32`s), and the payload (a serialized
/// ``UndeliveredBatch``).
///
/// A reader that meets a record whose length runs past the end (a torn
/// write) or whose checksum does not match (a corrupted sector) skips it and
/// looks for the next marker, so that one bad record costs that record only.
enum SpoolRecord {
    static let fileHeader: [UInt8] = Array("AMSPOOL1".utf8)
    static let marker: [UInt8] = [0xA5, 0x70, 0x0C, 0x1E]
    /// Marker, length, checksum.
    static let headerSize = 12
    /// The largest payload a record may say it holds.
    static let maxPayload = 1 << 30

    /// The record for `payload`.
    static func encode(_ payload: [UInt8]) -> [UInt8] {
        var bytes = marker
        bytes.reserveCapacity(headerSize + payload.count)
        appendUInt32(UInt32(payload.count), to: &bytes)
        appendUInt32(checksum(payload[...]), to: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// CRC-32 (the zlib, gzip and PNG one).
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc = crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let chunk = min(buffer.count - offset, Int(UInt32.max))
                crc = crc32(crc, buffer.baseAddress.map { $0 + offset }, uInt(chunk))
                offset += chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    /// What a segment's bytes hold: each whole record's offset and payload,
    /// and how many stretches of bytes had to be skipped.
    struct Scan {
        var records: [(offset: Int, payload: ArraySlice<UInt8>)] = []
        /// Stretches skipped: torn or corrupted records, or garbage.
        var skipped = 0
        /// Whether the bytes began with the segment header.
        var hasHeader = false
    }

    /// Reads every whole, intact record of a segment.
    static func scan(_ bytes: [UInt8]) -> Scan {
        var scan = Scan()
        guard bytes.count >= fileHeader.count, Array(bytes[0..<fileHeader.count]) == fileHeader else {
            scan.skipped = bytes.isEmpty ? 0 : 1
            return scan
        }
        scan.hasHeader = true
        var position = fileHeader.count
        var inBadStretch = false
        while position < bytes.count {
            if let (payload, next) = record(in: bytes, at: position) {
                scan.records.append((position, payload))
                position = next
                inBadStretch = false
                continue
            }
            if !inBadStretch {
                scan.skipped += 1
                inBadStretch = true
            }
            // Look for the next marker after this position.
            position += 1
            while position < bytes.count, !hasMarker(bytes, at: position) { position += 1 }
        }
        return scan
    }

    /// The intact record at `position` and where the next one begins.
    static func record(in bytes: [UInt8], at position: Int) -> (ArraySlice<UInt8>, Int)? {
        guard bytes.count - position >= headerSize, hasMarker(bytes, at: position) else { return nil }
        let length = Int(readUInt32(bytes, at: position + 4))
        let sum = readUInt32(bytes, at: position + 8)
        let start = position + headerSize
        guard length <= maxPayload, length <= bytes.count - start else { return nil }
        let payload = bytes[start..<(start + length)]
        guard checksum(payload) == sum else { return nil }
        return (payload, start + length)
    }

    private static func hasMarker(_ bytes: [UInt8], at position: Int) -> Bool {
        guard bytes.count - position >= marker.count else { return false }
        return bytes[position] == marker[0] && bytes[position + 1] == marker[1]
            && bytes[position + 2] == marker[2] && bytes[position + 3] == marker[3]
    }

    static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func readUInt32(_ bytes: [UInt8], at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[position + index]) << UInt32(8 * index) }
        return value
    }
}

/// The spool's record format for the fuzzer: segments written and read
/// back, without a directory.
package enum SpoolFuzzing {
    /// A segment holding one record per payload.
    package static func segment(_ payloads: [[UInt8]]) -> [UInt8] {
        SpoolRecord.fileHeader + payloads.flatMap(SpoolRecord.encode)
    }

    /// The payloads a reader finds in `bytes`, each with its record's start
    /// offset, and how many stretches it skipped.
    package static func read(_ bytes: [UInt8]) -> (records: [(offset: Int, payload: [UInt8])], skipped: Int) {
        let scan = SpoolRecord.scan(bytes)
        return (scan.records.map { ($0.offset, Array($0.payload)) }, scan.skipped)
    }

    /// The bytes a record adds besides its payload.
    package static let recordOverhead = SpoolRecord.headerSize
    /// The segment header's size.
    package static let headerSize = SpoolRecord.fileHeader.count
    /// The record marker, so that generated payloads can hold it.
    package static let marker = SpoolRecord.marker
}
