import Foundation
import Synchronization
@testable import APIMetrics

/// A processed record as an exporter received it, with its schema-v1 line.
struct ExportedEvent {
    var record: ExchangeRecord
    var json: [UInt8]
}

/// A real exporter that keeps every batch, optionally failing on a script.
final class CollectingExporter: EventExporter {
    private let batches = Mutex<[ExportBatch]>([])
    private let failures: @Sendable (Int) -> ExportError?
    private let attempts = Atomic<Int>(0)
    let encodings: ExportEncodings

    init(encodings: ExportEncodings = .schemaV1JSON, failures: @escaping @Sendable (Int) -> ExportError? = { _ in nil }) {
        self.encodings = encodings
        self.failures = failures
    }

    var name: String { "collecting" }

    func export(_ batch: ExportBatch) async throws {
        let attempt = attempts.wrappingAdd(1, ordering: .relaxed).oldValue
        if let failure = failures(attempt) { throw failure }
        batches.withLock { $0.append(batch) }
    }

    var received: [ExportBatch] { batches.withLock { $0 } }
    var events: [ExportedEvent] {
        received.flatMap { batch in
            zip(batch.records, batch.schemaV1Lines.events).map { ExportedEvent(record: $0, json: $1) }
        }
    }
    var attemptCount: Int { attempts.load(ordering: .relaxed) }
}

/// A fresh temporary directory, removed by the caller with `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/apimetrics-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Parses one JSON object, or `nil` when the bytes are not one.
func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// A configuration for tests: fast flushes and retries, the given exporters.
func testConfiguration(_ exporters: [ExporterConfiguration]) -> APIMetricsConfiguration {
    var config = APIMetricsConfiguration(service: "test-service", environment: "test", exporters: exporters)
    config.batching.flushInterval = .milliseconds(20)
    config.retry = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100), jitter: 0.1)
    // Tests run in parallel and keep the cores busy: a sender at a lower
    // priority (the default) could wait out a test's deadline. The default
    // is exercised end to end by Tests/EndToEnd/demo-check.sh, run alone.
    config.senderPriority = .normal
    return config
}

/// Records one simple exchange through the recorder.
func recordExchange(
    _ recorder: Recorder,
    method: String = "GET",
    target: String = "/orders/1",
    headers: HeaderFields = [:],
    status: Int = 200,
    requestBody: [UInt8] = [],
    responseBody: [UInt8] = []
) {
    let exchange = recorder.begin(RequestHead(method: method, target: target, headers: headers))
    exchange.recordRequestBody(requestBody)
    exchange.recordResponseHead(ResponseHead(status: status))
    exchange.recordResponseBody(responseBody)
    exchange.finish()
}

/// A real observer of the recorder's admission point: keeps every call it
/// is shown, with what became of its event.
final class RecordingObserver: CallObserver {
    private let calls = Mutex<[(call: CallSummary, outcome: AdmissionOutcome)]>([])

    func observe(_ call: borrowing CallSummary, outcome: AdmissionOutcome) {
        let copy = copy call
        calls.withLock { $0.append((copy, outcome)) }
    }

    var observed: [(call: CallSummary, outcome: AdmissionOutcome)] { calls.withLock { $0 } }
}

/// A recorder on a queue the test drains itself, with an observer at its
/// admission point.
struct RecorderHarness {
    let queue: EventQueue
    let counters = PipelineCounters()
    let observer = RecordingObserver()
    let recorder: Recorder

    init(bodyLimit: Int = 1024, queueItems: Int = 100_000, filter: EventFilterOptions = .everything) {
        queue = EventQueue(maxItems: queueItems, maxBytes: 1 << 30)
        recorder = Recorder(
            queue: queue, counters: counters, bodyLimit: bodyLimit,
            bodyContentTypes: .all, filter: EventFilter(filter), isEnabled: true, observer: observer)
    }
}
