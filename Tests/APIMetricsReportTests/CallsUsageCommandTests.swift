@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("apimetrics calls and usage")
struct CallsUsageCommandTests {
    @Test func callsOfTwoStoresComeNewestFirstMergedByTimeAndFiltered() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        let minute: Int64 = 60_000_000_000
        let start = (now - 30 * minute) / minute * minute
        // Two instances whose calls interleave in time.
        func calls(_ instance: Int) -> [FixtureCall] {
            (0..<40).map { n in
                let index = n * 2 + instance
                return FixtureCall(
                    method: index % 3 == 0 ? "POST" : "GET", route: index % 2 == 0 ? "/orders/{id}" : "/users/{id}",
                    path: "/\(index % 2 == 0 ? "orders" : "users")/\(index)?n=\(index)",
                    status: index % 5 == 0 ? 404 : (index % 11 == 0 ? 502 : 200),
                    durationNanoseconds: Int64(index) * 1_000_000 + 250_000,
                    consumer: index % 4 == 0 ? nil : "tenant-\(index % 3)",
                    time: start + Int64(index) * 1_000_000_000)
            }
        }
        let first = directory.file("a.sqlite"), second = directory.file("b.sqlite")
        try await writeStore(first, instance: "a", windows: [(start, calls(0))])
        try await writeStore(second, instance: "b", windows: [(start, calls(1))])
        let every = (calls(0) + calls(1)).sorted { $0.time > $1.time }

        func listed(_ arguments: String...) throws -> [[String: Any]] {
            let run = apimetrics(["calls", first, second, "--json"] + arguments, now: now)
            #expect(run.status == 0, "\(run.errorOutput)")
            return try run.output.split(separator: "\n").map { line in try #require(try parseJSON(String(line)) as? [String: Any])
            }
        }
        // The default limit is 100: all 80, newest first, both stores interleaved.
        let all = try listed()
        #expect(all.map { $0["path"] as? String } == every.map(\.path))
        #expect(all.map { $0["time_ns"] as? Int64 } == every.map(\.time))
        #expect(Set(all.compactMap { $0["store"] as? String }) == [first, second])
        let newest = try #require(all.first)
        #expect(newest["method"] as? String == every[0].method && newest["route"] as? String == every[0].route)
        #expect(newest["status"] as? Int == every[0].status)
        #expect((newest["duration_ms"] as? NSNumber)?.doubleValue == Double(every[0].durationNanoseconds) / 1e6)
        #expect(newest["consumer"] as? String == every[0].consumer)
        #expect((newest["id"] as? String)?.count == 32 && newest["time"] as? String == TimeText.format(every[0].time))
        #expect(all.contains { $0["consumer"] is NSNull })

