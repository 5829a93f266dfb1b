import Foundation

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
    ///
    /// - Parameters:
    ///   - includesRequestHeaders: logs the request's header fields (already
    ///     redacted); off by default, as in Apitally.
    ///   - includesResponseHeaders: logs the response's header fields; on by
    ///     default.
    ///   - includesQueryParameters: keeps the query in the logged URL; on by
    ///     default.
    ///   - includesRequestBody: logs request bodies of JSON and plain text,
    ///     when bodies are captured; on by default.
    ///   - includesResponseBody: logs response bodies of JSON and plain text,
    ///     when bodies are captured; on by default.
    ///   - maxCallsPerSecond: the most calls logged per second of traffic,
    ///     not negative; the rest are counted in the syncs only. 100 by
    ///     default.
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
    /// The most bytes of failed uploads kept in memory (8 MiB, where the
    /// SDKs' 50 files of up to 1,000,000 bytes each would be ~50 MB on
    /// disk); past it the oldest is given up.
    static let maxPendingBytes = 8 << 20
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
        if [
            "ping", "ready", "live", "robots.txt", "sitemap.xml", "manifest.json", "site.webmanifest",
            "service-worker.js", "sw.js",
        ].contains(last) {
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
        return [
            "healthcheck", "health-check", "health_check", "health check", "microsoft-azure-application-lb",
            "googlehc", "kube-probe",
        ].contains { agent.contains($0) }
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
            last.count >= name.count + ext.count
        else { return false }
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
        /// Its calls that no sync counts (no route template): given up,
        /// they are lost, not merely unlogged.
        var uncounted: Int = 0
    }

    /// The lines as gzip'd files of at most ``maxFileBytes`` compressed
    /// bytes each, halving a file that is over; each file with the indices
    /// of its lines. A line alone over it is returned in `tooLarge`.
    static func files(
        of lines: [[UInt8]], maxBytes: Int = maxFileBytes
    ) throws -> (files: [[UInt8]], lines: [[Int]], tooLarge: [Int]) {
        try files(of: lines, in: lines.indices, maxBytes: maxBytes)
    }

    private static func files(
        of lines: [[UInt8]], in range: Range<Int>, maxBytes: Int
    ) throws -> (files: [[UInt8]], lines: [[Int]], tooLarge: [Int]) {
        guard !range.isEmpty else { return ([], [], []) }
        var joined: [UInt8] = []
        joined.reserveCapacity(lines[range].reduce(0) { $0 + $1.count + 1 })
        for line in lines[range] {
            joined += line
            joined.append(UInt8(ascii: "\n"))
        }
        let body = try Gzip.compress(joined)
        if body.count <= maxBytes { return ([body], [Array(range)], []) }
        if range.count == 1 { return ([], [], [range.lowerBound]) }
        let half = range.lowerBound + range.count / 2
        let first = try files(of: lines, in: range.lowerBound..<half, maxBytes: maxBytes)
        let second = try files(of: lines, in: half..<range.upperBound, maxBytes: maxBytes)
        return (first.files + second.files, first.lines + second.lines, first.tooLarge + second.tooLarge)
    }

    /// Takes the oldest files off `pending` until at most `maxCount` of
    /// them and `maxBytes` wait, the newest always kept; returns those taken.
    static func trim(_ pending: inout [PendingFile], maxCount: Int, maxBytes: Int) -> [PendingFile] {
        ApitallyExporter.trimOldest(&pending, maxCount: maxCount, maxBytes: maxBytes) { $0.body.count }
    }

    /// The longest pause a 402's `Retry-After` sets: a day. A longer value
    /// (or one too long for an integer) is read as a day; the next 402
    /// pauses again.
    static let maxPauseSeconds: Int64 = 24 * 60 * 60

    /// The pause in nanoseconds a 402's `Retry-After` asks for, as the SDKs
    /// read it (whole seconds), at most ``maxPauseSeconds``; `nil` when it
    /// asks for none or is not a number.
    static func pauseNanoseconds(retryAfter value: String?) -> Int64? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        // Digits only: a value Int64 cannot hold is longer than any bound.
        let seconds = min(Int64(text) ?? .max, maxPauseSeconds)
        return seconds > 0 ? seconds * 1_000_000_000 : nil
    }
}
