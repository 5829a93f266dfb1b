@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("apimetrics arguments and escaping")
struct CommandLineArgumentsTests {
    /// 2026-12-06T15:00:00Z.
    let now: Int64 = 1_796_569_200 * 1_000_000_000

    @Test func optionsAreParsedWithTheirDefaults() throws {
        #expect(TimeText.format(now) == "2026-12-06T15:00:00.000Z")
        guard case .report(let report) = try CommandLineArguments.parse(["report", "a.sqlite", "b.ndjson"], now: now) else {
            Issue.record("not a report")
            return
        }
        #expect(
            report.files == ["a.sqlite", "b.ndjson"] && !report.byConsumer && report.format == .table && !report.isRangeGiven)
        #expect(report.range == StoreTimeRange(from: 0, to: now))

        guard
            case .report(let custom) = try CommandLineArguments.parse(
                ["report", "--since", "2h", "a", "--by", "consumer", "--format=csv", "--until", "2026-12-06T14:30:00+01:00"],
                now: now)
        else { Issue.record("not a report"); return }
        #expect(custom.byConsumer && custom.format == .csv && custom.isRangeGiven && custom.files == ["a"])
        #expect(custom.range == StoreTimeRange(from: now - 7_200_000_000_000, to: now - 5_400_000_000_000))

