import Foundation
import APIMetrics

// apimetrics-bench [--json PATH] [--quick] [--filter TEXT] [--otlp-sample PATH]
//
// Figures, not pass/fail: median and p99 nanoseconds per operation,
// allocations per operation (counted by interposing malloc), operations per
// second. `--quick` is a smoke run for CI. `--otlp-sample PATH` writes an
// OTLP trace request of sample exchanges to PATH and exits: what
// Tests/EndToEnd/otlp-check.sh decodes with opentelemetry-proto.
// The store.query cases build a store of 1,000,000 calls (20,000 with
// `--quick`) once and keep it under .build/bench-store/;
// APIMETRICS_BENCH_STORE_BATCHES sets the store.write and store.sender-cpu
// cases' batches of 500.

var jsonPath: String?
var quick = false
var filter: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--json": jsonPath = arguments.popFirst()
    case "--quick": quick = true
    case "--filter": filter = arguments.popFirst()
    case "--otlp-sample":
        guard let path = arguments.popFirst() else { exit(2) }
        try Data(OTLPSample.body()).write(to: URL(fileURLWithPath: path))
        try Data(OTLPSample.body(json: true)).write(to: URL(fileURLWithPath: path + ".json"))
        exit(0)
    default:
        FileHandle.standardError.write(
            Data("usage: apimetrics-bench [--json PATH] [--quick] [--filter TEXT] [--otlp-sample PATH]\n".utf8))
        exit(2)
    }
}

let bench = Bench(harness: Harness(samples: quick ? 5 : 100, warmupSamples: quick ? 1 : 5), quick: quick)
let queryStore = QueryStoreCache(quick: quick)
let cases: [(String, () async throws -> CaseResult)] = [
    ("record.nobody", { try bench.recordNoBody() }),
    ("record.body1k", { try bench.recordBody1k() }),
    ("process.nobody", { try bench.processNoBody() }),
    ("aggregate.update", { try bench.aggregateUpdate() }),
    ("aggregate.update.path", { try bench.aggregateUpdate(byPath: true) }),
    ("record.contended.2", { try bench.recordContended(threads: 2) }),
    ("record.contended.8", { try bench.recordContended(threads: 8) }),
    ("discover.json1k", { bench.discoverJSON1k(learning: false) }),
    ("discover.json1k.learning", { bench.discoverJSON1k(learning: true) }),
    ("discover.json1k.spec", { try bench.discoverJSON1kSpec() }),
    ("alerts.evaluate", { bench.alertsEvaluate() }),
    ("redact.json4k", { bench.redactJSON4k() }),
    ("redact.json4k.gzip", { try bench.redactJSON4kGzip() }),
    ("inflate.json4k", { try bench.inflateJSON4k() }),
    ("redact.json4k.textplain", { bench.redactJSON4kAsText() }),
    ("redact.card4k", { bench.redactCard4k(text: false) }),
    ("redact.card4k.text", { bench.redactCard4k(text: true) }),
    ("client.direct", { bench.resolveClientAddress(forwarded: false) }),
    ("client.forwarded", { bench.resolveClientAddress(forwarded: true) }),
    ("encode.event", { bench.encodeEvent() }),
    ("encode.otlp.span", { bench.encodeOTLP("encode.otlp.span", signal: .traces) }),
    ("encode.otlp.span.json", { bench.encodeOTLP("encode.otlp.span.json", signal: .traces, json: true) }),
    ("encode.otlp.log", { bench.encodeOTLP("encode.otlp.log", signal: .logs) }),
    ("export.file", { try await bench.exportFile() }),
    ("export.file.bodies", { try await bench.exportFileWithBodies() }),
    ("export.http", { try await bench.exportHTTP() }),
    ("wire.parse", { try bench.wireParse() }),
    ("wire.parse.shed", { try bench.wireParse(shedding: true) }),
    ("store.write", { try await bench.storeWrite(bodies: false) }),
    ("store.write.body1k", { try await bench.storeWrite(bodies: true) }),
    ("store.sender-cpu", { try await bench.storeSenderCPU() }),
    // The query cases share one store, built on first use and cached under .build/bench-store/.
    ("store.query.bytes", { try await bench.storeBytes(queryStore) }),
    ("store.query.overview.1d", { try await bench.storeOverview(queryStore, days: 1) }),
    ("store.query.overview.30d", { try await bench.storeOverview(queryStore, days: 30) }),
    (
        "store.query.calls.5xx",
        { try await bench.storeCallsPage("store.query.calls.5xx", queryStore, statusClass: 5, consumerRank: 100) }
    ),
    (
        "store.query.calls.4xx",
        { try await bench.storeCallsPage("store.query.calls.4xx", queryStore, statusClass: 4, consumerRank: 0) }
    ),
    ("store.query.endpoints.30d", { try await bench.storeEndpoints(queryStore) }),
    ("store.query.endpoint.30d", { try await bench.storeEndpointLog(queryStore) }),
    ("store.query.call", { try await bench.storeCall(queryStore) }),
]

#if DEBUG
print("note: a debug build; run `swift run -c release apimetrics-bench` for figures worth quoting")
#endif
let header = "case                    ns median     ns p99   allocs/op        ops/s  notes"
print(header)
print(String(repeating: "-", count: header.count + 20))
var results: [CaseResult] = []
let started = Date()
/// A filter ending in `$` names one case exactly; any other is a part of the names.
@MainActor func isChosen(_ name: String) -> Bool {
    guard let filter else { return true }
    return filter.hasSuffix("$") ? name == filter.dropLast() : name.contains(filter)
}

for (name, run) in cases where isChosen(name) {
    let result = try await run()
    results.append(result)
    let notes = result.notes.map { "\($0.0)=\(String(format: "%.1f", $0.1))" }.joined(separator: " ")
    print(
        name.padding(toLength: 22, withPad: " ", startingAt: 0),
        String(
            format: "%11.1f %10.1f %11@ %12.0f", result.nsMedian, result.nsP99,
            result.allocations.map { String(format: "%.2f", $0) } ?? "n/a", result.opsPerSecond),
        notes)
}
print(
    "\(results.count) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s on \(ProcessInfo.processInfo.activeProcessorCount) cores"
)
if let jsonPath {
    let json = "[\n" + results.map { "  " + $0.json }.joined(separator: ",\n") + "\n]\n"
    try json.write(toFile: jsonPath, atomically: true, encoding: .utf8)
    print("wrote \(jsonPath)")
}
