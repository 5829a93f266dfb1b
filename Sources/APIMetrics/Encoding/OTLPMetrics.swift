import Foundation

/// What one OTLP metrics request carries: the calls' series over a span of
/// time and the pipeline's own counters, already in the temporality asked
/// for (the exporter keeps the running totals a cumulative one needs).
struct OTLPMetricsData: Sendable {
    /// One counter of the pipeline (`apimetrics.events.*`).
    struct Counter: Sendable {
        var name: String
        var description: String
        var attributes: [(key: String, value: String)] = []
        var value: Int64
    }

    var series: [SeriesMetrics]
    var seriesStartNanoseconds: Int64
    var seriesEndNanoseconds: Int64
    var counters: [Counter]
    var countersStartNanoseconds: Int64
    var countersTimeNanoseconds: Int64
    /// Events waiting in the queue when the heartbeat was taken.
    var queued: Int64
    var isCumulative: Bool
}

/// Encodes metrics as an OTLP `ExportMetricsServiceRequest`
/// (opentelemetry-proto `metrics/v1/metrics.proto`): the HTTP server
/// metrics of the semantic conventions from the aggregator's windows, and
/// the pipeline's counters.
///
/// - `http.server.request.duration` (`s`): a histogram per method, route
///   and status, with the recommended boundaries
///   (``PrometheusBuckets/durationSeconds``), or a base-2 exponential
///   histogram rebuilt from the window's latency sketch (scale 6, lowered
///   until at most 160 buckets are needed; each sketch bucket lands in the
///   exponential bucket of its midpoint, within 1.1 % of its durations);
/// - `http.server.request.body.size` and `http.server.response.body.size`
///   (`By`): histograms with ``SizeHistogram/upperBounds``;
/// - `apimetrics.events.{recorded,skipped,dropped,exported,failed,rejected}`
///   (`{event}`, monotonic sums; `dropped` by `apimetrics.drop.reason`) and
///   `apimetrics.queue.size` (a gauge).
struct OTLPMetricsEncoder {
    /// Whether durations go as an exponential histogram.
    var isExponential = false

    /// The largest number of buckets an exponential histogram is given.
    static let maxExponentialBuckets = 160

