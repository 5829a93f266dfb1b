package import APIMetrics

/// What `apimetrics` was asked to do, parsed from its arguments.
package enum CommandLineArguments: Sendable, Equatable {
    /// `--help`: the text for one command or, with `nil`, for all.
    case help(Command?)
    /// `apimetrics alerts --prometheus RULES`: the rules file as Prometheus alerting rules.
    case alerts(rules: String)
    case report(ReportOptions)
    case calls(CallsOptions)
    case usage(UsageOptions)
    case openapi(OpenAPIOptions)

    /// The commands.
    package enum Command: String, Sendable, Equatable, CaseIterable {
        case report, calls, usage, openapi, alerts
    }

    /// `apimetrics openapi`.
    package struct OpenAPIOptions: Sendable, Equatable {
        package var files: [String] = []
        package var yaml = false
        package var title = "API observed by APIMetrics"
        /// `--diff SPEC`: the comparison with a team's OpenAPI document, as text (or JSON with `--format json`).
        package var spec: String?
        /// With `--diff`: the report as JSON.
        package var json = false
    }

    /// `apimetrics report`.
    package struct ReportOptions: Sendable, Equatable {
        package var files: [String] = []
        package var byConsumer = false
        package var range: StoreTimeRange
        /// Whether `--since` was given (NDJSON windows are filtered only then
        /// or when `--until` is).
        package var isRangeGiven = false
        package var format: ReportFormat = .table
    }

    /// `apimetrics calls`.
    package struct CallsOptions: Sendable, Equatable {
        package var files: [String] = []
        package var filter: StoreCallFilter
        package var limit = 100
        package var json = false
    }

    /// `apimetrics usage`.
    package struct UsageOptions: Sendable, Equatable {
        package var files: [String] = []
        package var range: StoreTimeRange
        package var monthly = false
    }

    /// How `report` prints its rows.
    package enum ReportFormat: String, Sendable, Equatable {
        case table, csv, json
    }

    /// The most calls `calls --limit` prints.
    package static let maxLimit = 100_000

    /// Parses the arguments after the program's name.
    ///
    /// - Parameter now: the current time, in nanoseconds since the epoch,
    ///   that `--since 2h` counts back from and `--until` defaults to.
    /// - Throws: ``ArgumentError`` naming the argument and the reason.
    package static func parse(_ arguments: [String], now: Int64) throws(ArgumentError) -> CommandLineArguments {
        guard let first = arguments.first else {
            throw ArgumentError(argument: "COMMAND", reason: "is missing: name report, calls, usage, openapi or alerts")
        }
        if first == "--help" || first == "-h" || first == "help" {
            if arguments.count > 1, let command = Command(rawValue: arguments[1]) { return .help(command) }
            return .help(nil)
        }
        guard let command = Command(rawValue: first) else {
            throw ArgumentError(argument: first, reason: "is not a command: name report, calls, usage, openapi or alerts")
        }
        var parser = Parser(arguments: Array(arguments.dropFirst()), command: command, now: now)
        return try parser.parse()
    }
}

/// An argument that cannot be used: which one, and why.
package struct ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    package var argument: String
    package var reason: String

    package init(argument: String, reason: String) {
        self.argument = argument
        self.reason = reason
    }

    package var description: String { "\(argument) \(reason)" }
}

private struct Parser {
    var arguments: [String]
    let command: CommandLineArguments.Command
    let now: Int64
    var files: [String] = []
    var since: Int64?
    var until: Int64?

    init(arguments: [String], command: CommandLineArguments.Command, now: Int64) {
        self.arguments = arguments
        self.command = command
        self.now = now
    }

