#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The spool's promise across a crash: a batch it acknowledged is on the
/// disk before the acknowledgement, and a process killed right after one
/// loses none of them. A child process (this test bundle, running only the
/// child's part) appends batches and says each acknowledgement; it is
/// killed with SIGKILL while it writes, under strace, which records the
/// order of its system calls.
@Suite("Spool crash")
struct SpoolCrashTests {
    static let childVariable = "APIMETRICS_SPOOL_CRASH_CHILD"

    private static func batch(_ index: Int) -> UndeliveredBatch {
        UndeliveredBatch(
            exporterName: "crash", reason: .retriesExhausted, message: "test",
            identity: ServiceIdentity(service: "spool-crash", environment: "test"),
            records: [
                ExchangeRecord(
                    id: EventID(high: 9, low: UInt64(index + 1)), direction: .incoming,
                    startTimeNanoseconds: 1_700_000_000_000_000_000, durationNanoseconds: 1000,
                    request: RequestHead(method: "GET", target: "/orders/\(index)"), response: ResponseHead(status: 200))
            ],
            abandonedAtNanoseconds: 1)
    }

    /// The child's part, run only in the child: appends until killed,
    /// writing `acked N` to standard output after each acknowledged append.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil))
    func childAppendsUntilKilled() throws {
        let directory = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
        let spool = try DiskSpool(options: SpoolOptions(directory: directory, syncInterval: .zero))
        let pid = Array("pid \(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        for index in 0..<100_000 {
            guard spool.append(Self.batch(index)).isSpooled else { continue }
            let line = Array("acked \(index)\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
    }

    #if os(Linux)
    @Test func everyAcknowledgedBatchWasSyncedBeforeItsAcknowledgementAndSurvivesSIGKILL() async throws {
        let strace = "/usr/bin/strace"
        try #require(FileManager.default.isExecutableFile(atPath: strace), "install strace (apt-get install strace)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spoolPath = directory.file("spool")
        let trace = directory.file("strace.log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        // Every thread; the spool's writes and syncs, and the child's lines.
        process.arguments = [
            "-f", "-qq", "-e", "trace=write,fsync,fdatasync", "-e", "signal=none", "-o", trace,
            CommandLine.arguments[0], "--testing-library", "swift-testing",
            "--filter", "SpoolCrashTests/childAppendsUntilKilled",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = spoolPath
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Killed while it writes, after some acknowledgements.
        var seen = Data()
        while !(String(decoding: seen, as: UTF8.self).components(separatedBy: "acked ").count > 20) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        // SIGKILL to the child while it writes; strace ends with it.
        let said = String(decoding: seen, as: UTF8.self).split(separator: "\n")
        let child = try #require(said.first { $0.hasPrefix("pid ") }.flatMap { Int32($0.dropFirst("pid ".count)) })
        kill(child, SIGKILL)
        process.waitUntilExit()
        let lines = said.filter { $0.hasPrefix("acked ") }
        let acknowledged = lines.compactMap { Int($0.dropFirst("acked ".count)) }
        try #require(acknowledged.count >= 20, "the child acknowledged \(acknowledged.count) batches")
        let log = try String(contentsOfFile: trace, encoding: .utf8)

        // Order: between two acknowledgements, the record's write and then a sync.
        var synced = true
        var sinceAcknowledgement: [String] = []
        var checked = 0
        for line in log.split(separator: "\n") {
            let call = line.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
            if call.hasPrefix("write(1, \"acked ") {
                if checked > 0 {
                    synced = synced && sinceAcknowledgement.contains { $0.hasPrefix("fsync(") || $0.hasPrefix("fdatasync(") }
                }
                checked += 1
                sinceAcknowledgement = []
            } else if call.hasPrefix("fsync(") || call.hasPrefix("fdatasync(") || call.hasPrefix("write(") {
                sinceAcknowledgement.append(call)
            }
        }
        #expect(checked >= 20, "strace saw \(checked) acknowledgements")
        #expect(synced, "an acknowledged batch was not synced before its acknowledgement")

        // Every batch acknowledged before the kill is read back.
        let reopened = try DiskSpool(options: SpoolOptions(directory: spoolPath, syncInterval: .zero))
        var read: Set<String> = []
        while let entry = reopened.oldest(for: "crash") {
            if let batch = reopened.read(entry) { read.formUnion(batch.records.map(\.request.target)) }
            reopened.acknowledge(entry)
        }
        reopened.close()
        let missing = acknowledged.filter { !read.contains("/orders/\($0)") }
        #expect(missing.isEmpty, "acknowledged and lost: \(missing.prefix(10))")
    }
    #endif
}
