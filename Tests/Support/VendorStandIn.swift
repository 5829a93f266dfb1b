import Foundation
import Synchronization

/// A strict stand-in for a vendor's ingest (`Tests/EndToEnd/vendors/`):
/// a Python process serving on 127.0.0.1 that checks every request the way
/// the vendor does, against schemas written from its docs and SDKs, and
/// answers as the vendor documents. The tests point an exporter at ``url``
/// and read back what was received, refused and why.
///
/// The stand-ins need the `jsonschema`, `rfc3339-validator` and
/// `opentelemetry-proto` packages; the first stand-in a test run starts
/// installs them from PyPI into `.build/standin-python` of this package.
package final class VendorStandIn: Sendable {
    /// One request the stand-in received, with its answer.
    package struct Received: Sendable {
        package var method: String
        package var target: String
        /// Header names lowercased; repeated fields joined with ", ".
        package var headers: [String: String]
        /// The body after its `Content-Encoding` was undone.
        package var body: [UInt8]
        /// The size of the body as it was sent.
        package var rawBytes: Int
        /// The status the stand-in answered.
        package var status: Int
        /// Why the stand-in refused the request, `nil` when it took it.
        package var refusal: String?

        /// The path without the query.
        package var path: String { String(target.prefix { $0 != "?" }) }

        /// The body as JSON, `nil` when it is not JSON.
        package var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
    }

    /// The stand-in's base URL, such as `http://127.0.0.1:40123`.
    package let url: String
    private let process: Process
    private let input: Pipe

    /// Starts the stand-in for `vendor` (`moesif`, `readme`, `apitally`,
    /// `monoscope`), on a thread of its own: an async test must not hold
    /// one of the few cooperative threads while Python starts (or pip
    /// installs), since the code under test needs them.
    package static func start(_ vendor: String) async throws -> VendorStandIn {
        try await offCooperativeThreads { try VendorStandIn(vendor) }
    }

    private init(_ vendor: String) throws {
        let python = try Self.pythonPath()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root + "/Tests/EndToEnd/vendors/standin.py", vendor]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = python
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        self.process = process
        self.input = input
        // The first line is {"port": N}; nothing else is written to standard output.
        var line = [UInt8]()
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else { break }
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let port = object["port"] as? Int
        else {
            process.terminate()
            throw StandInError("the \(vendor) stand-in did not start (first line: \(String(decoding: line, as: UTF8.self)))")
        }
        url = "http://127.0.0.1:\(port)"
    }

    deinit { stop() }

    /// Stops the process (closing its standard input ends it), waiting at
    /// most 5 s before terminating it: a stop in a test's `defer` runs on a
    /// cooperative thread, and Foundation's `waitUntilExit` can wait on a
    /// loaded machine for an exit it has already missed.
    package func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            let killDeadline = ContinuousClock.now + .seconds(2)
            while process.isRunning && ContinuousClock.now < killDeadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Every request received so far, in order (read on a thread of its own).
    package func received() async throws -> [Received] {
        try await offCooperativeThreads { try self.receivedNow() }
    }

    private func receivedNow() throws -> [Received] {
        let (status, body) = try Self.exchange("GET", url + "/_standin/received", body: nil)
        guard status == 200, let list = try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]] else {
            throw StandInError("the stand-in's /_standin/received answered \(status)")
        }
        return list.map { entry in
            Received(
                method: entry["method"] as? String ?? "",
                target: entry["target"] as? String ?? "",
                headers: entry["headers"] as? [String: String] ?? [:],
                body: Array(Data(base64Encoded: entry["body"] as? String ?? "") ?? Data()),
                rawBytes: entry["rawBytes"] as? Int ?? 0,
                status: entry["status"] as? Int ?? 0,
                refusal: entry["refusal"] as? String)
        }
    }

    /// Why each refused request was refused, as `METHOD target: reason`.
    package func refusals() async throws -> [String] {
        try await received().compactMap { entry in entry.refusal.map { "\(entry.method) \(entry.target): \($0)" } }
    }

    /// The next requests get these answers, in order (their checks still run).
    package func script(_ answers: [(status: Int, headers: [String: String], body: String)]) async throws {
        let list = answers.map { ["status": $0.status, "headers": $0.headers, "body": $0.body] as [String: Any] }
        let body = try JSONSerialization.data(withJSONObject: ["answers": list])
        try await control("script", Array(body))
    }

    /// Changes the vendor's own settings (see its module in `Tests/EndToEnd/vendors/`).
    package func configure(_ settings: [String: Any]) async throws {
        try await control("configure", Array(try JSONSerialization.data(withJSONObject: settings)))
    }

    /// Forgets what was received.
    package func reset() async throws {
        try await control("reset", Array("{}".utf8))
    }

    private func control(_ name: String, _ body: [UInt8]) async throws {
        let url = self.url
        let (status, answer) = try await offCooperativeThreads {
            try Self.exchange("POST", url + "/_standin/" + name, body: body)
        }
        guard (200..<300).contains(status) else {
            throw StandInError("the stand-in's /_standin/\(name) answered \(status): \(String(decoding: answer, as: UTF8.self))")
        }
    }

    /// The package's root directory, from this file's place in it.
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    private static let installed = Mutex<String?>(nil)

    /// The directory holding the stand-ins' Python packages, installed once.
    private static func pythonPath() throws -> String {
        try installed.withLock { path in
            if let path { return path }
            let target = root + "/.build/standin-python"
            let probe = "import jsonschema, referencing, rfc3339_validator, google.protobuf, opentelemetry.proto"
            if try run(["python3", "-c", probe], pythonPath: target) != 0 {
                let status = try run(
                    [
                        "python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
                        "--target", target, "jsonschema", "rfc3339-validator", "opentelemetry-proto",
                    ],
                    pythonPath: nil)
                guard status == 0, try run(["python3", "-c", probe], pythonPath: target) == 0 else {
                    throw StandInError(
                        "could not install jsonschema, rfc3339-validator and opentelemetry-proto into \(target) (pip exited \(status))"
                    )
                }
            }
            path = target
            return target
        }
    }

    private static func run(_ arguments: [String], pythonPath: String?) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let pythonPath { environment["PYTHONPATH"] = pythonPath }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// One request to the stand-in's control paths, with the tests' raw
    /// client: `Connection: close`, read to the end.
    private static func exchange(_ method: String, _ url: String, body: [UInt8]?) throws -> (Int, [UInt8]) {
        guard let parsed = URL(string: url), let port = parsed.port else { throw StandInError("bad URL \(url)") }
        let client = try RawClient(port: UInt16(port))
        defer { client.close() }
        let payload = body ?? []
        client.send(
            "\(method) \(parsed.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n")
        client.send(payload)
        let response = Array(client.read().utf8)
        guard let end = response.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw StandInError("the stand-in's \(parsed.path) gave no answer")
        }
        let statusLine = String(decoding: response[..<end.lowerBound], as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw StandInError("the stand-in's \(parsed.path) answered no status")
        }
        return (status, Array(response[end.upperBound...]))
    }
}

/// Why a stand-in could not be started or read.
package struct StandInError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` on a thread of its own and waits for it without holding a
/// cooperative thread.
private func offCooperativeThreads<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
