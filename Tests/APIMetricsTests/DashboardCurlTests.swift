@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

/// The app's "Copy as cURL" over hostile calls: the page's own builder
/// (`curlCommand` and the helpers it uses, taken from the script) runs in
/// Node, and the command it writes runs in bash with `curl` replaced by a
/// function that prints the arguments curl would get. Whatever a client
/// sent, no value may leave its quotes, and no argument may make curl read
/// a local file or expand a URL into many requests.
@Suite(
    "Dashboard cURL",
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/node")
            && FileManager.default.isExecutableFile(atPath: "/bin/bash")))
struct DashboardCurlTests {
    /// The builder's source: the one-line helpers it calls and the block
    /// from `const REDACTED` up to the call page.
    static func builderSource() throws -> String {
        let script = DashboardApp.script
        var source = "'use strict';\nconst location = { origin: 'http://127.0.0.1:9' };\n"
        for helper in ["function arr(", "function obj(", "function num(", "function str(", "function count("] {
            let line = try #require(
                script.components(separatedBy: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(helper) })
            source += line + "\n"
        }
        let start = try #require(script.range(of: "const REDACTED"))
        let end = try #require(script.range(of: "async function callPage", range: start.upperBound..<script.endIndex))
        source += script[start.lowerBound..<end.lowerBound]
        source += "\nconst call = JSON.parse(require('fs').readFileSync(0, 'utf8'));\nprocess.stdout.write(curlCommand(call));\n"
        return source
    }

    static func run(_ executable: String, _ arguments: [String], input: Data, directory: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return output
    }

    /// The command the page builds for `call` (an API `call` answer), and
    /// the arguments curl would receive from it.
    static func curlArguments(for call: [String: Any], in directory: String) throws -> (command: String, arguments: [String]) {
        let builder = directory + "/curl-builder.js"
        try builderSource().write(toFile: builder, atomically: true, encoding: .utf8)
        let command = String(
            decoding: try run(
                "/usr/bin/node", [builder], input: try JSONSerialization.data(withJSONObject: call), directory: directory),
            as: UTF8.self)
        let shell = "curl() { printf '%s\\0' \"$@\"; }\n" + command + "\n"
        let printed = try run("/bin/bash", ["-c", shell], input: Data(), directory: directory)
        let arguments = printed.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
        return (command, arguments)
    }

    static func call(url: String, method: String = "POST", headers: [[String]] = [], body: String? = nil) -> [String: Any] {
        var request: [String: Any] = ["headers": headers]
        if let body { request["body"] = ["size": body.utf8.count, "truncated": false, "encoding": "utf8", "text": body] }
        return ["method": method, "url": url, "path": "/", "request": request]
    }

    /// The values of the options that send data or headers.
    static func values(of options: Set<String>, in arguments: [String]) -> [String] {
        zip(arguments, arguments.dropFirst()).filter { options.contains($0.0) }.map(\.1)
    }

    static let dataOptions: Set<String> = ["-d", "--data", "--data-binary", "--data-ascii", "--data-urlencode", "-F", "--form"]

    @Test func aBodyThatStartsWithAnAtSignIsSentAsItIsNotReadFromAFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (command, arguments) = try Self.curlArguments(
            for: Self.call(url: "http://127.0.0.1:9/upload", body: "@/etc/hostname"), in: directory.path)
        // curl reads the file named after an @ in these options' values: the operator's file would go to the URL.
        let data = Self.values(of: Self.dataOptions, in: arguments)
        #expect(!data.contains { $0.hasPrefix("@") }, "\(command)")
        #expect(
            arguments.contains("/etc/hostname") || arguments.contains("@/etc/hostname"), "the body is still sent: \(arguments)")
    }

    @Test func aHeaderThatStartsWithAnAtSignIsNotReadFromAFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (command, arguments) = try Self.curlArguments(
            for: Self.call(url: "http://127.0.0.1:9/x", headers: [["@/etc/hostname", "x"], ["accept", "*/*"]]), in: directory.path
        )
        #expect(!Self.values(of: ["-H", "--header"], in: arguments).contains { $0.hasPrefix("@") }, "\(command)")
    }

    @Test func aURLWithBracketsOrBracesIsNotExpandedIntoManyRequests() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for url in ["http://127.0.0.1:9/items/[1-100000]", "http://127.0.0.1:9/{a,b,c}/x?q=[0-9]"] {
            let (command, arguments) = try Self.curlArguments(for: Self.call(url: url, method: "DELETE"), in: directory.path)
            #expect(arguments.contains(url), "\(arguments)")
            #expect(arguments.contains("-g") || arguments.contains("--globoff"), "curl globs [] and {} in URLs: \(command)")
        }
    }

    @Test func noValueLeavesItsQuotes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let marker = directory.file("ran")
        let hostile = [
            "'; touch \(marker); echo '", "$(touch \(marker))", "`touch \(marker)`", "'\"'\"'\\'\n; touch \(marker) #",
            "REDACTED'; touch \(marker); '", "[REDACTED]$(touch \(marker))",
        ]
        for value in hostile {
            let call = Self.call(
                url: "http://127.0.0.1:9/x?a=" + value, method: value,
                headers: [["x-evil", value], [value, "v"], ["authorization", "Bearer [REDACTED]"]], body: value)
            let (command, arguments) = try Self.curlArguments(for: call, in: directory.path)
            #expect(!FileManager.default.fileExists(atPath: marker), "\(command)")
            // A redacted spot becomes "$X_EVIL", empty while unset; the rest is the value as it was.
            let shown = value.replacingOccurrences(of: "[REDACTED]", with: "").replacingOccurrences(of: "REDACTED", with: "")
            #expect(arguments.contains("x-evil: " + shown), "\(command)")
        }
    }
}
