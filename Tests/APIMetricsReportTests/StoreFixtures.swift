@testable import APIMetrics
import APIMetricsReport
import APIMetricsTestSupport
import Foundation
import Testing

/// One call a fixture writes: into the log and into its window's metrics.
struct FixtureCall {
    var method = "GET"
    var route = "/orders/{id}"
    var path = "/orders/1"
    var status = 200
    var durationNanoseconds: Int64 = 1_000_000
    var consumer: String?
    /// Nanoseconds since the epoch.
    var time: Int64
}

/// Writes windows and calls through the store's real writer, at the times
/// the calls say (a service run writes at the time of the run only).
func writeStore(_ path: String, instance: String = "i", windows: [(start: Int64, calls: [FixtureCall])]) async throws {
    let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
    let identity = ServiceIdentity(service: "s", environment: "e", instanceID: instance)
    var serial: UInt64 = 0
    for (start, calls) in windows {
        let records = calls.map { call in
            serial += 1
            return ExchangeRecord(
                id: EventID(high: 7, low: serial), direction: .incoming,
                startTimeNanoseconds: call.time, durationNanoseconds: call.durationNanoseconds,
                request: RequestHead(method: call.method, target: call.path, route: call.route),
                response: ResponseHead(status: call.status), consumer: call.consumer.map { Consumer(id: $0) })
        }
        try await writer.export(
            ExportBatch(
                identity: identity, records: records, sentAtNanoseconds: start, metrics: metricsWindow(start: start, calls)))
    }
    await writer.shutdown()
}

/// The window the aggregator would cut of `calls`: a series per method,
/// route and status with its sketch, a row per consumer.
func metricsWindow(start: Int64, _ calls: [FixtureCall]) -> MetricsWindow {
    var series: [SeriesKey: SeriesMetrics] = [:]
    var consumers: [String: ConsumerMetrics] = [:]
    var anonymous: Double = 0
    for call in calls {
        let key = SeriesKey(method: call.method, route: call.route, status: call.status)
        var figures = series[key] ?? SeriesMetrics(key: key)
        figures.requests += 1
        if (400..<500).contains(call.status) { figures.clientErrors += 1 }
        if call.status >= 500 { figures.serverErrors += 1 }
        figures.latency.add(nanoseconds: call.durationNanoseconds)
        series[key] = figures
        if let id = call.consumer {
            var consumer = consumers[id] ?? ConsumerMetrics(id: id)
            consumer.requests += 1
            if (400..<500).contains(call.status) { consumer.clientErrors += 1 }
            if call.status >= 500 { consumer.serverErrors += 1 }
            consumers[id] = consumer
        } else {
            anonymous += 1
        }
    }
    return MetricsWindow(
        startNanoseconds: start, endNanoseconds: start + 60_000_000_000, series: Array(series.values),
        consumers: Array(consumers.values), anonymousRequests: anonymous)
}

/// Records `count` calls through a running service into the store at
/// `path` (the pattern of the library's store tests): consumers acme and
/// globex, some 404s and 500s, two methods on one route.
@discardableResult
func recordThroughService(
    _ path: String, count: Int, offset: Int = 0
) async throws -> (calls: Int, clientErrors: Int, serverErrors: Int) {
    var config = testConfiguration([.store(StoreOptions(path: path))])
    config.identifyConsumer = .header("x-customer-id")
    config.metrics.interval = .seconds(1)
    let metrics = try APIMetricsService(configuration: config)
    let runner = Task { try await metrics.run() }
    var clientErrors = 0, serverErrors = 0
    for n in offset..<(offset + count) {
        let status = n % 10 == 0 ? 500 : (n % 7 == 0 ? 404 : 200)
        if status == 404 { clientErrors += 1 }
        if status == 500 { serverErrors += 1 }
        let headers: HeaderFields = ["x-customer-id": n % 3 == 0 ? "acme" : "globex"]
        let exchange = metrics.recorder.begin(
            RequestHead(
                method: n % 4 == 0 ? "POST" : "GET", target: "/orders/\(n)", headers: headers, route: "/orders/{id}"))
        exchange.recordResponseHead(ResponseHead(status: status))
        exchange.recordResponseBody(Array(#"{"id":\#(n)}"#.utf8))
        exchange.finish()
    }
    // A loaded machine (the whole suite in parallel) can take long: the
    // calls are committed before the shutdown, which writes the last window.
    #expect(await eventually(timeout: .seconds(120)) { metrics.statistics.exported == count }, "\(metrics.statistics)")
    let report = await metrics.shutdown(timeout: .seconds(120))
    try await runner.value
    #expect(metrics.statistics.failed == 0 && report.statistics.exported == count, "\(report.statistics)")
    // Every call is in the store's metrics before the command reads them.
    let totals = try StoreReader(path: path).totals(StoreTimeRange(from: 0, to: CaptureClock.wallNanoseconds() + 60_000_000_000))
    #expect(totals.requests == count, "the store holds \(totals.requests) calls of \(count)")
    return (count, clientErrors, serverErrors)
}

/// Runs the command in-process at `now`.
func apimetrics(
    _ arguments: String..., now: Int64 = CaptureClock.wallNanoseconds() + 1_000_000_000, terminal: Bool = false
) -> APIMetricsCommand.Outcome {
    APIMetricsCommand.run(arguments, now: now, outputIsTerminal: terminal)
}

func apimetrics(
    _ arguments: [String], now: Int64 = CaptureClock.wallNanoseconds() + 1_000_000_000, terminal: Bool = false
) -> APIMetricsCommand.Outcome {
    APIMetricsCommand.run(arguments, now: now, outputIsTerminal: terminal)
}

/// The rows Python's csv module reads from `text` (a real CSV reader, not
/// this package's).
func pythonCSV(_ text: String) throws -> [[String]] {
    let script = """
        import csv, io, json, sys
        rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")))
        sys.stdout.write(json.dumps(rows))
        """
    let output = try runProcess("/usr/bin/env", ["python3", "-c", script], input: Data(text.utf8))
    #expect(output.status == 0, "\(String(decoding: output.error, as: UTF8.self))")
    return try #require(try JSONSerialization.jsonObject(with: output.output) as? [[String]])
}

/// Runs a program to its end; its status, output and error output.
func runProcess(
    _ executable: String, _ arguments: [String], input: Data = Data()
) throws -> (status: Int32, output: Data, error: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // Read both outputs while writing, so that neither pipe fills.
    let group = DispatchGroup()
    nonisolated(unsafe) var output = Data(), error = Data()
    DispatchQueue.global().async(group: group) { output = stdout.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { error = stderr.fileHandleForReading.readDataToEndOfFile() }
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, output, error)
}

/// Parses JSON text, failing the test when it is not JSON.
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