    mutating func parse() throws(ArgumentError) -> CommandLineArguments {
        var byConsumer = false
        var format = CommandLineArguments.ReportFormat.table
        var filter = StoreCallFilter(range: StoreTimeRange(from: 0, to: 0))
        var limit = 100
        var json = false
        var monthly = false
        var yaml = false
        var title: String?
        var spec: String?
        var formatGiven = false
        var prometheus = false
        var optionsDone = false
        var seen: Set<String> = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            if optionsDone || !argument.hasPrefix("-") || argument == "-" {
                files.append(argument)
                continue
            }
            // `--since=2h` as well as `--since 2h`.
            var name = argument
            var inline: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            if name == "--help" || name == "-h" { return .help(command) }
            if name == "--" {
                optionsDone = true
                continue
            }
            guard Self.options[command, default: []].contains(name) else {
                throw ArgumentError(
                    argument: name, reason: "is not an option of \(command.rawValue) (see apimetrics \(command.rawValue) --help)")
            }
            guard seen.insert(name).inserted else { throw ArgumentError(argument: name, reason: "is given twice") }
            if Self.flags.contains(name) {
                guard inline == nil else { throw ArgumentError(argument: name, reason: "takes no value") }
                if name == "--prometheus" { prometheus = true } else { json = true }
                continue
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard let next = arguments.first else { throw ArgumentError(argument: name, reason: "needs a value") }
                arguments.removeFirst()
                value = next
            }
            guard !value.isEmpty else { throw ArgumentError(argument: name, reason: "needs a value") }
            switch name {
            case "--since": since = try Self.time(value, argument: name, now: now)
            case "--until": until = try Self.time(value, argument: name, now: now)
            case "--by":
                switch value {
                case "endpoint": byConsumer = false
                case "consumer": byConsumer = true
                default: throw ArgumentError(argument: name, reason: "takes endpoint or consumer, not \(quoted(value))")
                }
            case "--format" where command == .openapi:
                formatGiven = true
                switch value {
                case "json": yaml = false
                case "yaml": yaml = true
                default: throw ArgumentError(argument: name, reason: "takes json or yaml, not \(quoted(value))")
                }
            case "--format":
                guard let chosen = CommandLineArguments.ReportFormat(rawValue: value) else {
                    throw ArgumentError(argument: name, reason: "takes table, csv or json, not \(quoted(value))")
                }
                format = chosen
            case "--title": title = try Self.bounded(value, argument: name)
            case "--diff": spec = try Self.bounded(value, argument: name)
            case "--per":
                switch value {
                case "day": monthly = false
                case "month": monthly = true
                default: throw ArgumentError(argument: name, reason: "takes day or month, not \(quoted(value))")
                }
            case "--method":
                guard value.utf8.count <= 64, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw ArgumentError(argument: name, reason: "takes a method such as GET (up to 64 printable characters)")
                }
                filter.method = value
            case "--route": filter.route = try Self.bounded(value, argument: name)
            case "--consumer": filter.consumer = try Self.bounded(value, argument: name)
            case "--path": filter.pathContains = try Self.bounded(value, argument: name)
            case "--status": try Self.status(value, into: &filter)
            case "--min-ms":
                guard let milliseconds = Double(value), milliseconds.isFinite, milliseconds >= 0, milliseconds <= 86_400_000
                else {
                    throw ArgumentError(argument: name, reason: "takes milliseconds from 0 to 86400000, not \(quoted(value))")
                }
                filter.minimumDurationNanoseconds = Int64((milliseconds * 1e6).rounded())
            case "--limit":
                guard let number = Int(value), (1...CommandLineArguments.maxLimit).contains(number) else {
                    throw ArgumentError(
                        argument: name, reason: "takes a number from 1 to \(CommandLineArguments.maxLimit), not \(quoted(value))")
                }
                limit = number
            default:
                throw ArgumentError(argument: name, reason: "is not an option of \(command.rawValue)")
            }
        }
        if command == .alerts {
            guard prometheus else {
                throw ArgumentError(
                    argument: "--prometheus",
                    reason: "is missing: alerts writes Prometheus rules (apimetrics alerts --prometheus RULES)")
            }
            guard files.count == 1 else {
                throw ArgumentError(
                    argument: "RULES",
                    reason: files.isEmpty
                        ? "is missing: name the rules file (JSON) or default" : "names one rules file, got \(files.count)")
            }
            return .alerts(rules: files[0])
        }
        guard !files.isEmpty else {
            throw ArgumentError(
                argument: command == .report ? "STORE|NDJSON" : "STORE", reason: "is missing: name at least one file")
        }
        let range = try range()
        switch command {
        case .report:
            var options = CommandLineArguments.ReportOptions(range: range)
            options.files = files
            options.byConsumer = byConsumer
            options.isRangeGiven = since != nil || until != nil
            options.format = format
            return .report(options)
        case .calls:
            filter.range = range
            return .calls(CommandLineArguments.CallsOptions(files: files, filter: filter, limit: limit, json: json))
        case .usage:
            return .usage(CommandLineArguments.UsageOptions(files: files, range: range, monthly: monthly))
        case .alerts:
            return .alerts(rules: files[0])
        case .openapi:
            var options = CommandLineArguments.OpenAPIOptions(files: files, yaml: yaml)
            if let title { options.title = title }
            if let spec {
                guard !yaml else {
                    throw ArgumentError(argument: "--format", reason: "takes json with --diff (text is the default), not yaml")
                }
                guard title == nil else {
                    throw ArgumentError(argument: "--title", reason: "names the learnt document; --diff prints none")
                }
                options.spec = spec
                options.json = formatGiven
            }
            return .openapi(options)
        }
    }

    /// `--since` (all of the history when missing) to `--until` (now).
    func range() throws(ArgumentError) -> StoreTimeRange {
        let from = since ?? 0
        let to = until ?? now
        guard from < to else {
            throw ArgumentError(
                argument: until == nil ? "--since" : "--until",
                reason: "leaves an empty range: --since must come before --until (which is now unless given)")
        }
        return StoreTimeRange(from: from, to: to)
    }

    static let options: [CommandLineArguments.Command: Set<String>] = [
        .report: ["--since", "--until", "--by", "--format"],
        .calls: [
            "--since", "--until", "--method", "--route", "--status", "--consumer", "--min-ms", "--path", "--limit", "--json",
        ],
        .usage: ["--since", "--until", "--per"],
        .openapi: ["--format", "--title", "--diff"],
        .alerts: ["--prometheus"],
    ]
    static let flags: Set<String> = ["--json", "--prometheus"]

    /// A time: an RFC 3339 date-time, a date (its midnight, UTC), or a span
    /// back from now (`90s`, `30m`, `2h`, `7d`, `2w`).
    static func time(_ value: String, argument: String, now: Int64) throws(ArgumentError) -> Int64 {
        if let span = relativeSeconds(value) {
            guard span > 0 else { throw ArgumentError(argument: argument, reason: "is an empty span: \(quoted(value))") }
            guard span <= now / 1_000_000_000 else {
                throw ArgumentError(argument: argument, reason: "reaches back before 1970: \(quoted(value))")
            }
            return now - span * 1_000_000_000
        }
        if let instant = TimeText.parse(value) { return instant }
        throw ArgumentError(
            argument: argument,
            reason:
                "takes a span back from now (30m, 2h, 7d, 2w) or an RFC 3339 time (2026-12-06T15:00:00Z or a date, 2026-12-06), not \(quoted(value))"
        )
    }

    static func relativeSeconds(_ value: String) -> Int64? {
        guard let unit = value.last, let multiplier = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800][unit] else {
            return nil
        }
        let digits = value.dropLast()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCIIDigit), let number = Int64(digits) else {
            return nil
        }
        return number * Int64(multiplier)
    }

    static func status(_ value: String, into filter: inout StoreCallFilter) throws(ArgumentError) {
        let lower = value.lowercased()
        if lower.count == 3, lower.hasSuffix("xx"), let first = lower.first, let digit = first.wholeNumberValue,
            (1...5).contains(digit)
        {
            filter.statusClass = digit
            return
        }
        guard value.count <= 3, value.allSatisfy(\.isASCIIDigit), let status = Int(value), status <= 599 else {
            throw ArgumentError(
                argument: "--status",
                reason: "takes a status (404, 0 for no response) or a class (1xx to 5xx), not \(quoted(value))")
        }
        filter.status = status
    }

    /// A text filter, at most 2,048 bytes (longer is no route, path or id).
    static func bounded(_ value: String, argument: String) throws(ArgumentError) -> String {
        guard value.utf8.count <= 2_048 else { throw ArgumentError(argument: argument, reason: "is longer than 2048 bytes") }
        return value
    }
}

/// A value the user gave, quoted and made inert for the terminal.
func quoted(_ value: String) -> String {
    "\"" + TextEscaping.terminal(value.count > 80 ? String(value.prefix(80)) + "…" : value) + "\""
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