        #expect(try listed("--limit", "7").map { $0["path"] as? String } == every.prefix(7).map(\.path))
        #expect(try listed("--status", "4xx").map { $0["path"] as? String } == every.filter { $0.status / 100 == 4 }.map(\.path))
        #expect(try listed("--status", "502").map { $0["path"] as? String } == every.filter { $0.status == 502 }.map(\.path))
        #expect(
            try listed("--consumer", "tenant-1").map { $0["path"] as? String }
                == every.filter { $0.consumer == "tenant-1" }.map(\.path))
        #expect(
            try listed("--min-ms", "70").map { $0["path"] as? String }
                == every.filter { $0.durationNanoseconds >= 70_000_000 }.map(\.path))
        #expect(
            try listed("--path", "users/3").map { $0["path"] as? String }
                == every.filter { $0.path.contains("users/3") }.map(\.path))
        #expect(
            try listed("--method", "POST", "--route", "/users/{id}").map { $0["path"] as? String }
                == every.filter { $0.method == "POST" && $0.route == "/users/{id}" }.map(\.path))
        let since = start + 60 * 1_000_000_000
        #expect(
            try listed("--since", TimeText.format(since)).map { $0["path"] as? String }
                == every.filter { $0.time >= since }.map(\.path))
        #expect(try listed("--since", "2m").isEmpty)

        // One aligned line a call.
        let text = apimetrics(["calls", first, second, "--limit", "3"], now: now)
        let lines = text.output.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("TIME") && lines[0].hasSuffix("CONSUMER"))
        #expect(lines[1].hasPrefix(TimeText.format(every[0].time)) && lines[1].contains(every[0].path))
        #expect(lines[1].contains(NumberText.milliseconds(Double(every[0].durationNanoseconds)) ?? "?"))
    }

    @Test func callsWithHostilePathsAndConsumersAreEscapedOnTheTerminalAndExactInJSON() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        let path = "/x?q=\u{1B}[2J\u{1B}]0;pwned\u{7}&b=\u{9B}1m\n"
        let consumer = "=HYPERLINK(\"http://e\")\u{1B}[31m"
        let store = directory.file("apimetrics.sqlite")
        try await writeStore(
            store,
            windows: [
                (
                    now - 60_000_000_000,
                    [FixtureCall(route: "/x\u{1B}[1m", path: path, consumer: consumer, time: now - 60_000_000_000)]
                )
            ])
        let text = apimetrics(["calls", store], now: now).output
        #expect(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) })
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.contains("/x?q=\\e[2J\\e]0;pwned\\x07&b=\\u{009B}1m\\n"))
        let json = apimetrics(["calls", store, "--json"], now: now).output
        #expect(!json.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) })
        let object = try #require(try parseJSON(json) as? [String: Any])
        #expect(
            object["path"] as? String == path && object["consumer"] as? String == consumer
                && object["route"] as? String == "/x\u{1B}[1m")
    }

    @Test func usageSumsTheConsumersOfEveryStorePerDayAndPerMonth() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = CaptureClock.wallNanoseconds()
        let day: Int64 = 86_400_000_000_000
        let today = now / day * day
        let yesterday = today - day + 3_600_000_000_000, earlier = today - 2 * day + 7_200_000_000_000
        func calls(_ count: Int, _ consumer: String?, at time: Int64) -> [FixtureCall] {
            (0..<count).map { _ in FixtureCall(consumer: consumer, time: time) }
        }
        let first = directory.file("a.sqlite"), second = directory.file("b.sqlite")
        try await writeStore(
            first, instance: "a",
            windows: [
                (earlier, calls(3, "acme", at: earlier) + calls(2, "globex", at: earlier)),
                (yesterday, calls(4, "acme", at: yesterday) + calls(5, nil, at: yesterday)),
            ])
        try await writeStore(
            second, instance: "b",
            windows: [
                (earlier, calls(6, "globex", at: earlier)),
                (yesterday, calls(1, "acme", at: yesterday) + calls(2, "a,\"b\"", at: yesterday)),
            ])
        let dayText = { (time: Int64) in String(TimeText.format(time).prefix(10)) }
        let run = apimetrics(["usage", first, second], now: now)
        #expect(run.status == 0, "\(run.errorOutput)")
        #expect(
            try pythonCSV(run.output) == [
                ["period", "consumer", "calls"],
                [dayText(earlier), "globex", "8"], [dayText(earlier), "acme", "3"],
                [dayText(yesterday), "acme", "5"], [dayText(yesterday), "a,\"b\"", "2"],
            ])
        #expect(run.output.hasPrefix("period,consumer,calls\r\n"))
        // A day is whole: --since 1h still counts today's and no other day.
        #expect(try pythonCSV(apimetrics(["usage", first, second, "--since", "1s"], now: now).output).count == 1)
        #expect(try pythonCSV(apimetrics(["usage", first, second, "--until", dayText(yesterday)], now: now).output).count == 3)

        let monthly = try pythonCSV(apimetrics(["usage", first, second, "--per", "month"], now: now).output)
        let months = Set([earlier, yesterday].map { String(TimeText.format($0).prefix(7)) })
        #expect(Set(monthly.dropFirst().map { $0[0] }) == months)
        #expect(monthly.dropFirst().reduce(0) { $0 + (Int($1[2]) ?? -100) } == 18)
        #expect(monthly.dropFirst().filter { $0[1] == "acme" }.reduce(0) { $0 + (Int($1[2]) ?? -100) } == 8)

        // Weighted (sampled) calls keep their decimals; whole ones print as integers.
        let rows = [
            UsageListing.Row(period: "2026-12-01", consumer: "a", calls: 2.5),
            UsageListing.Row(period: "2026-12-01", consumer: "=b", calls: 1),
        ]
        #expect(UsageListing.csv(rows) == "period,consumer,calls\r\n2026-12-01,a,2.5\r\n2026-12-01,'=b,1\r\n")
        #expect(
            UsageListing.csv([UsageListing.Row(period: "2026-12", consumer: "a", calls: 0.1 + 0.2 + 2.7)]).hasSuffix(",a,3\r\n"))
    }
}