    func encode(_ data: OTLPMetricsData, resource: OTLPResource) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 512 + 400 * data.series.count)
        write(data, resource: resource, into: &writer)
        return writer.bytes
    }

    func encodeJSON(_ data: OTLPMetricsData, resource: OTLPResource) -> [UInt8] {
        OTLPJSONWriter.document(capacity: 1024 + 1200 * data.series.count) { writer in
            write(data, resource: resource, into: &writer)
        }
    }

    func write<W: OTLPWriter & ~Copyable>(_ data: OTLPMetricsData, resource: OTLPResource, into writer: inout W) {
        resource.writeRequest(.metrics, into: &writer) { metrics in writeMetrics(data, into: &metrics) }
    }

    private func writeMetrics<W: OTLPWriter & ~Copyable>(_ data: OTLPMetricsData, into metrics: inout W) {
        let temporality = data.isCumulative ? 2 : 1  // AGGREGATION_TEMPORALITY_CUMULATIVE, _DELTA
        let start = UInt64(max(0, data.seriesStartNanoseconds))
        let end = UInt64(max(0, data.seriesEndNanoseconds))
        if !data.series.isEmpty {
            metric("http.server.request.duration", "Duration of HTTP server requests.", "s", into: &metrics) { metric in
                if isExponential {
                    metric.message(10, "exponentialHistogram") { histogram in
                        histogram.repeated(1, "dataPoints") { points in
                            for series in data.series {
                                points.element(1) { point in
                                    Self.writeExponential(series, start: start, end: end, into: &point)
                                }
                            }
                        }
                        histogram.enumeration(2, "aggregationTemporality", temporality)
                    }
                } else {
                    histogram(temporality, into: &metric) { points in
                        for series in data.series {
                            let latency = series.latency
                            points.element(1) { point in
                                Self.writeHistogramPoint(
                                    series.key, start: start, end: end, counts: series.durationBuckets,
                                    bounds: PrometheusBuckets.durationSeconds, sum: Double(latency.sumNanoseconds) / 1e9,
                                    extremes: latency.count > 0
                                        ? (Double(latency.minNanoseconds) / 1e9, Double(latency.maxNanoseconds) / 1e9) : nil,
                                    into: &point)
                            }
                        }
                    }
                }
            }
            for (name, description, isRequest) in [
                ("http.server.request.body.size", "Size of HTTP server request bodies.", true),
                ("http.server.response.body.size", "Size of HTTP server response bodies.", false),
            ] {
                metric(name, description, "By", into: &metrics) { metric in
                    histogram(temporality, into: &metric) { points in
                        for series in data.series {
                            let sizes = isRequest ? series.requestSizes : series.responseSizes
                            points.element(1) { point in
                                Self.writeHistogramPoint(
                                    series.key, start: start, end: end, counts: sizes.counts,
                                    bounds: Self.sizeBounds, sum: Double(sizes.sumBytes), extremes: nil, into: &point)
                            }
                        }
                    }
                }
            }
        }
        let counterStart = UInt64(max(0, data.countersStartNanoseconds))
        let counterTime = UInt64(max(0, data.countersTimeNanoseconds))
        var index = 0
        while index < data.counters.count {
            // Counters of one name (dropped, by reason) are one metric.
            let first = data.counters[index]
            var last = index
            while last + 1 < data.counters.count, data.counters[last + 1].name == first.name { last += 1 }
            let points = data.counters[index...last]
            metric(first.name, first.description, "{event}", into: &metrics) { metric in
                metric.message(7, "sum") { sum in
                    sum.repeated(1, "dataPoints") { list in
                        for counter in points {
                            list.element(1) { point in
                                Self.writeNumberPoint(
                                    counter.value, attributes: counter.attributes,
                                    start: counterStart, time: counterTime, into: &point)
                            }
                        }
                    }
                    sum.enumeration(2, "aggregationTemporality", temporality)
                    sum.bool(3, "isMonotonic", true)
                }
            }
            index = last + 1
        }
        metric("apimetrics.queue.size", "Events waiting in the queue.", "{event}", into: &metrics) { metric in
            metric.message(5, "gauge") { gauge in
                gauge.repeated(1, "dataPoints") { list in
                    list.element(1) { point in
                        Self.writeNumberPoint(data.queued, attributes: [], start: 0, time: counterTime, into: &point)
                    }
                }
            }
        }
    }

    private func metric<W: OTLPWriter & ~Copyable>(
        _ name: String, _ description: String, _ unit: String, into metrics: inout W, _ body: (inout W) -> Void
    ) {
        metrics.element(2) { metric in
            metric.string(1, "name", name)
            metric.string(2, "description", description)
            metric.string(3, "unit", unit)
            body(&metric)
        }
    }

    private func histogram<W: OTLPWriter & ~Copyable>(_ temporality: Int, into metric: inout W, _ points: (inout W) -> Void) {
        metric.message(9, "histogram") { histogram in
            histogram.repeated(1, "dataPoints", points)
            histogram.enumeration(2, "aggregationTemporality", temporality)
        }
    }

    static let sizeBounds: [Double] = SizeHistogram.upperBounds.map(Double.init)

    /// A series' attributes: method, route, status and, for a 5xx or no
    /// response, `error.type`.
    static func writeSeriesAttributes<W: OTLPWriter & ~Copyable>(_ key: SeriesKey, field: Int, into point: inout W) {
        let method = OTLPTraceEncoder.knownMethods.contains(key.method) ? key.method : "_OTHER"
        OTLPAttributes.string("http.request.method", method, into: &point, field: field)
        OTLPAttributes.string("http.route", key.route, into: &point, field: field)
        if key.status > 0 { OTLPAttributes.int("http.response.status_code", Int64(key.status), into: &point, field: field) }
        if key.status >= 500 {
            OTLPAttributes.string("error.type", String(key.status), into: &point, field: field)
        } else if key.status <= 0 {
            OTLPAttributes.string("error.type", "_OTHER", into: &point, field: field)
        }
    }

    private static func writeHistogramPoint<W: OTLPWriter & ~Copyable>(
        _ key: SeriesKey, start: UInt64, end: UInt64, counts: [UInt64], bounds: [Double], sum: Double,
        extremes: (min: Double, max: Double)?, into point: inout W
    ) {
        point.repeated(9, "attributes") { list in writeSeriesAttributes(key, field: 9, into: &list) }
        point.fixed64(2, "startTimeUnixNano", start)
        point.fixed64(3, "timeUnixNano", end)
        point.fixed64(4, "count", counts.reduce(0, &+))
        point.double(5, "sum", sum, isPresent: true)
        point.fixed64s(6, "bucketCounts", counts)
        point.doubles(7, "explicitBounds", bounds)
        if let extremes {
            point.double(11, "min", extremes.min, isPresent: true)
            point.double(12, "max", extremes.max, isPresent: true)
        }
    }

    private static func writeNumberPoint<W: OTLPWriter & ~Copyable>(
        _ value: Int64, attributes: [(key: String, value: String)], start: UInt64, time: UInt64, into point: inout W
    ) {
        if !attributes.isEmpty {
            point.repeated(7, "attributes") { list in
                for (key, text) in attributes { OTLPAttributes.string(key, text, into: &list, field: 7) }
            }
        }
        point.fixed64(2, "startTimeUnixNano", start)
        point.fixed64(3, "timeUnixNano", time)
        point.presentSFixed64(6, "asInt", value)
    }

    // MARK: - Exponential histogram

    /// A latency sketch as base-2 exponential buckets: the scale, the index
    /// of the first bucket, the dense counts from it, and the zero count.
    struct ExponentialBuckets: Equatable {
        var scale: Int32
        var offset: Int32
        var counts: [UInt64]
        var zeroCount: UInt64
    }

    /// The exponential bucket (at `scale`) holding `seconds` > 0: the `i`
    /// with `base^i < seconds <= base^(i+1)`, `base = 2^(2^-scale)`.
    static func exponentialIndex(ofSeconds seconds: Double, scale: Int32) -> Int32 {
        let scaled = log2(seconds) * Double(sign: .plus, exponent: Int(scale), significand: 1)
        return Int32((scaled.rounded(.up) - 1).clamped(to: -1e9...1e9))
    }

    static func exponentialBuckets(of sketch: LatencySketch, maxBuckets: Int = maxExponentialBuckets) -> ExponentialBuckets {
        var zeroCount: UInt64 = 0
        var points: [(index: Int32, count: UInt64)] = []
        points.reserveCapacity(sketch.bucketIndices.count)
        var scale: Int32 = 6
        for (bucket, count) in zip(sketch.bucketIndices, sketch.bucketCounts) {
            let (lower, upper) = LatencySketch.bounds(ofIndex: bucket)
            let nanoseconds = upper - lower <= 1 ? Double(lower) : (Double(lower) + Double(upper)) / 2
            if nanoseconds <= 0 {
                zeroCount &+= count
            } else {
                points.append((exponentialIndex(ofSeconds: nanoseconds / 1e9, scale: scale), count))
            }
        }
        guard var low = points.first?.index, var high = points.last?.index else {
            return ExponentialBuckets(scale: scale, offset: 0, counts: [], zeroCount: zeroCount)
        }
        // Lowering the scale by one halves the index (rounding down) and
        // merges pairs of buckets.
        while Int(high) - Int(low) + 1 > maxBuckets, scale > -10 {
            scale -= 1
            low >>= 1
            high >>= 1
        }
        let shift = 6 - scale
        var counts = [UInt64](repeating: 0, count: Int(high - low) + 1)
        for point in points { counts[Int((point.index >> shift) - low)] &+= point.count }
        return ExponentialBuckets(scale: scale, offset: low, counts: counts, zeroCount: zeroCount)
    }

    private static func writeExponential<W: OTLPWriter & ~Copyable>(
        _ series: SeriesMetrics, start: UInt64, end: UInt64, into point: inout W
    ) {
        let latency = series.latency
        let buckets = exponentialBuckets(of: latency)
        point.repeated(1, "attributes") { list in writeSeriesAttributes(series.key, field: 1, into: &list) }
        point.fixed64(2, "startTimeUnixNano", start)
        point.fixed64(3, "timeUnixNano", end)
        point.fixed64(4, "count", latency.count)
        point.double(5, "sum", Double(latency.sumNanoseconds) / 1e9, isPresent: true)
        point.sint32(6, "scale", buckets.scale)
        point.fixed64(7, "zeroCount", buckets.zeroCount)
        if !buckets.counts.isEmpty {
            point.message(8, "positive") { positive in
                positive.sint32(1, "offset", buckets.offset)
                positive.uint64s(2, "bucketCounts", buckets.counts)
            }
        }
        if latency.count > 0 {
            point.double(12, "min", Double(latency.minNanoseconds) / 1e9, isPresent: true)
            point.double(13, "max", Double(latency.maxNanoseconds) / 1e9, isPresent: true)
        }
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
