import Foundation

/// The secrets a configuration holds — credentials and query values in the
/// URLs it names, API keys, tokens, header values sent to a collector — kept
/// out of every text the library shows, logs, stores or spools: exporter
/// names, the startup summary, `last_export_error`, diagnostics and the
/// spool's records.
struct ConfiguredSecrets: Sendable {
    /// Shown where a secret was.
    static let marker = "REDACTED"

    /// Shorter secrets are still replaced inside their URLs, but not
    /// wherever their characters happen to appear in a message.
    static let minimumScrubbedLength = 4

    /// The configured URLs, as written, longest first.
    private let urls: [String]
    /// The secret values, longest first.
    private let values: [String]

    init(urls: [String], values: [String]) {
        self.urls = Array(Set(urls.filter { !$0.isEmpty })).sorted { $0.utf8.count > $1.utf8.count }
        var values = values
        for url in urls { values += Self.secretParts(of: url) }
        self.values = Array(Set(values.filter { $0.utf8.count >= Self.minimumScrubbedLength }))
            .sorted { $0.utf8.count > $1.utf8.count }
    }

    /// The URLs and secrets of every exporter and of the view.
    init(configuration: APIMetricsConfiguration) {
        var urls: [String] = []
        var values: [String] = []
        for exporter in configuration.exporters {
            switch exporter.kind {
            case .store, .file, .console, .custom:
                break
            case let .http(options):
                urls.append(options.endpoint)
                values += options.apiKey.map { [$0] } ?? []
                values += options.headers.map { String($0.value) }
            case let .otlp(options):
                urls += [OTLPExporter.Signal.traces, .logs, .metrics].compactMap { options.url(for: $0) }
                urls += options.signalEndpoints.values
                urls += options.endpoint.map { [$0] } ?? []
                values += options.headers.map { String($0.value) }
            case let .moesif(options):
                urls.append(options.baseURL)
                values.append(options.applicationID)
            case let .readMe(options):
                urls.append(options.baseURL)
                values.append(options.apiKey)
            case let .apitally(options):
                urls.append(options.baseURL)
            case let .monoscope(options):
                urls.append(options.endpoint)
                values.append(options.apiKey)
            case let .alertWebhook(options):
                // A Slack webhook's URL is its credential: its path is secret too.
                urls.append(options.url)
                values += options.secret.map { [$0] } ?? []
                if options.format == .slack { values.append(options.url) }
            }
        }
        values += configuration.view.bearerToken.map { [$0] } ?? []
        self.init(urls: urls, values: values)
    }

    /// `text` with every configured URL in its shown form and every secret
    /// value replaced by the marker.
    func scrub(_ text: String) -> String {
        guard !urls.isEmpty || !values.isEmpty else { return text }
        var result = text
        for url in urls where result.contains(url) {
            result = result.replacingEvery(url, with: Self.shown(url))
        }
        for value in values where result.contains(value) {
            result = result.replacingEvery(value, with: Self.marker)
        }
        return result
    }

    /// A URL as the library shows it: its userinfo and every query value
    /// replaced by the marker (`http://REDACTED@host/path?key=REDACTED`).
    /// Names, host, port and path stay, so that it still says where. Text
    /// that is not a URL with a scheme is read as one without: a userinfo
    /// ends at the last `@` before the query, wherever a `/` stands in it.
    static func shown(_ url: String) -> String {
        let parts = Parts(url)
        var result = String(url[..<parts.authorityStart])
        if let userinfo = parts.userinfo {
            result += marker + "@" + url[userinfo.upperBound..<parts.pathStart]
        } else {
            result += url[parts.authorityStart..<parts.pathStart]
        }
        result += url[parts.pathStart..<parts.queryStart]
        if parts.queryStart < parts.fragmentStart {
            let query = url[url.index(after: parts.queryStart)..<parts.fragmentStart]
            result +=
                "?"
                + query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
                    // A bare value (no `=`) may be a token itself.
                    guard let equals = pair.firstIndex(of: "=") else { return pair.isEmpty ? "" : marker }
                    return pair[...equals] + marker
                }.joined(separator: "&")
        }
        if parts.fragmentStart < url.endIndex { result += "#" + marker }
        return result
    }

    /// The userinfo's parts and the query's values of `url`, as written and
    /// percent-decoded.
    static func secretParts(of url: String) -> [String] {
        let parts = Parts(url)
        var found: [Substring] = []
        if let userinfo = parts.userinfo {
            let text = url[parts.authorityStart..<userinfo.lowerBound]
            found.append(text)
            found += text.split(separator: ":", maxSplits: 1)
        }
        if parts.queryStart < parts.fragmentStart {
            for pair in url[url.index(after: parts.queryStart)..<parts.fragmentStart].split(separator: "&") {
                if let equals = pair.firstIndex(of: "=") {
                    found.append(pair[pair.index(after: equals)...])
                } else {
                    found.append(pair)
                }
            }
        }
        if parts.fragmentStart < url.endIndex { found.append(url[url.index(after: parts.fragmentStart)...]) }
        return found.flatMap { part -> [String] in
            let decoded = String(part).removingPercentEncoding ?? String(part)
            return decoded == String(part) ? [decoded] : [String(part), decoded]
        }
    }

    /// Where a URL's pieces start. The authority runs from after `://` (or
    /// the start) to the path; a userinfo is everything up to the last `@`
    /// before the query or fragment, since a password may hold `/`.
    private struct Parts {
        var authorityStart: String.Index
        var userinfo: Range<String.Index>?
        var pathStart: String.Index
        var queryStart: String.Index
        var fragmentStart: String.Index

        init(_ url: String) {
            authorityStart = url.range(of: "://")?.upperBound ?? url.startIndex
            let rest = url[authorityStart...]
            fragmentStart = rest.firstIndex(of: "#") ?? url.endIndex
            let beforeFragment = url[authorityStart..<fragmentStart]
            queryStart = beforeFragment.firstIndex(of: "?") ?? fragmentStart
            let beforeQuery = url[authorityStart..<queryStart]
            if let at = beforeQuery.lastIndex(of: "@") {
                let marker = at..<url.index(after: at)
                userinfo = marker
                let hostPart = url[marker.upperBound..<queryStart]
                pathStart = hostPart.firstIndex(of: "/") ?? queryStart
            } else {
                userinfo = nil
                pathStart = beforeQuery.firstIndex(of: "/") ?? queryStart
            }
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced, left to right.
    fileprivate func replacingEvery(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
