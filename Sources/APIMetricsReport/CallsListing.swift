package import APIMetrics

/// `apimetrics calls`: the request logs of several stores (one per
/// instance) as one, newest first.
package enum CallsListing {
    /// One call and the store it was read from.
    package struct Line: Sendable {
        package var store: String
        package var call: StoreCall
    }

    /// The newest `limit` calls matching `filter` across `stores`: each
    /// store's newest pages are read (up to `limit` calls), then merged by
    /// time (ties: the order the stores were named in, then the newest
    /// row).
    package static func collect(_ stores: [StoreReader], filter: StoreCallFilter, limit: Int) throws(StoreReadError) -> [Line] {
        var lines: [(order: Int, line: Line)] = []
        for (order, store) in stores.enumerated() {
            var cursor: StoreCallCursor?
            var read = 0
            repeat {
                let page = try store.calls(filter, after: cursor, limit: min(1_000, limit - read))
                for call in page.calls { lines.append((order, Line(store: store.path, call: call))) }
                read += page.calls.count
                cursor = page.next
            } while cursor != nil && read < limit
        }
        lines.sort { left, right in
            if left.line.call.time != right.line.call.time { return left.line.call.time > right.line.call.time }
            if left.order != right.order { return left.order < right.order }
            return left.line.call.rowID > right.line.call.rowID
        }
        return lines.prefix(limit).map(\.line)
    }

    /// One aligned line a call: time, method, path, status (`-` when no
    /// response came), duration, consumer (`-` when none); every cell
    /// escaped for the terminal.
    package static func text(_ lines: [Line]) -> String {
        var rows = [["TIME", "METHOD", "PATH", "STATUS", "MS", "CONSUMER"]]
        for line in lines {
            let call = line.call
            rows.append([
                TimeText.format(call.time), (call.isOutgoing ? "→" : "") + call.method, call.path,
                call.status == 0 ? "-" : String(call.status),
                NumberText.milliseconds(Double(call.durationNanoseconds)) ?? "-", call.consumer ?? "-",
            ])
        }
        return ReportOutput.layout(rows, rightAligned: 3...4)
    }

    /// One JSON object a line.
    package static func jsonLines(_ lines: [Line]) -> String {
        var text = ""
        for line in lines {
            let call = line.call
            func string(_ value: String?) -> String { value.map(TextEscaping.jsonString) ?? "null" }
            let fields: [(String, String)] = [
                ("id", string(call.id.description)),
                ("time", string(TimeText.format(call.time))),
                ("time_ns", String(call.time)),
                ("method", string(call.method)),
                ("route", string(call.route)),
                ("path", string(call.path)),
                ("status", String(call.status)),
                ("duration_ms", NumberText.milliseconds(Double(call.durationNanoseconds)) ?? "null"),
                ("consumer", string(call.consumer)),
                ("request_bytes", String(call.requestBytes)),
                ("response_bytes", String(call.responseBytes)),
                ("outgoing", call.isOutgoing ? "true" : "false"),
                ("error_type", string(call.errorType)),
                ("error_message", string(call.errorMessage)),
                ("store", string(line.store)),
            ]
            text += "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
        }
        return text
    }
}

/// `apimetrics usage`: calls per consumer per day or month, summed over
/// stores.
package enum UsageListing {
    /// One period's calls by one consumer.
    package struct Row: Sendable, Equatable {
        package var period: String
        package var consumer: String
        package var calls: Double

        package init(period: String, consumer: String, calls: Double) {
            self.period = period
            self.consumer = consumer
            self.calls = calls
        }
    }

    /// The rows of every store, summed by period and consumer: by period,
    /// then most calls first, then by consumer.
    package static func collect(_ stores: [StoreReader], range: StoreTimeRange, monthly: Bool) throws(StoreReadError) -> [Row] {
        var sums: [String: Row] = [:]
        for store in stores {
            for row in try store.usage(range, monthly: monthly) {
                let key = "\(row.period)\u{0}\(row.consumer)"
                sums[key, default: Row(period: row.period, consumer: row.consumer, calls: 0)].calls += row.requests
            }
        }
        return sums.values.sorted { left, right in
            if left.period != right.period { return left.period < right.period }
            if left.calls != right.calls { return left.calls > right.calls }
            return left.consumer < right.consumer
        }
    }

    /// `period,consumer,calls`; the calls as integers when all are whole,
    /// else with up to six decimals (calls sampled at a rate count their
    /// weight).
    package static func csv(_ rows: [Row], forTerminal: Bool = false) -> String {
        let whole = rows.allSatisfy { NumberText.isWhole($0.calls) }
        var text = TextEscaping.csvRecord(["period", "consumer", "calls"])
        for row in rows {
            let calls = whole ? String(Int64(row.calls.rounded())) : NumberText.decimals(row.calls, places: 6)
            text += TextEscaping.csvRecord([row.period, row.consumer, calls], forTerminal: forTerminal)
        }
        return text
    }
}