        guard
            case .calls(let calls) = try CommandLineArguments.parse(
                [
                    "calls", "s", "--method", "POST", "--route", "/o/{id}", "--status", "4XX", "--consumer", "acme", "--min-ms",
                    "2.5",
                    "--path", "/o/1", "--limit", "20", "--json", "--since", "7d",
                ], now: now)
        else { Issue.record("not calls"); return }
        #expect(
            calls.filter.method == "POST" && calls.filter.route == "/o/{id}" && calls.filter.statusClass == 4
                && calls.filter.status == nil)
        #expect(
            calls.filter.consumer == "acme" && calls.filter.minimumDurationNanoseconds == 2_500_000
                && calls.filter.pathContains == "/o/1")
        #expect(calls.limit == 20 && calls.json && calls.filter.range.from == now - 7 * 86_400_000_000_000)
        guard case .calls(let defaults) = try CommandLineArguments.parse(["calls", "s", "--status", "0"], now: now) else {
            return
        }
        #expect(defaults.limit == 100 && !defaults.json && defaults.filter.status == 0)

        guard
            case .usage(let usage) = try CommandLineArguments.parse(
                ["usage", "a", "b", "--per", "month", "--since", "2026-11-01"], now: now)
        else {
            Issue.record("not usage")
            return
        }
        #expect(usage.monthly && usage.files == ["a", "b"] && usage.range.from == TimeText.parse("2026-11-01T00:00:00Z"))
        // After `--`, a file may start with a dash.
        guard case .usage(let dashed) = try CommandLineArguments.parse(["usage", "--", "-odd.sqlite"], now: now) else { return }
        #expect(dashed.files == ["-odd.sqlite"])

        #expect(try CommandLineArguments.parse(["--help"], now: now) == .help(nil))
        #expect(try CommandLineArguments.parse(["help", "calls"], now: now) == .help(.calls))
        #expect(try CommandLineArguments.parse(["usage", "--help"], now: now) == .help(.usage))
        // The help wins over what precedes it, as a user asking for it expects.
        #expect(try CommandLineArguments.parse(["report", "a", "-h", "--bogus"], now: now) == .help(.report))
    }

    @Test func everyWrongArgumentIsNamedWithItsReasonAndExitsTwo() {
        let cases: [([String], String, String)] = [
            ([], "COMMAND", "is missing"),
            (["reprot", "a"], "reprot", "is not a command"),
            (["report"], "STORE|NDJSON", "name at least one file"),
            (["calls", "--json"], "STORE", "name at least one file"),
            (["report", "a", "--by"], "--by", "needs a value"),
            (["report", "a", "--by", "route"], "--by", "takes endpoint or consumer, not \"route\""),
            (["report", "a", "--format", "xml"], "--format", "takes table, csv or json"),
            (["report", "a", "--json"], "--json", "is not an option of report"),
            (["report", "a", "--since", "yesterday"], "--since", "takes a span back from now"),
            (["report", "a", "--since", "2026-02-30"], "--since", "takes a span back from now"),
            (["report", "a", "--since", "0h"], "--since", "is an empty span"),
            (["report", "a", "--since", "999999999w"], "--since", "reaches back before 1970"),
            (["report", "a", "--since", "1h", "--until", "2h"], "--until", "leaves an empty range"),
            (["report", "a", "--since", "2026-12-07"], "--since", "leaves an empty range"),
            (["report", "a", "--since", "1h", "--since", "2h"], "--since", "is given twice"),
            (["report", "a", "--since="], "--since", "needs a value"),
            (["calls", "a", "--limit", "0"], "--limit", "takes a number from 1 to 100000"),
            (["calls", "a", "--limit", "100001"], "--limit", "takes a number from 1 to 100000"),
            (["calls", "a", "--status", "6xx"], "--status", "takes a status"),
            (["calls", "a", "--status", "1000"], "--status", "takes a status"),
            (["calls", "a", "--min-ms", "-1"], "--min-ms", "takes milliseconds"),
            (["calls", "a", "--min-ms", "nan"], "--min-ms", "takes milliseconds"),
            (["calls", "a", "--method", "GET POST"], "--method", "takes a method"),
            (["calls", "a", "--json=yes"], "--json", "takes no value"),
            (["calls", "a", "--route", String(repeating: "r", count: 2_049)], "--route", "is longer than 2048 bytes"),
            (["usage", "a", "--per", "week"], "--per", "takes day or month"),
            (["usage", "a", "--by", "consumer"], "--by", "is not an option of usage"),
        ]
        for (arguments, argument, reason) in cases {
            #expect(throws: ArgumentError.self, "\(arguments)") { try CommandLineArguments.parse(arguments, now: now) }
            do {
                _ = try CommandLineArguments.parse(arguments, now: now)
            } catch {
                #expect(error.argument == argument, "\(arguments): \(error)")
                #expect(error.reason.contains(reason), "\(arguments): \(error)")
            }
            let run = APIMetricsCommand.run(arguments, now: now)
            #expect(run.status == 2 && run.output.isEmpty, "\(arguments)")
            #expect(
                run.errorOutput.hasPrefix("apimetrics: \(argument) ") && run.errorOutput.contains("\nusage: apimetrics"),
                "\(run.errorOutput)")
        }
        // A hostile value is quoted inert in the message.
        let run = APIMetricsCommand.run(["report", "a", "--by", "\u{1B}[31mred"], now: now)
        #expect(!run.errorOutput.unicodeScalars.contains("\u{1B}") && run.errorOutput.contains("\\e[31mred"))
    }

    @Test func theHelpSaysEveryCommandAndOption() {
        let overview = APIMetricsCommand.run(["--help"], now: now)
        #expect(overview.status == 0 && overview.errorOutput.isEmpty)
        for command in ["report", "calls", "usage"] { #expect(overview.output.contains("  \(command) ")) }
        let options: [String: [String]] = [
            "report": ["--by", "--since", "--until", "--format", "p99_ms", "client_errors", "mean_ms", "consumer"],
            "calls": [
                "--since", "--until", "--method", "--route", "--status", "--consumer", "--min-ms", "--path", "--limit", "--json",
                "duration_ms",
            ],
            "usage": ["--since", "--until", "--per", "period,consumer,calls"],
        ]
        for (command, words) in options {
            let help = APIMetricsCommand.run([command, "--help"], now: now)
            #expect(help.status == 0)
            for word in words { #expect(help.output.contains(word), "\(command): \(word)") }
            #expect(help.output.contains("Example:\n  apimetrics \(command) "))
        }
    }

    @Test func timesAreReadAsRFC3339OrAsASpanBack() {
        #expect(TimeText.parse("2026-12-06T15:00:00Z") == now)
        #expect(TimeText.parse("2026-12-06T15:00:00.5Z") == now + 500_000_000)
        #expect(TimeText.parse("2026-12-06T16:00:00+01:00") == now)
        #expect(TimeText.parse("2026-12-06") == now - 15 * 3_600_000_000_000)
        #expect(TimeText.parse("1970-01-01T00:00:00Z") == 0)
        // As the JSON API reads them: seconds and the offset may be left out (UTC).
        #expect(TimeText.parse("2026-12-06T15:00Z") == now)
        #expect(TimeText.parse("2026-12-06T15:00:00") == now)
        for bad in ["2026-13-01", "2026-02-29", "1969-12-31T23:59:59Z", "2262-06-01T00:00:00Z", "2026-12-06T15", "", "2h"] {
            #expect(TimeText.parse(bad) == nil, "\(bad)")
        }
        var random = SeededGenerator(seed: 3)
        for _ in 0..<1_000 {
            let time = Int64.random(in: 0...9_000_000_000_000_000_000, using: &random) / 1_000_000 * 1_000_000
            #expect(TimeText.parse(TimeText.format(time)) == time)
        }
        // Window ends as the library writes them read back.
        #expect(TimeText.parse(Timestamp.rfc3339(nanosecondsSinceEpoch: now + 123_000_000)) == now + 123_000_000)
    }

    @Test func cellsAreEscapedForTheTerminalQuotedForCSVAndInertInJSON() throws {
        #expect(TextEscaping.terminal("/orders/{id}") == "/orders/{id}")
        #expect(
            TextEscaping.terminal("a\u{1B}[31mb\n\u{0}\u{7F}\u{85}\u{202E}\\") == "a\\e[31mb\\n\\x00\\x7F\\u{0085}\\u{202E}\\\\")
        #expect(TextEscaping.csvField("plain") == "plain")
        #expect(TextEscaping.csvField("a,b") == "\"a,b\"")
        #expect(TextEscaping.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(TextEscaping.csvField("a\nb") == "\"a\nb\"")
        #expect(TextEscaping.csvField("=1+1") == "'=1+1")
        #expect(TextEscaping.csvField("-2,3") == "\"'-2,3\"")
        #expect(TextEscaping.csvField("\rx") == "\"'\rx\"")
        #expect(TextEscaping.csvField("@A1", forTerminal: true) == "'@A1")
        #expect(TextEscaping.csvField("\u{1B}[1m", forTerminal: true) == "\\e[1m")
        #expect(NumberText.fixed(0.2, places: 3) == "0.200" && NumberText.fixed(1.4666, places: 3) == "1.467")
        #expect(
            NumberText.fixed(38, places: 0) == "38" && NumberText.fixed(5, places: 1) == "5.0"
                && NumberText.fixed(0.0004, places: 3) == "0.000")
        #expect(NumberText.count(2.5) == "2.5" && NumberText.count(0.1 + 0.2) == "0.3" && NumberText.count(7) == "7")
        #expect(TextEscaping.jsonString("a\"\\\u{1B}\u{9B}\u{2028}é") == "\"a\\\"\\\\\\u001B\\u009B\\u2028é\"")

        // Generated text: the JSON decodes to itself, Python's csv module reads the CSV back.
        var random = SeededGenerator(seed: 11)
        let alphabet: [Unicode.Scalar] = [
            "a", ",", "\"", "\n", "\r", "\t", "=", "+", "-", "@", "\u{1B}", "\u{9B}", "\u{202E}", "\\", " ", "é", "\u{301}",
            "\u{0}",
        ]
        var texts: [String] = []
        for _ in 0..<300 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                text.append(alphabet[Int.random(in: 0..<alphabet.count, using: &random)])
            }
            texts.append(String(text))
        }
        for text in texts {
            let decoded = try parseJSON(TextEscaping.jsonString(text)) as? String
            #expect(decoded == text, "\(Array(text.unicodeScalars))")
            #expect(
                !TextEscaping.terminal(text).unicodeScalars.contains {
                    $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}"
                })
        }
        let rows = try pythonCSV(texts.map { TextEscaping.csvRecord([$0, "x"]) }.joined())
        #expect(rows.count == texts.count)
        for (row, text) in zip(rows, texts) {
            let defused = "=+-@\t\r".unicodeScalars.contains(text.unicodeScalars.first ?? "a") ? "'" + text : text
            #expect(row == [defused, "x"], "\(Array(text.unicodeScalars))")
        }
    }
}

@Suite("apimetrics alerts")
struct AlertsCommandTests {
    @Test func theDefaultsBecomePrometheusRulesAndWhatCannotBeIsNamed() {
        let run = APIMetricsCommand.run(["alerts", "--prometheus", "default"], now: 0)
        #expect(run.status == 0)
        #expect(run.output.contains("- alert: ServerErrorsAbove5"))
        #expect(run.output.contains(#"sum(increase(http_server_request_duration_seconds_count{}[10m])) < 0.5"#))
        #expect(run.errorOutput.contains("left out new server error: error groups are not in the exposition"))
        #expect(APIMetricsCommand.run(["alerts", "default"], now: 0).status == 2)
        #expect(APIMetricsCommand.run(["alerts", "--prometheus"], now: 0).status == 2)
        #expect(APIMetricsCommand.run(["alerts", "--prometheus", "/nonexistent/rules.json"], now: 0).status == 1)
    }
}
