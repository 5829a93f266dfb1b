import APIMetrics

/// Runs `apimetrics` on its arguments, in-process: what the executable
/// does, and what the tests drive.
package enum APIMetricsCommand {
    /// What a run printed and its exit status.
    package struct Outcome: Sendable {
        package var output = ""
        package var errorOutput = ""
        /// 0 on success, 1 when a file cannot be read or is no store or
        /// NDJSON, 2 when an argument is wrong, 3 when `openapi --diff`
        /// finds the API and the spec differ.
        package var status: Int32 = 0
    }

    /// Runs the command `arguments` name (the program's name left out).
    ///
    /// - Parameters:
    ///   - now: the current time, in nanoseconds since the epoch.
    ///   - outputIsTerminal: whether standard output is a terminal: CSV
    ///     cells are then escaped as the table's are.
    package static func run(_ arguments: [String], now: Int64, outputIsTerminal: Bool = false) -> Outcome {
        var outcome = Outcome()
        let parsed: CommandLineArguments
        do {
            parsed = try CommandLineArguments.parse(arguments, now: now)
        } catch {
            outcome.errorOutput =
                "apimetrics: \(TextEscaping.terminal(error.description))\n\(HelpText.usageLine(for: arguments.first))"
            outcome.status = 2
            return outcome
        }
        do {
            switch parsed {
            case .help(let command):
                outcome.output = HelpText.text(for: command)
            case .report(let options):
                var report = CombinedReport(range: options.range, filtersNDJSON: options.isRangeGiven)
                for file in options.files {
                    switch try InputFile.open(file) {
                    case .store(let reader):
                        do { try report.add(store: reader) } catch { throw InputError(path: file, reason: error.reason) }
                    case .ndjson(let path, let text):
                        let before = report
                        report.add(ndjson: text)
                        try checkNDJSON(path: path, text: text, before: before, after: report)
                    }
                }
                outcome.output = ReportOutput.render(
                    report, byConsumer: options.byConsumer, format: options.format, forTerminal: outputIsTerminal)
            case .calls(let options):
                let stores = try options.files.map { file throws(InputError) in try InputFile.open(file).store(for: "calls") }
                do {
                    let lines = try CallsListing.collect(stores, filter: options.filter, limit: options.limit)
                    outcome.output = options.json ? CallsListing.jsonLines(lines) : CallsListing.text(lines)
                } catch {
                    throw InputError(path: error.path, reason: error.reason)
                }
            case .openapi(let options):
                let stores = try options.files.map { file throws(InputError) in try InputFile.open(file).store(for: "openapi") }
                if let spec = options.spec {
                    let report: SpecReport
                    do {
                        report = try DiscoveredAPI.specReport(spec: spec, stores: stores)
                    } catch {
                        throw InputError(path: error.path, reason: error.reason)
                    }
                    outcome.output = options.json ? String(decoding: report.jsonBytes, as: UTF8.self) + "\n" : report.text()
                    // Like diff(1): a difference is not an error, but a CI step can fail on it.
                    if !report.agrees { outcome.status = 3 }
                    return outcome
                }
                let document: [UInt8]
                do {
                    document = try DiscoveredAPI.openAPI(from: stores, title: options.title)
                } catch {
                    throw InputError(path: error.path, reason: error.reason)
                }
                if options.yaml {
                    guard let yaml = DiscoveredAPI.yaml(fromJSON: document) else {
                        throw InputError(
                            path: options.files.joined(separator: ", "), reason: "gave a document that cannot be written as YAML")
                    }
                    outcome.output = yaml
                } else {
                    outcome.output = String(decoding: document, as: UTF8.self) + "\n"
                }
            case .alerts(let path):
                let rules: [AlertRule]
                do {
                    rules = try AlertRulesFile.read(path)
                } catch {
                    throw InputError(path: path, reason: "\(error.field): \(error.reason)")
                }
                let rendered = PrometheusAlertRules.render(rules)
                outcome.output = rendered.yaml
                outcome.errorOutput = rendered.skipped.map { "apimetrics: left out \(TextEscaping.terminal($0))\n" }.joined()
            case .usage(let options):
                let stores = try options.files.map { file throws(InputError) in try InputFile.open(file).store(for: "usage") }
                do {
                    let rows = try UsageListing.collect(stores, range: options.range, monthly: options.monthly)
                    outcome.output = UsageListing.csv(rows, forTerminal: outputIsTerminal)
                } catch {
                    throw InputError(path: error.path, reason: error.reason)
                }
            }
        } catch {
            outcome.output = ""
            outcome.errorOutput = "apimetrics: \(TextEscaping.terminal("\(error)"))\n"
            outcome.status = 1
        }
        return outcome
    }

    /// A non-empty NDJSON file none of whose lines is a JSON object is not
    /// NDJSON (a log, a CSV, a binary named by mistake): refused, not read
    /// as an empty report.
    static func checkNDJSON(path: String, text: String, before: CombinedReport, after: CombinedReport) throws(InputError) {
        guard after.nonObjectLines > before.nonObjectLines,
            after.nonObjectLines - before.nonObjectLines
                == text.split(whereSeparator: \.isNewline).filter({ !$0.allSatisfy(\.isWhitespace) }).count
        else { return }
        throw InputError(path: path, reason: "is neither an APIMetrics store nor NDJSON (no line is a JSON object)")
    }
}
