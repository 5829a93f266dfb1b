import APIMetrics
import Foundation
import WireFuzzing

/// Generates `count` spool segments, damages most of them, and checks what
/// the reader finds; returns the number of segments it got wrong (the first
/// few are described on standard error).
func fuzzSpoolSegments(_ count: Int, using generator: inout SplitMix) -> Int {
    var failures = 0
    for iteration in 0..<count {
        var payloads: [[UInt8]] = []
        for _ in 0..<Int(generator.next() % 6) {
            var payload = (0..<Int(generator.next() % 96)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Now and then a payload holds a marker, to tempt the reader.
            if generator.next() % 8 == 0 {
                payload.insert(
                    contentsOf: SpoolFuzzing.marker, at: payload.isEmpty ? 0 : Int(generator.next() % UInt64(payload.count)))
            }
            payloads.append(payload)
        }
        let whole = SpoolFuzzing.segment(payloads)
        // Where each record lies in the segment.
        var ranges: [Range<Int>] = []
        var position = SpoolFuzzing.headerSize
        for payload in payloads {
            ranges.append(position..<(position + SpoolFuzzing.recordOverhead + payload.count))
            position += SpoolFuzzing.recordOverhead + payload.count
        }
        var bytes = whole
        // The records the damage leaves whole: a record that is
        // untouched must come back; nothing that was not written may.
        var intact = Array(payloads.indices)
        switch generator.next() % 4 {
        case 0:
            break
        case 1:
            // Torn at a byte after the header.
            let cut = SpoolFuzzing.headerSize + Int(generator.next() % UInt64(max(1, whole.count - SpoolFuzzing.headerSize + 1)))
            bytes = Array(whole.prefix(cut))
            intact = intact.filter { ranges[$0].upperBound <= cut }
        case 2:
            // Bytes changed at random places after the header.
            if whole.count > SpoolFuzzing.headerSize {
                for _ in 0..<(1 + Int(generator.next() % 3)) {
                    let at = SpoolFuzzing.headerSize + Int(generator.next() % UInt64(whole.count - SpoolFuzzing.headerSize))
                    bytes[at] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                    intact = intact.filter { !ranges[$0].contains(at) }
                }
            }
        default:
            // Garbage inserted at a record boundary.
            let boundary = ([SpoolFuzzing.headerSize] + ranges.map(\.upperBound))[
                Int(generator.next() % UInt64(ranges.count + 1))]
            let garbage = (0..<(1 + Int(generator.next() % 20))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            bytes.insert(contentsOf: garbage, at: boundary)
        }
        let found = SpoolFuzzing.read(bytes).records.map(\.payload)
        let wanted = intact.map { payloads[$0] }
        // Every intact record in order, and nothing that was not written.
        var next = 0
        for payload in found where next < wanted.count && payload == wanted[next] { next += 1 }
        let complete = next == wanted.count
        let noPhantom = found.allSatisfy { payloads.contains($0) }
        if !complete || !noPhantom {
            failures += 1
            if failures <= 5 {
                FileHandle.standardError.write(
                    Data("spool segment \(iteration): wanted \(wanted.count) records, found \(found.count)\n".utf8))
            }
        }
    }
    return failures
}
