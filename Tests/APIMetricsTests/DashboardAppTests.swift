@testable import APIMetrics
import Foundation
import Testing

/// The dashboard app's page against its policy: the hashes the CSP names are
/// those of the page's one script and one style sheet, nothing in the page
/// would need more than the policy allows (handlers, inline style, another
/// origin), and the hooks the browser test relies on are there.
///
/// With `APIMETRICS_WRITE_DASHBOARD=path`, the page is also written to `path`
/// for `Tests/EndToEnd/dashboard_fixture.py --page path`.
@Suite("Dashboard app")
struct DashboardAppTests {
    /// The page may not grow past this: it is sent whole on every load.
    static let pageLimit = 128 * 1024

    private let page = DashboardApp.page

    /// The text between the first `open` and the `close` after it.
    private func between(_ open: String, _ close: String, in text: String) -> String? {
        guard let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) else {
            return nil
        }
        return String(text[start.upperBound..<end.lowerBound])
    }

    private func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    private func hash(_ text: String) -> String {
        "'sha256-" + Base64.encode(SHA256.hash(Array(text.utf8))) + "'"
    }

    @Test func theHashesInThePolicyAreThoseOfThePagesScriptAndStyle() throws {
        let script = try #require(between("<script>", "</script>", in: page))
        let style = try #require(between("<style>", "</style>", in: page))
        #expect(occurrences(of: "<script", in: page.lowercased()) == 1)
        #expect(occurrences(of: "<style", in: page.lowercased()) == 1)
        #expect(script == DashboardApp.script && style == DashboardApp.style)
        let policy = DashboardApp.contentSecurityPolicy()
        #expect(
            policy
                == "default-src 'none'; script-src \(hash(script)); style-src \(hash(style)); img-src data:; connect-src 'self'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        #expect(DashboardApp.scriptHash != DashboardApp.styleHash)
        // A known vector, so that a broken digest cannot pass by agreeing with itself.
        #expect(hash("abc") == "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='")
    }

    @Test func neitherTheScriptNorTheStyleCanEndItsElementEarly() {
        let script = DashboardApp.script.lowercased(), style = DashboardApp.style.lowercased()
        #expect(!script.contains("</script") && !script.contains("<!--"))
        #expect(!style.contains("</style") && !style.contains("<"))
    }

    @Test func thePageHasNoHandlerNoInlineStyleAndNoOtherOrigin() throws {
        let shell = (DashboardApp.shellHead + DashboardApp.shellBody).lowercased()
        #expect(shell.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil)
        #expect(!shell.contains("style="))
        #expect(!shell.contains("http:") && !shell.contains("https:") && !shell.contains("//"))
        for attribute in ["href=\"", "src=\""] {
            for part in shell.components(separatedBy: attribute).dropFirst() {
                #expect(part.hasPrefix("#") || part.hasPrefix("data:"), "\(attribute)\(part.prefix(30))")
            }
        }
        let script = DashboardApp.script
        for forbidden in [
            "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setTimeout('",
            "javascript:", "import(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", ".style.",
        ] {
            #expect(!script.contains(forbidden), "\(forbidden)")
        }
        // The only absolute URL is SVG's namespace, which is a name, not a request.
        let urls = script.components(separatedBy: "://").dropFirst().map { $0.prefix(20) }
        #expect(urls == ["www.w3.org/2000/svg'"], "\(urls)")
        #expect(occurrences(of: "http:", in: script) == 1 && !script.contains("https:"))
        #expect(script.range(of: #"(src|href)['"]?\s*[:=,]\s*['"](https?:)?//"#, options: .regularExpression) == nil)
        // Every request goes through api(), to the page's own path.
        #expect(occurrences(of: "fetch(", in: script) == 1)
        #expect(script.contains("credentials: 'same-origin'"))
    }

    @Test func thePageStaysUnderItsSizeLimit() {
        #expect(page.utf8.count < Self.pageLimit, "\(page.utf8.count) bytes")
        #expect(DashboardApp.render() == Array(page.utf8))
    }

    @Test func theHooksTheBrowserTestReadsArePresent() {
        for page in ["overview", "endpoints", "consumers", "calls", "errors", "pipeline"] {
            #expect(self.page.contains("<a href=\"#/\(page)\" data-page=\"\(page)\">"), "nav \(page)")
        }
        for range in ["1h", "24h", "7d", "30d"] {
            #expect(page.contains("<button type=\"button\" data-range=\"\(range)\">"), "range \(range)")
        }
        #expect(
            page.contains("type=\"datetime-local\" id=\"range-from\"") && page.contains("type=\"datetime-local\" id=\"range-to\"")
        )
        let script = DashboardApp.script
        for figure in ["requests", "client_errors", "server_errors", "p50_ms", "p95_ms", "p99_ms", "consumers", "uptime"] {
            #expect(script.contains("tile('\(figure)'"), "figure \(figure)")
        }
        for table in ["endpoints", "consumers", "calls", "statuses", "top-consumers", "errors"] {
            #expect(script.contains("'\(table)'"), "table \(table)")
        }
        for hook in [
            "id: 'copy-curl'", "id: 'curl'", "id: 'filters'", "id: 'older'", "'data-field': 'status'", "'data-field': 'method'",
            "'data-field': 'path'", "'data-field': 'duration_ms'", "'consumer'", "'data-row'", "'data-col'",
        ] {
            #expect(script.contains(hook), "\(hook)")
        }
    }

    @Test func thePageIsWrittenWhereTheEnvironmentSays() throws {
        let bytes = DashboardApp.render()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("<!doctype html>"))
        guard let path = ProcessInfo.processInfo.environment["APIMETRICS_WRITE_DASHBOARD"], !path.isEmpty else { return }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }
}
