/// Lays a report out as plain-text tables, the way the dashboard shows it.
public enum ReportTable {
    /// The per-endpoint table.
    public static func endpoints(_ report: MetricsReport) -> String {
        var rows = [["METHOD", "ROUTE", "CALLS", "4XX %", "5XX %", "P50 MS", "P95 MS", "P99 MS", "MEAN REQ B", "MEAN RESP B"]]
        for endpoint in report.sortedEndpoints {
            rows.append([
                endpoint.method, endpoint.route, String(endpoint.requests),
                percent(endpoint.clientErrors, endpoint.requests), percent(endpoint.serverErrors, endpoint.requests),
                milliseconds(endpoint.latency.percentile(0.5)), milliseconds(endpoint.latency.percentile(0.95)),
                milliseconds(endpoint.latency.percentile(0.99)),
                String(Int((endpoint.requestSizes.meanBytes ?? 0).rounded())), String(Int((endpoint.responseSizes.meanBytes ?? 0).rounded())),
            ])
        }
        return header(report) + layout(rows, rightAligned: 2...)
    }

    /// The per-consumer table.
    public static func consumers(_ report: MetricsReport) -> String {
        var rows = [["CONSUMER", "CALLS", "4XX", "5XX"]]
        for consumer in report.sortedConsumers {
            rows.append([consumer.id, number(consumer.requests), number(consumer.clientErrors), number(consumer.serverErrors)])
        }
        rows.append(["(no consumer identified)", number(report.anonymousRequests), "", ""])
        rows.append(["(unattributed: event dropped or not processed)", number(report.unattributedRequests), "", ""])
        return header(report) + layout(rows, rightAligned: 1...)
    }

    private static func header(_ report: MetricsReport) -> String {
        let span = report.span.map { " from \($0.start) to \($0.end)" } ?? ""
        var text = "\(report.requests) calls in \(report.windowCount) metrics window\(report.windowCount == 1 ? "" : "s")\(span)\n"
        if report.malformedLines > 0 { text += "(\(report.malformedLines) lines could not be read and were left out)\n" }
        return text + "\n"
    }

    private static func layout(_ rows: [[String]], rightAligned: PartialRangeFrom<Int>) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }
            text += cells.joined(separator: "  ").replacingTrailingSpaces() + "\n"
        }
        return text
    }

    private static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "0.0" : String(format1: Double(part) * 100 / Double(whole))
    }

    private static func milliseconds(_ nanoseconds: Double?) -> String {
        nanoseconds.map { String(format3: $0 / 1e6) } ?? "-"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format1: value)
    }
}

extension String {
    fileprivate init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }

    fileprivate init(format3 value: Double) {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(abs(thousandths % 1000))
        self = "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    fileprivate func replacingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
