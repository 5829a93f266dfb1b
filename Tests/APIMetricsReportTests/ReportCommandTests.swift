@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("apimetrics report over stores")
struct ReportCommandTests {
    @Test func twoStoresWrittenByTheServiceAddUpAndTheirPercentilesAreThoseOfEveryCall() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.file("a.sqlite"), second = directory.file("b.sqlite")
        let a = try await recordThroughService(first, count: 60)
        let b = try await recordThroughService(second, count: 40, offset: 60)

        let run = apimetrics("report", first, second, "--format", "json")
        #expect(run.status == 0, "\(run.errorOutput)")
        let rows = try #require(try parseJSON(run.output) as? [[String: Any]])
        #expect(rows.reduce(0) { $0 + ($1["calls"] as? Int ?? 0) } == a.calls + b.calls)
        #expect(rows.reduce(0) { $0 + ($1["client_errors"] as? Int ?? 0) } == a.clientErrors + b.clientErrors)
        #expect(rows.reduce(0) { $0 + ($1["server_errors"] as? Int ?? 0) } == a.serverErrors + b.serverErrors)
        #expect(Set(rows.compactMap { $0["method"] as? String }) == ["GET", "POST"])
        #expect(rows.allSatisfy { $0["route"] as? String == "/orders/{id}" })
        #expect(rows.first?["calls"] as? Int == (0..<100).filter { $0 % 4 != 0 }.count)

        // One sketch holding every call of both stores, from their logs (each call once, with its duration).
        let range = StoreTimeRange(from: 0, to: CaptureClock.wallNanoseconds() + 1_000_000_000)
        var byMethod: [String: LatencySketch] = [:]
        for path in [first, second] {
            var cursor: StoreCallCursor?
            repeat {
                let page = try StoreReader(path: path).calls(StoreCallFilter(range: range), after: cursor, limit: 1_000)
                for call in page.calls {
                    byMethod[call.method, default: LatencySketch()].add(nanoseconds: call.durationNanoseconds)
                }
                cursor = page.next
            } while cursor != nil
        }
        for row in rows {
            let method = try #require(row["method"] as? String)
            let sketch = try #require(byMethod[method])
            #expect(row["calls"] as? Int == Int(sketch.count))
            for (column, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
                let expected = try #require(NumberText.milliseconds(sketch.percentile(quantile)).flatMap(Double.init))
                #expect((row[column] as? NSNumber)?.doubleValue == expected, "\(method) \(column)")
            }
        }

