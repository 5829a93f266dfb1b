import APIMetrics
import APIMetricsWire
import Foundation
import Synchronization
import WireFuzzing

// apimetrics-fuzz [--streams N] [--spool-segments N] [--seed S]
//
// Feeds millions of mutated and random byte streams through wire taps in
// random splits, the events going through the whole pipeline to an exporter
// that checks them. Fails (exit 1) if any exchange was abandoned; a crash or
// a hang is a failure by itself.
//
// Then as many fuzzed client streams answered by a lenient model server
// (the demo's reading of requests): on every stream the server answers, the
// tap must record exactly one call per response. Fails (exit 1) otherwise.
//
// Then reads generated spool segments, whole, torn at a random byte, with
// bytes changed or garbage inserted: every record the damage did not touch
// must be read back as written, and nothing else. Fails (exit 1) otherwise.

final class CheckingExporter: EventExporter {
    let events = Atomic<Int>(0)
    let abandoned = Atomic<Int>(0)

    func export(_ batch: ExportBatch) async throws {
        events.add(batch.records.count, ordering: .relaxed)
        let lost = batch.records.filter { $0.errors.contains { $0.type == "ExchangeAbandoned" } }.count
        abandoned.add(lost, ordering: .relaxed)
    }
}

var streams = 2_000_000
var spoolSegments = 1_000_000
var seed: UInt64 = 0x5EED
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--streams": streams = arguments.popFirst().flatMap(Int.init) ?? streams
    case "--seed": seed = arguments.popFirst().flatMap { UInt64($0) } ?? seed
    case "--spool-segments": spoolSegments = arguments.popFirst().flatMap(Int.init) ?? spoolSegments
    default:
        FileHandle.standardError.write(Data("usage: apimetrics-fuzz [--streams N] [--spool-segments N] [--seed S]\n".utf8))
        exit(2)
    }
}

let exporter = CheckingExporter()
var configuration = APIMetricsConfiguration(service: "apimetrics-fuzz", exporters: [.custom(exporter)])
configuration.eventFilter = .everything
configuration.capture = .init(isBodyCaptureEnabled: true, maxBodyBytes: 256, bodyContentTypes: .all)
configuration.queue = .init(maxEvents: 1_000_000, maxBytes: 1 << 30)
configuration.batching = .init(maxEvents: 5_000, flushInterval: .milliseconds(50))
let metrics = try APIMetricsService(configuration: configuration)
// Detached: the loop below keeps the main thread busy.
let background = Task.detached { try await metrics.run() }

let start = ContinuousClock.now
var generator = SplitMix(seed: seed)
for iteration in 0..<streams {
    let steps = fuzzStream(iteration, using: &generator)
    play(steps, into: WireTap(recorder: metrics.recorder), split: .random(generator.next()))
    // Let the sender keep up, so that every event is checked, none dropped.
    while iteration % 1000 == 0 && metrics.statistics.queued > 500_000 {
        usleep(1000)
    }
    if iteration > 0 && iteration % 500_000 == 0 {
        print("\(iteration) streams, \(metrics.statistics)")
    }
}
// Client bytes answered by the model server: one call per response.
let answeredStart = ContinuousClock.now
var answered = 0, unanswerable = 0, responses = 0, callFailures = 0
for _ in 0..<streams {
    let input = fuzzClientBytes(using: &generator)
    guard let stream = answerAsLenientServer(input, readsAhead: generator.next() % 2 == 0) else {
        unanswerable += 1
        continue
    }
    answered += 1
    responses += stream.responses
    let before = metrics.statistics.recorded
    play(stream.steps, into: WireTap(recorder: metrics.recorder), split: .random(generator.next()))
    let calls = metrics.statistics.recorded - before
    if calls != stream.responses {
        callFailures += 1
        if callFailures <= 5 {
            FileHandle.standardError.write(Data("\(stream.responses) responses, \(calls) calls: \(stream.steps)\n".utf8))
        }
    }
    while answered % 1000 == 0 && metrics.statistics.queued > 500_000 {
        usleep(1000)
    }
}
print(
    "\(answered) answered streams (\(unanswerable) ended mid-request) in \(ContinuousClock.now - answeredStart): "
        + "\(responses) responses, \(callFailures) streams whose calls differ")
let report = await metrics.shutdown(timeout: .seconds(60))
_ = try? await background.value
let elapsed = ContinuousClock.now - start
print(
    "\(streams) streams (seed \(seed)) in \(elapsed): \(exporter.events.load(ordering: .relaxed)) events, "
        + "\(report.statistics.dropped) dropped, \(exporter.abandoned.load(ordering: .relaxed)) abandoned")
let spoolStart = ContinuousClock.now
let spoolFailures = fuzzSpoolSegments(spoolSegments, using: &generator)
print("\(spoolSegments) spool segments in \(ContinuousClock.now - spoolStart): \(spoolFailures) failures")
exit(exporter.abandoned.load(ordering: .relaxed) == 0 && spoolFailures == 0 && callFailures == 0 ? 0 : 1)
