import APIMetrics

/// Lays `apimetrics report` out as a table, as CSV or as JSON.
///
/// Routes and consumer ids are whatever clients sent: the table escapes
/// control characters (an escape sequence never reaches the terminal raw),
/// CSV quotes as RFC 4180 says and keeps spreadsheets from running a cell
/// as a formula, JSON escapes control characters.
package enum ReportOutput {
    /// The columns of the per-endpoint CSV, as the JSON rows name them.
    package static let endpointColumns = [
        "method", "route", "calls", "client_errors", "server_errors", "p50_ms", "p95_ms", "p99_ms", "mean_ms",
        "mean_request_bytes", "mean_response_bytes",
    ]
    /// The columns of the per-consumer CSV.
    package static let consumerColumns = ["consumer", "name", "calls", "client_errors", "server_errors"]

    /// The report in `format`; `forTerminal` escapes CSV cells for a
    /// terminal too (JSON is always inert).
    package static func render(
        _ report: CombinedReport, byConsumer: Bool, format: CommandLineArguments.ReportFormat, forTerminal: Bool = false
    ) -> String {
        switch (format, byConsumer) {
        case (.table, false): table(endpoints: report)
        case (.table, true): table(consumers: report)
        case (.csv, _): csv(report, byConsumer: byConsumer, forTerminal: forTerminal)
        case (.json, _): json(report, byConsumer: byConsumer)
        }
    }

    /// The cells of one endpoint's row, `nil` where there is no figure.
    static func cells(_ row: CombinedReport.EndpointRow) -> [String?] {
        [
            row.method, row.route, String(row.calls), String(row.clientErrors), String(row.serverErrors),
            NumberText.milliseconds(row.latency.percentile(0.5)), NumberText.milliseconds(row.latency.percentile(0.95)),
            NumberText.milliseconds(row.latency.percentile(0.99)), NumberText.milliseconds(row.latency.meanNanoseconds),
            row.meanRequestBytes.map { NumberText.decimals($0, places: 1) },
            row.meanResponseBytes.map { NumberText.decimals($0, places: 1) },
        ]
    }

    static func cells(_ row: CombinedReport.ConsumerRow) -> [String?] {
        [row.id, row.name, NumberText.count(row.calls), NumberText.count(row.clientErrors), NumberText.count(row.serverErrors)]
    }

    /// A header row, then a row per endpoint or consumer; empty cells where
    /// there is no figure.
    package static func csv(_ report: CombinedReport, byConsumer: Bool, forTerminal: Bool = false) -> String {
        var text = TextEscaping.csvRecord(byConsumer ? consumerColumns : endpointColumns)
        let rows = byConsumer ? report.consumers.map(cells) : report.endpoints.map(cells)
        for row in rows { text += TextEscaping.csvRecord(row.map { $0 ?? "" }, forTerminal: forTerminal) }
        return text
    }

    /// An array of row objects, one a line; `null` where there is no figure.
    package static func json(_ report: CombinedReport, byConsumer: Bool) -> String {
        let columns = byConsumer ? consumerColumns : endpointColumns
        let rows = byConsumer ? report.consumers.map(cells) : report.endpoints.map(cells)
        // The method, route, consumer and name are strings; the rest numbers.
        let textColumns: Set<String> = ["method", "route", "consumer", "name"]
        let objects = rows.map { row in
            "{"
                + zip(columns, row).map { column, cell in
                    let value = cell.map { textColumns.contains(column) ? TextEscaping.jsonString($0) : $0 } ?? "null"
                    return TextEscaping.jsonString(column) + ":" + value
                }.joined(separator: ",") + "}"
        }
        return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// The per-endpoint table.
    package static func table(endpoints report: CombinedReport) -> String {
        var rows = [
            ["METHOD", "ROUTE", "CALLS", "4XX", "5XX", "P50 MS", "P95 MS", "P99 MS", "MEAN MS", "MEAN REQ B", "MEAN RESP B"]
        ]
        // Fixed decimals, so that the columns line up digit under digit.
        func milliseconds(_ nanoseconds: Double?) -> String { nanoseconds.map { NumberText.fixed($0 / 1e6, places: 3) } ?? "-" }
        func bytes(_ value: Double?) -> String { value.map { NumberText.fixed($0, places: 0) } ?? "-" }
        for row in report.endpoints {
            rows.append([
                row.method, row.route, String(row.calls), String(row.clientErrors), String(row.serverErrors),
                milliseconds(row.latency.percentile(0.5)), milliseconds(row.latency.percentile(0.95)),
                milliseconds(row.latency.percentile(0.99)), milliseconds(row.latency.meanNanoseconds),
                bytes(row.meanRequestBytes), bytes(row.meanResponseBytes),
            ])
        }
        return header(report) + layout(rows, rightAligned: 2...)
    }

    /// The per-consumer table, with the calls of no consumer and those not
    /// attributed below.
    package static func table(consumers report: CombinedReport) -> String {
        var rows = [["CONSUMER", "NAME", "CALLS", "4XX", "5XX"]]
        for row in report.consumers { rows.append(cells(row).map { $0 ?? "" }) }
        rows.append(["(no consumer identified)", "", NumberText.count(report.anonymousCalls), "", ""])
        rows.append([
            "(excluded on purpose: health checks, probes, the view)", "", NumberText.count(report.excludedCalls), "", "",
        ])
        rows.append(["(unattributed: event dropped or not processed)", "", NumberText.count(report.unattributedCalls), "", ""])
        return header(report) + layout(rows, rightAligned: 2...)
    }

    static func header(_ report: CombinedReport) -> String {
        var sources: [String] = []
        if report.stores > 0 { sources.append("\(report.stores) store\(report.stores == 1 ? "" : "s")") }
        if report.ndjsonFiles > 0 {
            sources.append(
                "\(report.ndjsonFiles) NDJSON file\(report.ndjsonFiles == 1 ? "" : "s") (\(report.windows) metrics window\(report.windows == 1 ? "" : "s"))"
            )
        }
        let from = report.range.from == 0 ? "the start" : TimeText.format(report.range.from)
        var text =
            "\(report.calls) calls from \(from) to \(TimeText.format(report.range.to)) in \(sources.joined(separator: " and "))\n"
        if report.windowsOutsideRange > 0 {
            text += "(\(report.windowsOutsideRange) NDJSON windows ended outside the range and were left out)\n"
        }
        if report.malformedLines > 0 { text += "(\(report.malformedLines) NDJSON lines could not be read and were left out)\n" }
        return text + "\n"
    }

    /// Columns padded to their widest cell; every cell escaped for the
    /// terminal first.
    package static func layout(_ rows: [[String]], rightAligned: some RangeExpression<Int>) -> String {
        let escaped = rows.map { $0.map(TextEscaping.terminal) }
        guard let first = escaped.first else { return "" }
        let widths = first.indices.map { column in escaped.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in escaped {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}
