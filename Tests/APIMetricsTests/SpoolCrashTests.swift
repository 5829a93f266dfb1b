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

    /// The child's part, run only in the child: appends until killed (or,
    /// should no one kill it, 5,000 batches), writing `acked N` to standard
    /// output after each acknowledged append.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil))
    func childAppendsUntilKilled() throws {
        let directory = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
        let spool = try DiskSpool(options: SpoolOptions(directory: directory, syncInterval: .zero))
        let pid = Array("pid \(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        for index in 0..<5_000 {
            guard spool.append(Self.batch(index)).isSpooled else { continue }
            let line = Array("acked \(index)\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
    }

    #if os(Linux)
    @Test func everyAcknowledgedBatchWasSyncedBeforeItsAcknowledgementAndSurvivesSIGKILL() throws {
        let strace = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/strace" }
                .first { FileManager.default.isExecutableFile(atPath: $0) },
            "install strace (apt-get install strace)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spoolPath = directory.file("spool")
        let trace = directory.file("strace.log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        // Every thread; the writes and syncs with the files their descriptors name (-y).
        process.arguments = [
            "-f", "-y", "-qq", "-e", "trace=write,fsync,fdatasync", "-e", "signal=none", "-o", trace,
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
        var child: Int32?
        defer {
            if let child { kill(child, SIGKILL) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        // Killed while it writes, after some acknowledgements; at the
        // latest when it ends by itself (5,000 batches).
        var seen = Data()
        while String(decoding: seen, as: UTF8.self).components(separatedBy: "acked ").count <= 20 {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        let said = String(decoding: seen, as: UTF8.self).split(separator: "\n")
        child = said.first { $0.hasPrefix("pid ") }.flatMap { Int32($0.dropFirst("pid ".count)) }
        try #require(child != nil, "the child did not start (is ptrace allowed here?): \(said.prefix(5))")
        if let child { kill(child, SIGKILL) }
        process.waitUntilExit()
        let acknowledged = said.filter { $0.hasPrefix("acked ") }.compactMap { Int($0.dropFirst("acked ".count)) }
        try #require(acknowledged.count >= 20, "the child acknowledged \(acknowledged.count) batches")

        // Order, per acknowledgement: the record written to a spool
        // segment, then that same descriptor synced, then `acked`.
        var written: String?
        var syncedAfterWrite = false
        var checked = 0
        var unsynced: [String] = []
        for line in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") {
            // strace -f starts each line with the thread id, padded.
            let call = String(line.drop(while: \.isNumber).drop(while: { $0 == " " }))
            let descriptor = call.split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
            if call.hasPrefix("write(1<"), call.contains("\"acked ") {
                if !syncedAfterWrite { unsynced.append(call) }
                checked += 1
                syncedAfterWrite = false
                written = nil
            } else if call.hasPrefix("write("), descriptor.hasSuffix(".spool>") {
                written = String(descriptor.dropFirst("write(".count))
                syncedAfterWrite = false
            } else if let written, call.hasPrefix("fsync(\(written)") || call.hasPrefix("fdatasync(\(written)") {
                syncedAfterWrite = true
            }
        }
        #expect(checked >= 20, "strace saw \(checked) acknowledgements")
        #expect(unsynced.isEmpty, "acknowledged before the record was synced: \(unsynced.prefix(3))")

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
