import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("gzip")
struct GzipTests {
    @Test func roundTripsGeneratedInput() throws {
        var generator = SeededGenerator.replayable()
        for length in [0, 1, 2, 100, 4096, 100_000] {
            let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let repetitive = (0..<length).map { UInt8(truncatingIfNeeded: $0 % 7) }
            for input in [random, repetitive] {
                let compressed = try Gzip.compress(input)
                #expect(compressed.prefix(2) == [0x1F, 0x8B])
                #expect(try Gzip.decompress(compressed) == input)
            }
        }
    }

    @Test func readsWhatTheGzipProgramWrites() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = String(repeating: "the quick brown fox ", count: 500)
        try text.write(toFile: directory.file("a.txt"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -9 '\(directory.file("a.txt"))'"]
        try process.run()
        process.waitUntilExit()
        let compressed = try Array(Data(contentsOf: URL(fileURLWithPath: directory.file("a.txt.gz"))))
        #expect(try Gzip.decompress(compressed) == Array(text.utf8))
    }

    @Test func rejectsTruncatedAndCorruptStreams() throws {
        let compressed = try Gzip.compress(Array(String(repeating: "abc", count: 1000).utf8))
        #expect(throws: (any Error).self) { try Gzip.decompress(Array(compressed.prefix(compressed.count / 2))) }
        var corrupt = compressed
        corrupt[corrupt.count / 2] ^= 0xFF
        #expect(throws: (any Error).self) { try Gzip.decompress(corrupt) }
        #expect(throws: (any Error).self) { try Gzip.decompress([1, 2, 3]) }
    }
}
