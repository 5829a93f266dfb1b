import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The example server as a user runs it: its own process, SIGTERM to stop.
@Suite("Vapor example lifecycle")
struct LifecycleTests {
    /// The example's executable, built beside this test bundle.
    private var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vapor-example")
    }

    @Test func sigtermStopsIntakeFlushesEveryEventAndExitsZero() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build the example first: swift build")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vapor-lifecycle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.ndjson")

        let process = Process()
        process.executableURL = executable
        process.arguments = ["--port", "0"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("APIMETRICS_") }
        environment["APIMETRICS_FILE"] = file.path
        environment["APIMETRICS_SHUTDOWN_TIMEOUT_MS"] = "5000"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // The first line is "listening on http://127.0.0.1:PORT".
        var banner = Data()
        while !banner.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += chunk
        }
        let line = String(decoding: banner, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        try #require(line.hasPrefix("listening on http://127.0.0.1:"), "the example printed \(line)")
        let root = String(line.dropFirst("listening on ".count))

        let calls = 40
        for index in 0..<calls {
            let url = try #require(URL(string: "\(root)/orders/\(index % 100 + 1)"))
            let (_, response) = try await URLSession.shared.data(from: url)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
        }
        let signalled = Date()
        process.terminate()  // SIGTERM
        while process.isRunning && Date().timeIntervalSince(signalled) < 15 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = Date().timeIntervalSince(signalled)
        #expect(!process.isRunning, "still running \(elapsed) s after SIGTERM")
        if process.isRunning { kill(process.processIdentifier, SIGKILL); return }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(elapsed < 5 + 1, "took \(elapsed) s, past the 5 s shutdown timeout")

        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let served = events.filter { ($0["request"] as? [String: Any])?["route"] as? String == "/orders/{id}" }
        #expect(served.count == calls)
        let windows = events.filter { $0["kind"] as? String == "metrics" }
        #expect(windows.last?["final"] as? Bool == true)
        #expect(windows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == calls)
    }
}
