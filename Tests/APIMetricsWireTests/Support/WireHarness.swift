import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics
@testable import APIMetricsWire

/// A recorder whose queue the test drains itself.
struct WireHarness {
    let queue: EventQueue
    let counters = PipelineCounters()
    let observer = RecordingObserver()
    let recorder: Recorder

    init(bodyLimit: Int = 1024, queueItems: Int = 100_000) {
        queue = EventQueue(maxItems: queueItems, maxBytes: 1 << 30)
        recorder = Recorder(
            queue: queue, counters: counters, bodyLimit: bodyLimit,
            bodyContentTypes: .all, filter: EventFilter(.everything), isEnabled: true, observer: observer)
    }

    /// What the metrics saw of each call since `start`, without durations
    /// (which differ from run to run), in a stable order.
    func summaries(from start: Int = 0) -> [String] {
        observer.observed.dropFirst(start).map { entry in
            let call = entry.call
            return "\(call.method) \(call.route ?? "-") \(call.status) req=\(call.requestBodyBytes) res=\(call.responseBodyBytes)"
        }.sorted()
    }

    /// Plays the steps through a fresh tap and returns one line per
    /// recorded exchange.
    func play(_ steps: [WireStep], split: WireSplit, limits: WireTap.Limits = .default) -> [String] {
        let tap = WireTap(recorder: recorder, clientAddress: "127.0.0.1", limits: limits)
        WireFuzzing.play(steps, into: tap, split: split)
        return queue.drain(limit: .max).compactMap { item in item.record.map(Self.summary) }
    }

    static func summary(_ record: ExchangeRecord) -> String {
        var line = "\(record.request.method) \(record.request.target) → \(record.response.map { String($0.status) } ?? "none")"
        line += " req=\(record.requestBody.size)"
        if !record.requestBody.bytes.isEmpty { line += ":\(String(decoding: record.requestBody.bytes, as: UTF8.self))" }
        line += " res=\(record.responseBody.size)"
        if !record.responseBody.bytes.isEmpty { line += ":\(String(decoding: record.responseBody.bytes, as: UTF8.self))" }
        if let switched = record.metadata["connection"] { line += " \(switched)" }
        if let wire = record.metadata["wire"] { line += " wire=\(wire)" }
        for error in record.errors { line += " !\(error.type)" }
        return line
    }
}
