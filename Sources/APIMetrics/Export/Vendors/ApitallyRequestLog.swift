/// What goes to Apitally's request log, by the rules of its Python SDK
/// (`apitally/client/request_logging.py`), the newest of its official SDKs:
/// which calls (no health check, no probe, at most ``maxCallsPerSecond``),
/// which parts of them (response headers and the query, not request
/// headers), and how big (a body over 50,000 bytes is `<body too large>`;
/// an upload at most 1,000,000 compressed bytes).
public struct ApitallyRequestLogOptions: Sendable, Hashable {
    /// Logs the request's header fields (already redacted). Apitally's
    /// default: off.
    public var includesRequestHeaders: Bool
    /// Logs the response's header fields. Apitally's default: on.
    public var includesResponseHeaders: Bool
    /// Keeps the query in the logged URL. Apitally's default: on.
    public var includesQueryParameters: Bool
    /// Logs request bodies of JSON and plain text, when bodies are captured
    /// (``APIMetricsConfiguration/capture``, off by default).
    public var includesRequestBody: Bool
    /// Logs response bodies of JSON and plain text, when bodies are captured.
    public var includesResponseBody: Bool
    /// The most calls logged per second of traffic (by their start); the
    /// rest are counted in the syncs only, and said in a warning. Apitally
    /// writes its log buffer of 100 calls once a second.
    public var maxCallsPerSecond: Int

    /// Apitally's defaults, bodies following the capture settings.
    public static let `default` = ApitallyRequestLogOptions()

    /// Creates request-log options.
    public init(
        includesRequestHeaders: Bool = false, includesResponseHeaders: Bool = true, includesQueryParameters: Bool = true,
        includesRequestBody: Bool = true, includesResponseBody: Bool = true, maxCallsPerSecond: Int = 100
    ) {
        self.includesRequestHeaders = includesRequestHeaders
        self.includesResponseHeaders = includesResponseHeaders
        self.includesQueryParameters = includesQueryParameters
        self.includesRequestBody = includesRequestBody
        self.includesResponseBody = includesResponseBody
        self.maxCallsPerSecond = maxCallsPerSecond
    }
}

/// Apitally's request-log rules that are not options.
enum ApitallyRequestLog {
    /// A body longer than this is logged as ``bodyTooLarge``.
    static let maxBodyBytes = 50_000
    /// An upload's most compressed bytes: Apitally starts a new file past it.
    static let maxFileBytes = 1_000_000
    /// Failed uploads kept for the next attempt; past it the oldest is given up.
    static let maxPendingFiles = 50
    /// Uploads in one flush, as the SDKs send at most 10 files per sync.
    static let maxFilesPerFlush = 10
    static let bodyTooLarge = Array("<body too large>".utf8)
    /// The body types the SDK logs (Python's list; the Node SDK adds
    /// `application/ld+json`, `application/x-ndjson` and `text/html`).
    static let loggedContentTypes = ["application/json", "application/problem+json", "application/vnd.api+json", "text/plain"]

    /// Whether a body of this `Content-Type` is logged.
    static func isLoggedContentType(_ value: String?) -> Bool {
        guard let value = value?.lowercased() else { return false }
        return loggedContentTypes.contains { value.hasPrefix($0) }
    }

    /// Apitally's `EXCLUDE_PATH_PATTERNS`, matched case-insensitively on the
    /// route template or, without one, the path: health checks, heartbeats,
    /// probes, favicons, robots, manifests, service workers, `/.well-known/`.
    static func isExcludedPath(_ path: String) -> Bool {
        let lower = path.lowercased()
        if lower.contains("/.well-known/") { return true }
        guard let slash = lower.lastIndex(of: "/") else { return false }
        let last = lower[lower.index(after: slash)...]
        if ["ping", "ready", "live", "robots.txt", "sitemap.xml", "manifest.json", "site.webmanifest",
            "service-worker.js", "sw.js"].contains(last) {
            return true
        }
        let word = last.hasPrefix("_") ? last.dropFirst() : last
        if word == "health" || word == "healthz" { return true }
        if joins(word, "health", "check") || joins(word, "heart", "beat") { return true }
        return isIcon(last, name: "favicon", extensions: [".ico", ".png", ".svg"])
            || isIcon(last, name: "apple-touch-icon", extensions: [".png"])
    }

    /// Apitally's `EXCLUDE_USER_AGENT_PATTERNS`: load balancers' and
    /// Kubernetes' probes.
    static func isProbe(userAgent: String?) -> Bool {
        guard let agent = userAgent?.lowercased() else { return false }
        return ["healthcheck", "health-check", "health_check", "health check", "microsoft-azure-application-lb",
                "googlehc", "kube-probe"].contains { agent.contains($0) }
    }

    /// `first[-_]?second s?`, the whole of `word`.
    private static func joins(_ word: Substring, _ first: String, _ second: String) -> Bool {
        guard word.hasPrefix(first) else { return false }
        var rest = word.dropFirst(first.count)
        if rest.first == "-" || rest.first == "_" { rest = rest.dropFirst() }
        guard rest.hasPrefix(second) else { return false }
        rest = rest.dropFirst(second.count)
        return rest.isEmpty || rest == "s"
    }

    /// `name(-[\w-]+)?.ext`, the whole of `last`.
    private static func isIcon(_ last: Substring, name: String, extensions: [String]) -> Bool {
        guard last.hasPrefix(name), let ext = extensions.first(where: { last.hasSuffix($0) }),
              last.count >= name.count + ext.count else { return false }
        let middle = last.dropFirst(name.count).dropLast(ext.count)
        if middle.isEmpty { return true }
        return middle.first == "-" && middle.count > 1
            && middle.dropFirst().allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    /// Calls logged per second of their start: the first `max` of each
    /// second are, the rest not.
    struct RateWindow: Sendable {
        var second: Int64 = .min
        var count = 0

        mutating func admit(startNanoseconds: Int64, max: Int) -> Bool {
            let second = startNanoseconds / 1_000_000_000
            if second != self.second {
                // A call of an earlier second (batches overlap) is counted
                // in the current one rather than reopening the old.
                if second > self.second {
                    self.second = second
                    count = 0
                }
            }
            guard count < max else { return false }
            count += 1
            return true
        }
    }

    /// A gzip'd NDJSON file waiting to be uploaded.
    struct PendingFile: Sendable {
        var uuid: String
        var body: [UInt8]
        var calls: Int
    }

    /// The lines as gzip'd files of at most ``maxFileBytes`` compressed
    /// bytes each, halving a file that is over. A line alone over it is
    /// returned in `tooLarge`.
    static func files(of lines: [[UInt8]], maxBytes: Int = maxFileBytes) throws -> (files: [[UInt8]], calls: [Int], tooLarge: Int) {
        guard !lines.isEmpty else { return ([], [], 0) }
        var joined: [UInt8] = []
        joined.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            joined += line
            joined.append(UInt8(ascii: "\n"))
        }
        let body = try Gzip.compress(joined)
        if body.count <= maxBytes { return ([body], [lines.count], 0) }
        if lines.count == 1 { return ([], [], 1) }
        let half = lines.count / 2
        let first = try files(of: Array(lines[..<half]), maxBytes: maxBytes)
        let second = try files(of: Array(lines[half...]), maxBytes: maxBytes)
        return (first.files + second.files, first.calls + second.calls, first.tooLarge + second.tooLarge)
    }
}