        // By consumer: the metrics' counts of both.
        let consumers = apimetrics("report", first, second, "--by", "consumer", "--format", "json")
        let consumerRows = try #require(try parseJSON(consumers.output) as? [[String: Any]])
        #expect(consumerRows.map { $0["consumer"] as? String } == ["globex", "acme"])
        #expect(
            consumerRows.first { $0["consumer"] as? String == "acme" }?["calls"] as? Int == (0..<100).filter { $0 % 3 == 0 }.count
        )
        #expect(
            consumerRows.first { $0["consumer"] as? String == "globex" }?["calls"] as? Int
                == (0..<100).filter { $0 % 3 != 0 }.count)

        let table = apimetrics("report", first, second)
        #expect(table.status == 0)
        #expect(table.output.hasPrefix("100 calls from the start to "), "\(table.output)")
        #expect(table.output.contains(" in 2 stores\n"))
    }

    @Test func twoStoresMergeToTheSketchOfEveryCallAndNDJSONMergesWithThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        var random = SeededGenerator(seed: 27)
        var everything = LatencySketch()
        func calls(_ count: Int, at time: Int64) -> [FixtureCall] {
            (0..<count).map { n in
                let duration = Int64.random(in: 100_000...900_000_000, using: &random)
                everything.add(nanoseconds: duration)
                return FixtureCall(
                    status: n % 9 == 0 ? 503 : (n % 5 == 0 ? 422 : 200), durationNanoseconds: duration, consumer: "c\(n % 4)",
                    time: time)
            }
        }
        let first = directory.file("a.sqlite"), second = directory.file("b.sqlite"), third = directory.file("c.ndjson")
        let firstCalls = calls(700, at: now - 600_000_000_000), secondCalls = calls(500, at: now - 300_000_000_000)
        try await writeStore(first, instance: "a", windows: [(now - 600_000_000_000, firstCalls)])
        try await writeStore(second, instance: "b", windows: [(now - 300_000_000_000, secondCalls)])
        let run = apimetrics("report", first, second, "--format", "json", "--since", "1h")
        let row = try #require((try parseJSON(run.output) as? [[String: Any]])?.first)
        #expect(row["calls"] as? Int == 1_200)
        #expect(row["server_errors"] as? Int == (firstCalls + secondCalls).filter { $0.status == 503 }.count)
        #expect(row["client_errors"] as? Int == (firstCalls + secondCalls).filter { $0.status == 422 }.count)
        // The merged sketch is the one sketch of every call: the same percentiles exactly.
        var combined = CombinedReport(range: StoreTimeRange(from: 0, to: now), filtersNDJSON: false)
        try combined.add(store: StoreReader(path: first))
        try combined.add(store: StoreReader(path: second))
        #expect(combined.endpoints.first?.latency == everything)
        for (column, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
            #expect(
                (row[column] as? NSNumber)?.doubleValue
                    == NumberText.milliseconds(everything.percentile(quantile)).flatMap(Double.init))
        }
        #expect(
            (row["mean_ms"] as? NSNumber)?.doubleValue == NumberText.milliseconds(everything.meanNanoseconds).flatMap(Double.init)
        )

        // The second instance's windows as NDJSON instead of a store: the same report.
        let exporter = try FileExporter(path: third)
        try await exporter.export(
            ExportBatch(
                identity: ServiceIdentity(service: "s", environment: "e"), records: [], sentAtNanoseconds: now,
                metrics: metricsWindow(start: now - 300_000_000_000, secondCalls)))
        await exporter.shutdown()
        let mixed = apimetrics("report", first, third, "--format", "json", "--since", "1h")
        #expect(mixed.status == 0, "\(mixed.errorOutput)")
        #expect(try parseJSON(mixed.output) as? NSArray == parseJSON(run.output) as? NSArray)
        let table = apimetrics("report", first, third)
        #expect(
            table.output.contains("1200 calls") && table.output.contains("1 store and 1 NDJSON file (1 metrics window)"),
            "\(table.output)")
    }

    @Test func sinceAndUntilChooseTheWindowsOfStoresAndOfNDJSON() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        let hour: Int64 = 3_600_000_000_000
        // Aligned to the minute, as the aggregator cuts windows.
        let old = (now - 3 * hour) / 60_000_000_000 * 60_000_000_000
        let recent = (now - hour / 6) / 60_000_000_000 * 60_000_000_000
        let oldCalls = (0..<30).map { FixtureCall(route: "/old", time: old + Int64($0)) }
        let recentCalls = (0..<12).map { FixtureCall(route: "/recent", status: 500, time: recent + Int64($0)) }
        let store = directory.file("apimetrics.sqlite"), file = directory.file("events.ndjson")
        try await writeStore(store, windows: [(old, oldCalls), (recent, recentCalls)])
        let exporter = try FileExporter(path: file)
        for (start, calls) in [(old, oldCalls), (recent, recentCalls)] {
            try await exporter.export(
                ExportBatch(
                    identity: ServiceIdentity(service: "s", environment: "e"), records: [], sentAtNanoseconds: start,
                    metrics: metricsWindow(start: start, calls)))
        }
        await exporter.shutdown()

        func routes(_ arguments: String...) throws -> [String: Int] {
            let run = apimetrics(arguments + ["--format", "json"], now: now)
            #expect(run.status == 0, "\(run.errorOutput)")
            let rows = try #require(try parseJSON(run.output) as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["route"] as? String ?? "?", $0["calls"] as? Int ?? -1) })
        }
        for input in [store, file] {
            #expect(try routes("report", input, "--since", "2h") == ["/recent": 12], "\(input)")
            #expect(try routes("report", input, "--since", "4h") == ["/old": 30, "/recent": 12], "\(input)")
            #expect(try routes("report", input, "--until", "1h") == ["/old": 30], "\(input)")
            #expect(
                try routes(
                    "report", input, "--since", TimeText.format(now - 5 * hour), "--until", TimeText.format(now - 2 * hour)) == [
                        "/old": 30
                    ])
            #expect(try routes("report", input, "--since", "30m", "--until", "20m").isEmpty, "\(input)")
            #expect(try routes("report", input) == ["/old": 30, "/recent": 12], "\(input)")
        }
        // Both together: each instance's figures once.
        #expect(try routes("report", store, file, "--since", "2h") == ["/recent": 24])
        let table = apimetrics(["report", file, "--since", "2h"], now: now)
        #expect(table.output.contains("(1 NDJSON windows ended outside the range and were left out)"), "\(table.output)")
    }

    @Test func routesAndConsumerIdsFromClientsComeOutEscapedInEveryFormat() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        let hostileRoutes = [
            "/a,\"b\",c", "/line\nbreak\r\nx", "/esc\u{1B}[31mred\u{1B}[0m", "/c1\u{9B}31m", "/bidi\u{202E}gpj.exe",
            "/back\\slash", "/quote\"\u{301}mark",
        ]
        let hostileConsumers = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "a,b\n\"c\"", "\u{1B}]0;title\u{7}"]
        var calls: [FixtureCall] = []
        for (n, route) in hostileRoutes.enumerated() {
            calls.append(
                FixtureCall(
                    route: route, path: route, consumer: hostileConsumers[n % hostileConsumers.count], time: now - 60_000_000_000)
            )
        }
        for consumer in hostileConsumers {
            calls.append(FixtureCall(route: "/plain", consumer: consumer, time: now - 60_000_000_000))
        }
        let store = directory.file("apimetrics.sqlite")
        try await writeStore(store, windows: [(now - 60_000_000_000, calls)])

        // The table: no control character reaches the terminal; one line a row.
        for by in ["endpoint", "consumer"] {
            let table = apimetrics("report", store, "--by", by)
            #expect(table.status == 0)
            #expect(
                !table.output.unicodeScalars.contains {
                    ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}"
                })
            let rows = by == "endpoint" ? hostileRoutes.count + 1 : hostileConsumers.count + 3
            #expect(
                table.output.split(separator: "\n", omittingEmptySubsequences: false).count == 2 + 1 + rows + 1, "\(table.output)"
            )
        }
        let endpointTable = apimetrics("report", store).output
        #expect(endpointTable.contains("/esc\\e[31mred\\e[0m") && endpointTable.contains("/line\\nbreak\\r\\nx"))
        #expect(
            endpointTable.contains("/c1\\u{009B}31m") && endpointTable.contains("/bidi\\u{202E}gpj.exe")
                && endpointTable.contains("/back\\\\slash"))

        // CSV, as Python's csv module reads it: every route as sent, formulas defused.
        let csv = apimetrics("report", store, "--format", "csv")
        let rows = try pythonCSV(csv.output)
        #expect(rows.first == ReportOutput.endpointColumns)
        #expect(Set(rows.dropFirst().map { $0[1] }) == Set(hostileRoutes + ["/plain"]))
        #expect(rows.dropFirst().allSatisfy { $0.count == ReportOutput.endpointColumns.count })
        let consumerRows = try pythonCSV(apimetrics("report", store, "--by", "consumer", "--format", "csv").output)
        let defused = Set(
            hostileConsumers.map { "=+-@\t\r".unicodeScalars.contains($0.unicodeScalars.first ?? "a") ? "'" + $0 : $0 })
        #expect(Set(consumerRows.dropFirst().map { $0[0] }) == defused)
        #expect(consumerRows.dropFirst().allSatisfy { Int($0[2]) == 2 || Int($0[2]) == 1 })
        // CSV to a terminal: escaped as the table is.
        let onTerminal = apimetrics(["report", store, "--format", "csv"], terminal: true).output
        #expect(!onTerminal.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{9B}" || $0 == "\u{202E}" })

        // JSON: every string as sent, and no raw control character in the output.
        for by in ["endpoint", "consumer"] {
            let json = apimetrics("report", store, "--by", by, "--format", "json").output
            #expect(
                !json.unicodeScalars.contains {
                    ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}"
                })
            let objects = try #require(try parseJSON(json) as? [[String: Any]])
            let key = by == "endpoint" ? "route" : "consumer"
            let expected = by == "endpoint" ? hostileRoutes + ["/plain"] : hostileConsumers
            #expect(Set(objects.compactMap { $0[key] as? String }) == Set(expected))
        }
    }

    @Test func filesThatCannotBeReadOrAreNoStoreExitOneWithTheReason() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let binary = directory.file("image.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]).write(to: URL(fileURLWithPath: binary))
        let text = directory.file("notes.txt")
        try Data("my notes\nnot json\n".utf8).write(to: URL(fileURLWithPath: text))
        let otherDatabase = directory.file("other.sqlite")
        _ = try runProcess("/usr/bin/sqlite3", [otherDatabase, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"])
        let foreign = directory.file("foreign.sqlite")
        _ = try runProcess("/usr/bin/sqlite3", [foreign, "PRAGMA application_id = 42; CREATE TABLE t(x);"])
        let empty = directory.file("empty.ndjson")
        try Data().write(to: URL(fileURLWithPath: empty))
        let cases: [(String, String)] = [
            (directory.file("missing.sqlite"), "does not exist"),
            (directory.path, "is a directory"),
            (binary, "is neither an APIMetrics store nor NDJSON (it holds binary data)"),
            (text, "is neither an APIMetrics store nor NDJSON (no line is a JSON object)"),
            (foreign, "is not an APIMetrics store"),
            (otherDatabase, "holds no APIMetrics store (an SQLite database of something else"),
        ]
        for (path, reason) in cases {
            let run = apimetrics("report", path)
            #expect(run.status == 1, "\(path)")
            #expect(run.output.isEmpty)
            #expect(
                run.errorOutput == "apimetrics: \(path) \(reason)\n"
                    || run.errorOutput.hasPrefix("apimetrics: \(path) \(reason)"), "\(run.errorOutput)")
        }
        // An empty NDJSON file is an empty report; calls and usage read stores only.
        #expect(apimetrics("report", empty).status == 0)
        let calls = apimetrics("calls", empty)
        #expect(calls.status == 1 && calls.errorOutput.contains("\(empty) is not a store: calls reads stores only"))
        #expect(apimetrics("usage", text).status == 1)
    }
}
