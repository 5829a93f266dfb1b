#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A server executable run as its users run it: its own process writing
/// events to a file, real calls over loopback, then SIGTERM. What a
/// framework package's lifecycle test checks: intake stops, every call
/// served is flushed, the last window is final, and the process exits 0
/// within the shutdown timeout.
///
/// The executable prints a line `listening on http://127.0.0.1:PORT` on
/// standard output (flushed: a pipe is not a terminal), takes `--port 0`,
/// and reads APIMetrics' configuration from the environment
/// (`APIMETRICS_FILE`, `APIMETRICS_SHUTDOWN_TIMEOUT_MS`). It runs in a
/// directory of its own, with the store off and no `APIMETRICS_*` or
/// `OTEL_*` variable of the caller's.
///
/// ```swift
/// @Test func sigtermFlushesEverythingAndExitsZero() async throws {
///     let check = ServerProcessCheck(executable: ServerProcessCheck.builtExecutable(named: "orders-server"))
///     #expect(try await check.run().problems == [])
/// }
/// ```
public struct ServerProcessCheck: Sendable {
    /// What the check found.
    public struct Outcome: Sendable {
        /// The process's exit status; `nil` when it did not exit by itself
        /// (it was killed) or ended by a signal.
        public var exitStatus: Int32?
        /// From SIGTERM to the process's end.
        public var timeToExit: Duration
        /// Calls answered with 200.
        public var callsAnswered: Int
        /// Call events in the file with the check's route.
        public var callsRecorded: Int
        /// Whether the file's last metrics window says it is the final one.
        public var isLastWindowFinal: Bool
        /// Requests counted over every window in the file.
        public var requestsInWindows: Int
        /// What the check expected and did not find, in words; empty when all held.
        public var problems: [String]
    }

    /// Why the check could not run.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The executable to run.
    public var executable: URL
    /// Calls to make before SIGTERM.
    public var calls: Int
    /// The path of each call, by its number from 0.
    public var path: @Sendable (Int) -> String
    /// The route each call's event must carry.
    public var route: String
    /// The shutdown timeout the process is given; it must exit within it
    /// and a second.
    public var shutdownTimeout: Duration

    /// A check of `executable`.
    ///
    /// - Parameters:
    ///   - executable: The server to run.
    ///   - calls: Calls to make before SIGTERM; 40 by default.
    ///   - path: Each call's path; by default `/orders/1` to `/orders/100`.
    ///   - route: The route their events carry; `/orders/{id}` by default.
    ///   - shutdownTimeout: The shutdown timeout the process is given.
    public init(
        executable: URL, calls: Int = 40, path: @escaping @Sendable (Int) -> String = { "/orders/\($0 % 100 + 1)" },
        route: String = "/orders/{id}", shutdownTimeout: Duration = .seconds(5)
    ) {
        self.executable = executable
        self.calls = calls
        self.path = path
        self.route = route
        self.shutdownTimeout = shutdownTimeout
    }

    /// An executable built beside the running test bundle, as `swift build`
    /// leaves a package's products.
    ///
    /// - Parameter name: The executable product's name.
    /// - Returns: Its path in the build directory.
    public static func builtExecutable(named name: String) -> URL {
        #if canImport(Darwin)
        // The tests run in a runner of Xcode's; the bundle is in the build directory.
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name)
        }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Runs the executable, makes the calls, sends SIGTERM and reads the
    /// events it wrote.
    ///
    /// - Returns: What was found, with the problems in words.
    /// - Throws: ``Failure`` when the executable is missing, does not say
    ///   where it listens, or a call cannot be made.
    public func run() async throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure(description: "\(executable.path) is not built: swift build first")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apimetrics-lifecycle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.ndjson")

        let process = Process()
        process.executableURL = executable
        process.arguments = ["--port", "0"]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("APIMETRICS_") && !$0.key.hasPrefix("OTEL_")
        }
        environment["APIMETRICS_FILE"] = file.path
        environment["APIMETRICS_STORE"] = "off"
        let timeoutMilliseconds =
            shutdownTimeout.components.seconds * 1000 + shutdownTimeout.components.attoseconds / 1_000_000_000_000_000
        environment["APIMETRICS_SHUTDOWN_TIMEOUT_MS"] = String(timeoutMilliseconds)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        // Read to the end on a thread of Foundation's, so that a server that
        // writes a lot never blocks on a full pipe.
        let printed = Mutex(Data())
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil } else { printed.withLock { $0 += chunk } }
        }
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            output.fileHandleForReading.readabilityHandler = nil
        }

        let banner = "listening on http://127.0.0.1:"
        var root: String?
        let started = ContinuousClock.now
        while root == nil && process.isRunning && ContinuousClock.now - started < .seconds(30) {
            let lines = String(decoding: printed.withLock { $0 }, as: UTF8.self).split(separator: "\n")
            root = lines.first { $0.hasPrefix(banner) }.map { String($0.dropFirst("listening on ".count)) }
            if root == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard let root else {
            let text = String(decoding: printed.withLock { $0 }, as: UTF8.self).prefix(300)
            throw Failure(description: "the server did not print \"\(banner)PORT\" within 30 s; it printed \"\(text)\"")
        }

        var answered = 0
        for index in 0..<calls {
            guard let url = URL(string: root + path(index)) else { throw Failure(description: "no URL of \(root + path(index))") }
            let (_, response) = try await URLSession.shared.data(from: url)
            if (response as? HTTPURLResponse)?.statusCode == 200 { answered += 1 }
        }
        let signalled = ContinuousClock.now
        process.terminate()  // SIGTERM
        let limit = shutdownTimeout + .seconds(10)
        while process.isRunning && ContinuousClock.now - signalled < limit {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - signalled
        let exited = !process.isRunning && process.terminationReason == .exit
        var outcome = Outcome(
            exitStatus: exited ? process.terminationStatus : nil, timeToExit: elapsed, callsAnswered: answered,
            callsRecorded: 0, isLastWindowFinal: false, requestsInWindows: 0, problems: [])
        if process.isRunning {
            outcome.problems.append("still running \(elapsed) after SIGTERM")
            return outcome
        }
        let events = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        outcome.callsRecorded = events.filter { ($0["request"] as? [String: Any])?["route"] as? String == route }.count
        let windows = events.filter { $0["kind"] as? String == "metrics" }
        outcome.isLastWindowFinal = windows.last?["final"] as? Bool == true
        outcome.requestsInWindows = windows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        if outcome.exitStatus != 0 {
            outcome.problems.append(
                "exited with \(process.terminationStatus) (\(process.terminationReason == .exit ? "status" : "signal"))")
        }
        if elapsed > shutdownTimeout + .seconds(1) {
            outcome.problems.append("took \(elapsed) to exit, past its \(shutdownTimeout) shutdown timeout")
        }
        if answered != calls { outcome.problems.append("\(answered) of \(calls) calls answered 200") }
        if outcome.callsRecorded != calls {
            outcome.problems.append("\(outcome.callsRecorded) events of \(route), \(calls) calls made")
        }
        if !outcome.isLastWindowFinal { outcome.problems.append("the last metrics window is not the final one") }
        if outcome.requestsInWindows != calls {
            outcome.problems.append("the windows count \(outcome.requestsInWindows) requests, \(calls) calls made")
        }
        return outcome
    }
}
