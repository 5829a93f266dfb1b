@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

/// The `apimetrics` executable `swift build` made, next to the tests' own
/// bundle (`swift test` builds every product); `nil` when it is not there.
func builtExecutable() -> String? {
    var candidates: [URL] = []
    if let first = CommandLine.arguments.first {
        var url = URL(fileURLWithPath: first).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(url.appendingPathComponent("apimetrics"))
            url.deleteLastPathComponent()
        }
    }
    candidates.append(
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/apimetrics"))
    return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
}

@Suite("apimetrics, the built executable")
struct BuiltBinaryTests {
    @Test func theExecutableExitsZeroOneOrTwoAndPrintsWhereItShould() async throws {
        let executable = try #require(builtExecutable(), "build the apimetrics product first (swift build --product apimetrics)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = directory.file("apimetrics.sqlite")
        let now = CaptureClock.wallNanoseconds()
        try await writeStore(
            store,
            windows: [
                (
                    now - 120_000_000_000,
                    [
                        FixtureCall(route: "/a\u{1B}[31m", status: 200, consumer: "=1+2", time: now - 120_000_000_000),
                        FixtureCall(route: "/b", status: 503, consumer: "acme", time: now - 119_000_000_000),
                    ]
                )
            ])

        let help = try runProcess(executable, ["--help"])
        #expect(help.status == 0 && String(decoding: help.output, as: UTF8.self).contains("usage: apimetrics COMMAND"))
        #expect(try runProcess(executable, ["calls", "--help"]).status == 0)

        let json = try runProcess(executable, ["report", store, "--since", "1h", "--format", "json"])
        #expect(json.status == 0 && json.error.isEmpty, "\(String(decoding: json.error, as: UTF8.self))")
        let rows = try #require(try JSONSerialization.jsonObject(with: json.output) as? [[String: Any]])
        #expect(rows.count == 2 && rows.reduce(0) { $0 + ($1["calls"] as? Int ?? 0) } == 2)
        #expect(!json.output.contains(0x1B))

        // Not a terminal: the CSV is the data, formula cells defused.
        let csv = try runProcess(executable, ["report", store, "--by", "consumer", "--format", "csv"])
        #expect(csv.status == 0)
        #expect(try pythonCSV(String(decoding: csv.output, as: UTF8.self)).dropFirst().map(\.first) == ["'=1+2", "acme"])
        let usage = try runProcess(executable, ["usage", store, "--per", "month"])
        #expect(usage.status == 0 && String(decoding: usage.output, as: UTF8.self).hasPrefix("period,consumer,calls\r\n"))
        let calls = try runProcess(executable, ["calls", store, "--status", "5xx", "--json"])
        #expect(calls.status == 0 && String(decoding: calls.output, as: UTF8.self).split(separator: "\n").count == 1)

        for (arguments, status, message) in [
            (["report", store, "--by", "nope"], Int32(2), "apimetrics: --by takes endpoint or consumer"),
            (["frobnicate"], 2, "apimetrics: frobnicate is not a command"),
            (["calls", store, "--limit", "x"], 2, "apimetrics: --limit takes a number"),
            (["report", directory.file("missing.sqlite")], 1, "apimetrics: \(directory.file("missing.sqlite")) does not exist"),
            (["calls", directory.path], 1, "is a directory"),
        ] {
            let run = try runProcess(executable, arguments)
            #expect(run.status == status, "\(arguments)")
            #expect(run.output.isEmpty, "\(arguments)")
            #expect(String(decoding: run.error, as: UTF8.self).contains(message), "\(String(decoding: run.error, as: UTF8.self))")
        }
    }
}
