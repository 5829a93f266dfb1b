/// The dashboard (`/_apimetrics`): one self-contained HTML page, charts
/// drawn on the server as inline SVG, no scripts, fonts or other requests;
/// it reloads itself every 30 seconds.
enum Dashboard {
    static let contentType = "text/html; charset=utf-8"

    /// The page's only style sheet; the Content-Security-Policy allows it by
    /// its hash and nothing else (no scripts, no other style).
    static let style = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
        header{background:#1d2430;color:#fff;padding:14px 24px}header h1{font-size:18px;margin:0}
        header p{margin:4px 0 0;color:#b8c0cc}main{padding:16px 24px;max-width:1200px}
        section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:12px 16px;margin:0 0 16px}
        h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f2;white-space:nowrap}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.wrap{white-space:normal;word-break:break-all}
        .tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{flex:1;min-width:140px}
        .tile b{display:block;font-size:22px}.muted{color:#6a737d}.bad{color:#c62828}.warn{color:#b26a00}
        svg text{font-size:11px;fill:#6a737d}
        a.json{color:#9ecbff}
        """

    /// `'sha256-…'` of ``style``, as CSP's `style-src` names it.
    static let styleHash = "'sha256-" + Base64.encode(SHA256.hash(Array(style.utf8))) + "'"

    static func render(_ snapshot: MetricsSnapshot, apiPath: String) -> String {
        let identity = snapshot.identity
        let totals = snapshot.totals
        let requests = totals.requests
        let endpoints = snapshot.endpoints
        let clientErrors = endpoints.reduce(0) { $0 + $1.clientErrors }
        let serverErrors = endpoints.reduce(0) { $0 + $1.serverErrors }
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="30">
            <link rel="icon" href="data:,">
            <title>\(escape(identity.service)) · APIMetrics</title>
            <style>\(style)</style></head><body>
            <header><h1>\(escape(identity.service))</h1>
            <p>\(escape(identity.environment))\(identity.version.map { " · " + escape($0) } ?? "")\(identity.instanceID.map { " · instance " + escape($0) } ?? "") · up \(duration(snapshot.uptimeSeconds)) · <a class=json href="\(escape(apiPath))">JSON</a></p></header>
            <main>
            <section class="tiles">
            <div class="tile"><span class="muted">Requests</span><b>\(requests)</b></div>
            <div class="tile"><span class="muted">Client errors (4xx)</span><b class="warn">\(percent(clientErrors, of: requests)) %</b></div>
            <div class="tile"><span class="muted">Server errors (5xx)</span><b class="bad">\(percent(serverErrors, of: requests)) %</b></div>
            <div class="tile"><span class="muted">Consumers</span><b>\(totals.consumers.count)</b></div>
            <div class="tile"><span class="muted">Uptime</span><b>\(duration(snapshot.uptimeSeconds))</b></div>
            </section>

            """
        html += "<section><h2>Requests and errors per window, last \(totals.windows.count)</h2>\n"
        html += chart(totals.windows)
        html += "</section>\n"

        html +=
            "<section><h2>Endpoints</h2><table><thead><tr><th>Method</th><th>Route</th><th class=n>Calls</th><th class=n>4xx %</th><th class=n>5xx %</th><th class=n>p50 ms</th><th class=n>p95 ms</th><th class=n>p99 ms</th><th class=n>Mean request</th><th class=n>Mean response</th></tr></thead><tbody>\n"
        for endpoint in endpoints {
            html +=
                "<tr><td>\(escape(endpoint.method))</td><td>\(escape(endpoint.route))</td><td class=n>\(endpoint.requests)</td>"
            html +=
                "<td class=n>\(percent(endpoint.clientErrors, of: endpoint.requests))</td><td class=n>\(percent(endpoint.serverErrors, of: endpoint.requests))</td>"
            for quantile in [0.5, 0.95, 0.99] { html += "<td class=n>\(number(endpoint.percentileMilliseconds(quantile)))</td>" }
            html +=
                "<td class=n>\(bytes(endpoint.requestSizes.meanBytes))</td><td class=n>\(bytes(endpoint.responseSizes.meanBytes))</td></tr>\n"
        }
        if endpoints.isEmpty { html += "<tr><td colspan=10 class=muted>No calls yet.</td></tr>\n" }
        html += "</tbody></table></section>\n"

        html +=
            "<section><h2>Top consumers</h2><table><thead><tr><th>Consumer</th><th class=n>Calls</th><th class=n>4xx</th><th class=n>5xx</th></tr></thead><tbody>\n"
        for consumer in totals.consumers.prefix(20) {
            let name = consumer.name.flatMap { $0 == consumer.id ? nil : " <span class=muted>\(escape($0))</span>" } ?? ""
            html +=
                "<tr><td>\(escape(consumer.id))\(name)</td><td class=n>\(number(consumer.requests))</td><td class=n>\(number(consumer.clientErrors))</td><td class=n>\(number(consumer.serverErrors))</td></tr>\n"
        }
        html +=
            "<tr><td class=muted>no consumer identified</td><td class=n>\(number(totals.anonymousRequests))</td><td></td><td></td></tr>\n"
        html +=
            "<tr><td class=muted>left out on purpose (health checks, probes, the view, your exclusions)</td><td class=n>\(number(totals.excludedRequests))</td><td></td><td></td></tr>\n"
        html +=
            "<tr><td class=muted>unattributed (event dropped or not yet processed)</td><td class=n>\(number(totals.unattributedRequests))</td><td></td><td></td></tr>\n"
        html +=
            "</tbody></table><p class=muted>Counted from identified events with their sampling weights; the four kinds add up to every call.</p></section>\n"

        html +=
            "<section><h2>Recent server errors</h2><table><thead><tr><th>Route</th><th>Error</th><th class=n>Count</th><th>Last seen</th><th>Where</th></tr></thead><tbody>\n"
        for group in totals.serverErrors.prefix(20) {
            html +=
                "<tr><td>\(escape(group.method)) \(escape(group.route))</td><td class=wrap><b>\(escape(group.type))</b> \(escape(group.message))"
            for cause in group.causes {
                html += "<br><span class=muted>caused by \(escape(cause.type)): \(escape(cause.message))</span>"
            }
            html +=
                "</td><td class=n>\(number(group.count))</td><td>\(Timestamp.rfc3339(nanosecondsSinceEpoch: group.lastSeenNanoseconds))</td><td>\(escape(group.location ?? ""))</td></tr>\n"
        }
        if totals.serverErrors.isEmpty { html += "<tr><td colspan=5 class=muted>None.</td></tr>\n" }
        html += "</tbody></table></section>\n"

        if !totals.validationErrors.isEmpty {
            html +=
                "<section><h2>Validation errors</h2><table><thead><tr><th>Route</th><th>Field</th><th>Type</th><th>Example</th><th class=n>Count</th></tr></thead><tbody>\n"
            for group in totals.validationErrors.prefix(30) {
                html +=
                    "<tr><td>\(escape(group.method)) \(escape(group.route))</td><td>\(escape(group.field))</td><td>\(escape(group.type))</td><td class=wrap>\(escape(group.message))</td><td class=n>\(number(group.count))</td></tr>\n"
            }
            html += "</tbody></table></section>\n"
        }

        html +=
            "<section><h2>Latest requests</h2><table><thead><tr><th>Time</th><th>Method</th><th>URL (redacted)</th><th class=n>Status</th><th class=n>ms</th><th>Consumer</th></tr></thead><tbody>\n"
        for call in totals.recentCalls.reversed() {
            let statusClass = call.status >= 500 ? " bad" : call.status >= 400 ? " warn" : ""
            html +=
                "<tr><td>\(Timestamp.rfc3339(nanosecondsSinceEpoch: call.timeNanoseconds))</td><td>\(escape(call.method))</td><td class=wrap>\(escape(call.target))</td><td class=\"n\(statusClass)\">\(call.status)</td><td class=n>\(number((Double(call.durationNanoseconds) / 1_000).rounded() / 1_000))</td><td>\(escape(call.consumer ?? ""))</td></tr>\n"
        }
        if totals.recentCalls.isEmpty { html += "<tr><td colspan=6 class=muted>None logged yet.</td></tr>\n" }
        html += "</tbody></table></section>\n"

        let statistics = snapshot.statistics
        html += "<section><h2>Pipeline</h2><table><tbody>\n"
        for (name, value) in [
            ("Recorded", statistics.recorded), ("Left out of the logs (still counted)", statistics.skipped),
            ("Dropped: queue full", statistics.droppedQueueFull), ("Dropped: shed under overload", statistics.droppedShed),
            ("Dropped: processing", statistics.droppedProcessing), ("Queued now", statistics.queued),
            ("Exported (per exporter)", statistics.exported), ("Failed deliveries", statistics.failed),
            ("Retried attempts", statistics.retried), ("Spooled to disk", statistics.spooled),
            ("Waiting in the spool", statistics.spoolPending), ("Dropped: spool full", statistics.droppedSpoolFull),
            ("Calls past the series limit", totals.foldedRequests),
        ] {
            html += "<tr><td>\(name)</td><td class=n>\(value)</td></tr>\n"
        }
        html += "</tbody></table></section>\n</main></body></html>\n"
        return html
    }

    /// Bars of calls per window, 5xx and 4xx stacked on top in their colours.
    static func chart(_ windows: [Aggregator.WindowTotals]) -> String {
        let width = 720.0, height = 160.0, left = 40.0, bottom = 18.0
        let slots = 60.0
        let barWidth = (width - left) / slots
        let peak = max(1, windows.map(\.requests).max() ?? 1)
        var svg =
            "<svg role=\"img\" aria-label=\"requests per window\" width=\"100%\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#d0d4d9\"/>\n"
        svg +=
            "<text x=\"\(left - 4)\" y=\"12\" text-anchor=\"end\">\(peak)</text><text x=\"\(left - 4)\" y=\"\(height - bottom)\" text-anchor=\"end\">0</text>\n"
        let scale = (height - bottom - 6) / Double(peak)
        let shown = windows.suffix(Int(slots))
        // The newest window at the right edge.
        for (position, window) in shown.enumerated() {
            let x = left + Double(Int(slots) - shown.count + position) * barWidth + 1
            let ok = Double(window.requests - window.clientErrors - window.serverErrors) * scale
            let client = Double(window.clientErrors) * scale
            let server = Double(window.serverErrors) * scale
            var y = height - bottom
            let label =
                "\(Timestamp.rfc3339(nanosecondsSinceEpoch: window.endNanoseconds)): \(window.requests) calls, \(window.clientErrors) 4xx, \(window.serverErrors) 5xx"
            svg += "<g><title>\(escape(label))</title>"
            for (part, colour) in [(ok, "#4a90d9"), (client, "#f0a030"), (server, "#d64545")] where part > 0 {
                y -= part
                svg +=
                    "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(barWidth - 2))\" height=\"\(format(part))\" fill=\"\(colour)\"/>"
            }
            svg += "</g>\n"
        }
        if let first = shown.first, let last = shown.last {
            let firstX = left + Double(Int(slots) - shown.count) * barWidth
            svg +=
                "<text x=\"\(format(min(firstX, width - 260)))\" y=\"\(height - 4)\">\(Timestamp.rfc3339(nanosecondsSinceEpoch: first.startNanoseconds).prefix(19))</text>"
            svg +=
                "<text x=\"\(width)\" y=\"\(height - 4)\" text-anchor=\"end\">\(Timestamp.rfc3339(nanosecondsSinceEpoch: last.endNanoseconds).prefix(19))</text>\n"
        } else {
            svg +=
                "<text x=\"\(left + 8)\" y=\"\((height - bottom) / 2)\">The first window closes one metrics interval after start.</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { [0x26, 0x3C, 0x3E, 0x22, 0x27].contains($0) }) else { return text }
        var escaped = ""
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    private static func format(_ value: Double) -> String {
        String((value * 10).rounded() / 10)
    }

    private static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "0" : number((Double(part) * 1000 / Double(whole)).rounded() / 10)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String((value * 100).rounded() / 100)
    }

    private static func bytes(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value < 1024 { return "\(Int(value.rounded())) B" }
        if value < 1024 * 1024 { return "\(number((value / 102.4).rounded() / 10)) KiB" }
        return "\(number((value / 104_857.6).rounded() / 10)) MiB"
    }

    private static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        if total < 86_400 { return "\(total / 3600) h \(total % 3600 / 60) min" }
        return "\(total / 86_400) d \(total % 86_400 / 3600) h"
    }
}
