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
            case .file, .console, .custom:
                break
            case let .http(options):
                urls.append(options.endpoint)
                values += options.apiKey.map { [$0] } ?? []
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
    /// Names, host, port and path stay, so that it still says where.
    static func shown(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        var result = String(url[..<schemeEnd.upperBound])
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            result += marker + "@" + authority[authority.index(after: at)...]
        } else {
            result += authority
        }
        let afterAuthority = rest[authorityEnd...]
        let fragmentStart = afterAuthority.firstIndex(of: "#") ?? afterAuthority.endIndex
        let beforeFragment = afterAuthority[..<fragmentStart]
        if let question = beforeFragment.firstIndex(of: "?") {
            result += beforeFragment[...question]
            let pairs = beforeFragment[beforeFragment.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
            result += pairs.map { pair in
                guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                return pair[...equals] + marker
            }.joined(separator: "&")
        } else {
            result += beforeFragment
        }
        if fragmentStart < afterAuthority.endIndex { result += "#" + marker }
        return result
    }

    /// The userinfo's parts and the query's values of `url`, as written and
    /// percent-decoded.
    static func secretParts(of url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [] }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var parts: [Substring] = []
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            let userinfo = rest[..<at]
            parts.append(userinfo)
            parts += userinfo.split(separator: ":", maxSplits: 1)
        }
        if let question = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: question)...].prefix { $0 != "#" }
            for pair in query.split(separator: "&") {
                if let equals = pair.firstIndex(of: "=") { parts.append(pair[pair.index(after: equals)...]) }
            }
        }
        return parts.flatMap { part -> [String] in
            let decoded = String(part).removingPercentEncoding ?? String(part)
            return decoded == String(part) ? [decoded] : [String(part), decoded]
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
