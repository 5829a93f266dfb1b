import Foundation
import Synchronization
package import APIMetrics
package import APIMetricsTesting

/// A processed record as an exporter received it, with its schema-v1 line.
package struct ExportedEvent {
    package var record: ExchangeRecord
    package var json: [UInt8]
}

extension CollectingExporter {
    /// Every call taken, with its schema-v1 line.
    package var events: [ExportedEvent] {
        received.flatMap { batch in
            zip(batch.records, batch.schemaV1Lines.events).map { ExportedEvent(record: $0, json: $1) }
        }
    }
}

/// A fresh temporary directory, removed by the caller with `remove()`.
package struct TemporaryDirectory {
    package let path: String

    package init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/apimetrics-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    package func file(_ name: String) -> String { "\(path)/\(name)" }

    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
/// ``eventually(timeout:_:)`` for a condition that must await (a stand-in's
/// `received()`, say).
package func eventuallyAsync(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

package func eventually(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Parses one JSON object, or `nil` when the bytes are not one.
package func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// A configuration for tests: fast flushes and retries, the given exporters.
package func testConfiguration(_ exporters: [ExporterConfiguration]) -> APIMetricsConfiguration {
    var config = APIMetricsConfiguration(service: "test-service", environment: "test", exporters: exporters)
    config.batching.flushInterval = .milliseconds(20)
    config.retry = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100), jitter: 0.1)
    // Tests run in parallel and keep the cores busy: a sender at a lower
    // priority (the default) could wait out a test's deadline. The default
    // is exercised end to end by Tests/EndToEnd/demo-check.sh, run alone.
    config.senderPriority = .normal
    // Quiet: a test that reads the diagnostics sets its own.
    config.diagnostics = .silent
    return config
}

/// Records one simple exchange through the recorder.
package func recordExchange(
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
package final class RecordingObserver: CallObserver {
    private let calls = Mutex<[(call: CallSummary, outcome: AdmissionOutcome)]>([])

    package func observe(_ call: borrowing CallSummary, outcome: AdmissionOutcome) {
        let copy = copy call
        calls.withLock { $0.append((copy, outcome)) }
    }

    package init() {}

    package var observed: [(call: CallSummary, outcome: AdmissionOutcome)] { calls.withLock { $0 } }
}

/// A seeded generator (SplitMix64): generated inputs that a failure can name
/// and replay by its seed.
package struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    /// A generator for a test's generated inputs: seeded from
    /// `APIMETRICS_TEST_SEED` (hex) when it is set, to replay a failure,
    /// else from the system's generator; the seed is written to standard
    /// error with the test's name, so that a failing run names it.
    package static func replayable(_ test: String = #function, file: String = #fileID) -> SeededGenerator {
        var given: UInt64?
        if var text = ProcessInfo.processInfo.environment["APIMETRICS_TEST_SEED"] {
            if text.hasPrefix("0x") { text.removeFirst(2) }
            guard let seed = UInt64(text, radix: 16) else {
                preconditionFailure("APIMETRICS_TEST_SEED is not a hex number: \(text)")
            }
            given = seed
        }
        let seed = given ?? UInt64.random(in: 0 ... .max)
        FileHandle.standardError.write(Data("\(file) \(test): APIMETRICS_TEST_SEED=\(String(seed, radix: 16))\n".utf8))
        return SeededGenerator(seed: seed)
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Diagnostics that keep every message's text, for tests that read what
/// the library said.
package final class DiagnosticsCollector: Sendable {
    private let collected = Mutex<[String]>([])

    package init() {}

    /// Diagnostics at warning level and up, into ``messages``.
    package var diagnostics: Diagnostics {
        .custom(minimumLevel: .warning) { message in self.collected.withLock { $0.append(message.text) } }
    }

    package var messages: [String] { collected.withLock { $0 } }
}
