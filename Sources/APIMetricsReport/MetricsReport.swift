public import APIMetrics
import Foundation

/// The per-endpoint (or per-consumer) table of `apimetrics report`, built
/// from the metrics windows (lines of `kind` `metrics`) in NDJSON files.
///
/// Windows add up exactly: calls and errors are summed, latency sketches
/// merged bucket by bucket, so the percentiles are those of every call in
/// the files, within 1%.
public struct MetricsReport: Sendable {
    /// One row per method and route.
    public struct Endpoint: Sendable, Hashable {
        /// The request method.
        public var method: String
        /// The route template.
        public var route: String
        /// Calls.
        public var requests = 0
        /// Calls answered 4xx.
        public var clientErrors = 0
        /// Calls answered 5xx.
        public var serverErrors = 0
        /// Their durations.
        public var latency = LatencySketch()
        /// Request body sizes.
        public var requestSizes = SizeHistogram()
        /// Response body sizes.
        public var responseSizes = SizeHistogram()
    }

    /// The endpoints, busiest first.
    public private(set) var endpoints: [Endpoint] = []
    /// The consumers, most calls first.
    public private(set) var consumers: [ConsumerMetrics] = []
    /// Identified calls with no consumer.
    public private(set) var anonymousRequests: Double = 0
    /// Calls not attributed to a consumer: every call less the consumers'
    /// and the anonymous ones (a window's own figure cannot be summed: the
    /// events of one window may be identified in the next).
    public var unattributedRequests: Double {
        max(0, Double(requests) - excludedRequests - consumers.reduce(anonymousRequests) { $0 + $1.requests })
    }
    /// Calls left out of the logs on purpose by an exclusion (health
    /// checks, probes, the view): counted, never attributed.
    public private(set) var excludedRequests: Double = 0
    /// How many windows were read.
    public private(set) var windowCount = 0
    /// The first window's start and the last one's end, as written.
    public private(set) var span: (start: String, end: String)?
    /// Lines that were not JSON objects, or metrics windows that could not
    /// be read; counted, not fatal.
    public private(set) var malformedLines = 0

    private var endpointIndex: [[String]: Int] = [:]
    private var consumerIndex: [String: Int] = [:]

    /// An empty report.
    public init() {}

    /// Lines that were not JSON objects (counted in ``malformedLines`` too).
    package private(set) var nonObjectLines = 0
    /// Windows left out because they did not end within the range asked for.
    package private(set) var windowsOutsideRange = 0

    /// Adds every metrics window in one file's text.
    public mutating func add(ndjson text: String) {
        add(ndjson: text, endingWithin: nil)
    }

    /// Adds the metrics windows in one file's text that end within `range`
    /// (after its start, up to and including its end); every window when
    /// `range` is `nil`.
    package mutating func add(ndjson text: String, endingWithin range: StoreTimeRange?) {
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                malformedLines += 1
                nonObjectLines += 1
                continue
            }
            guard object["kind"] as? String == "metrics" else { continue }
            if let range {
                // A window whose end cannot be read is counted as unreadable, not guessed.
                guard let end = (object["end"] as? String).flatMap(TimeText.parse) else {
                    malformedLines += 1
                    continue
                }
                guard end > range.from, end <= range.to else {
                    windowsOutsideRange += 1
                    continue
                }
            }
            if !add(window: object) { malformedLines += 1 }
        }
    }

    /// Adds one window; `false` when it cannot be read.
    private mutating func add(window: [String: Any]) -> Bool {
        guard let series = window["series"] as? [[String: Any]] else { return false }
        var parsed: [(key: [String], endpoint: Endpoint)] = []
        for one in series {
            guard let method = one["method"] as? String, let route = one["route"] as? String,
                let requests = one["requests"] as? Int, let latency = one["latency"] as? [String: Any],
                let sketch = Self.sketch(latency)
            else { return false }
            var endpoint = Endpoint(method: method, route: route)
            endpoint.requests = requests
            endpoint.clientErrors = one["client_errors"] as? Int ?? 0
            endpoint.serverErrors = one["server_errors"] as? Int ?? 0
            endpoint.latency = sketch
            endpoint.requestSizes = Self.sizes(one["request_size"]) ?? SizeHistogram()
            endpoint.responseSizes = Self.sizes(one["response_size"]) ?? SizeHistogram()
            parsed.append(([method, route], endpoint))
        }
        for (key, endpoint) in parsed {
            if let index = endpointIndex[key] {
                endpoints[index].requests += endpoint.requests
                endpoints[index].clientErrors += endpoint.clientErrors
                endpoints[index].serverErrors += endpoint.serverErrors
                endpoints[index].latency.merge(endpoint.latency)
                endpoints[index].requestSizes.merge(endpoint.requestSizes)
                endpoints[index].responseSizes.merge(endpoint.responseSizes)
            } else {
                endpointIndex[key] = endpoints.count
                endpoints.append(endpoint)
            }
        }
        for consumer in window["consumers"] as? [[String: Any]] ?? [] {
            guard let id = consumer["id"] as? String else { continue }
            let figures = ConsumerMetrics(
                id: id, name: consumer["name"] as? String, requests: Self.number(consumer["requests"]),
                clientErrors: Self.number(consumer["client_errors"]), serverErrors: Self.number(consumer["server_errors"]))
            if let index = consumerIndex[id] {
                consumers[index].merge(figures)
            } else {
                consumerIndex[id] = consumers.count
                consumers.append(figures)
            }
        }
        anonymousRequests += Self.number(window["anonymous"])
        excludedRequests += Self.number(window["excluded"])
        windowCount += 1
        let start = window["start"] as? String ?? "", end = window["end"] as? String ?? ""
        span = span.map { (min($0.start, start), max($0.end, end)) } ?? (start, end)
        return true
    }

    /// The endpoints busiest first, then by route and method.
    public var sortedEndpoints: [Endpoint] {
        endpoints.sorted {
            $0.requests != $1.requests ? $0.requests > $1.requests : ($0.route, $0.method) < ($1.route, $1.method)
        }
    }

    /// The consumers, most calls first.
    public var sortedConsumers: [ConsumerMetrics] {
        consumers.sorted { $0.requests != $1.requests ? $0.requests > $1.requests : $0.id < $1.id }
    }

    /// Every call in the windows read.
    public var requests: Int { endpoints.reduce(0) { $0 + $1.requests } }

    private static func number(_ value: Any?) -> Double {
        (value as? NSNumber)?.doubleValue ?? 0
    }

    private static func sketch(_ latency: [String: Any]) -> LatencySketch? {
        guard let buckets = latency["buckets"] as? [[Int]], buckets.allSatisfy({ $0.count == 2 && $0[1] > 0 }) else { return nil }
        return LatencySketch(
            bucketIndices: buckets.map { Int32(clamping: $0[0]) }, bucketCounts: buckets.map { UInt64($0[1]) },
            sumNanoseconds: Int64(latency["sum_ns"] as? Int ?? 0), minNanoseconds: Int64(latency["min_ns"] as? Int ?? 0),
            maxNanoseconds: Int64(latency["max_ns"] as? Int ?? 0))
    }

    private static func sizes(_ value: Any?) -> SizeHistogram? {
        guard let object = value as? [String: Any], let counts = object["counts"] as? [Int], counts.allSatisfy({ $0 >= 0 }) else {
            return nil
        }
        return SizeHistogram(counts: counts.map { UInt64($0) }, sumBytes: Int64(object["sum"] as? Int ?? 0))
    }
}
