import APIMetrics
import Foundation
import Synchronization

// The local store's budgets (issue 27): calls written per second on one
// core, the CPU the store adds per call, and the dashboard's queries over
// a store of a month.

/// SplitMix64: the same traffic on every run, so that stores and figures
/// compare.
struct SplitMix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// In `[0, 1)`.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A standard normal value (Box–Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 1e-12), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// An index in `0..<count`, small ones far more often (a few big
    /// customers, a long tail).
    mutating func skewed(_ count: Int) -> Int { min(count - 1, Int(pow(unit(), 2.5) * Double(count))) }
}

/// The calls and windows the store cases write: what the sender hands the
/// store after identification and redaction.
enum StoreTraffic {
    static let statuses = [200, 201, 400, 404, 500]
    static let identity = ServiceIdentity(service: "orders-api", environment: "prod", version: "1.4.2", instanceID: "host-1")
    static let resources = [
        "orders", "customers", "invoices", "products", "carts", "payments", "shipments", "refunds",
        "users", "sessions", "webhooks", "reports", "coupons", "reviews", "stock", "prices",
    ]

    /// `count` endpoints: method, route, and the target a call sends.
    static func endpoints(_ count: Int) -> [(method: String, route: String, target: (Int) -> String)] {
        (0..<count).map { index in
            let resource = resources[index % resources.count]
            let version = "v\(index / resources.count + 1)"
            switch index % 3 {
            case 0:
                return (
                    "GET", "/\(version)/\(resource)/{id}", { "/\(version)/\(resource)/\($0)?expand=items&fields=id,status,total" }
                )
            case 1:
                return (
                    "GET", "/\(version)/\(resource)", { "/\(version)/\(resource)?page=\($0 % 40 + 1)&limit=50&sort=-created" }
                )
            default: return ("POST", "/\(version)/\(resource)", { _ in "/\(version)/\(resource)?idempotency=1" })
            }
        }
    }

    static func consumerID(_ index: Int) -> String { "cust-\(String(index + 10_000, radix: 36))" }

    /// A processed call: eight request headers as redaction left them, a
    /// consumer (one in ten anonymous), a mostly-2xx status, a log-normal
    /// duration, and with `body` 1 KiB of JSON each way.
    static func record(
        time: Int64, endpoints: [(method: String, route: String, target: (Int) -> String)], consumers: Int,
        body: [UInt8]?, random: inout SplitMix
    ) -> ExchangeRecord {
        let endpointIndex = random.skewed(endpoints.count)
        let endpoint = endpoints[endpointIndex]
        let roll = random.below(1000)
        let status = roll < 20 ? 500 : roll < 80 ? 404 : roll < 120 ? 400 : endpoint.method == "POST" ? 201 : 200
        let requestID = String(random.next(), radix: 16)
        let headers = HeaderFields([
            .init(name: "Host", value: "api.example.com"),
            .init(name: "User-Agent", value: random.below(2) == 0 ? "python-requests/2.31.0" : "okhttp/4.12.0"),
            .init(name: "Accept", value: "application/json"),
            .init(name: "Accept-Encoding", value: "gzip, deflate, br"),
            .init(name: "Authorization", value: "[REDACTED]"),
            .init(name: "X-API-Key", value: "[REDACTED]"),
            .init(name: "X-Request-ID", value: requestID),
            .init(name: "Content-Type", value: "application/json"),
        ])
        let responseHeaders = HeaderFields([
            .init(name: "Content-Type", value: "application/json"),
            .init(name: "Content-Length", value: String(body?.count ?? 1_024)),
        ])
        let milliseconds = (4.0 + Double(endpointIndex % 7) * 9) * exp(0.7 * random.normal())
        let consumerRoll = random.below(10)
        let traceHigh = random.next(), traceLow = random.next()
        return ExchangeRecord(
            id: EventID(high: UInt64(time / 1_000_000) << 16 | (random.next() & 0xFFFF), low: random.next()),
            direction: .incoming,
            startTimeNanoseconds: time, durationNanoseconds: Int64(milliseconds * 1_000_000),
            request: RequestHead(
                method: endpoint.method, target: endpoint.target(random.below(100_000)), headers: headers,
                route: endpoint.route, clientAddress: "203.0.113.\(random.below(250) + 1)"),
            requestBody: body.map { CapturedBody(bytes: $0, size: $0.count) }
                ?? CapturedBody(size: endpoint.method == "POST" ? 312 : 0),
            response: ResponseHead(status: status, headers: responseHeaders),
            responseBody: body.map { CapturedBody(bytes: $0, size: $0.count) } ?? CapturedBody(size: 200 + random.below(4_000)),
            consumer: consumerRoll == 0 ? nil : Consumer(id: consumerID(random.skewed(consumers))),
            traceID: String(format: "%016llx%016llx", traceHigh, traceLow))
    }

    /// `count` batches of `size` calls starting at `time`, 20 µs apart.
    static func batches(count: Int, size: Int, time: Int64, body: [UInt8]?, seed: UInt64) -> [[ExchangeRecord]] {
        var random = SplitMix(state: seed)
        let endpoints = endpoints(40)
        var clock = time
        return (0..<count).map { _ in
            (0..<size).map { _ in
                clock += 20_000
                return record(time: clock, endpoints: endpoints, consumers: 500, body: body, random: &random)
            }
        }
    }

    /// A template batch again, as new calls: later times and fresh ids
    /// (so that the time index grows at its end, as in a real store).
    static func batch(_ template: [ExchangeRecord], shift: Int64, serial: UInt64) -> ExportBatch {
        var records = template
        for index in records.indices {
            records[index].startTimeNanoseconds += shift
            // As the recorder makes them: the start's milliseconds, then mixed bits.
            records[index].id.high = UInt64(records[index].startTimeNanoseconds / 1_000_000) << 16 | (serial & 0xFFFF)
            records[index].id.low = serial &* 1_000 &+ UInt64(index)
        }
        return ExportBatch(identity: identity, records: records, sentAtNanoseconds: records.last?.startTimeNanoseconds ?? 0)
    }
}

/// A fresh directory of this user's alone (the store refuses others).
func makeStoreDirectory(_ path: String? = nil) throws -> String {
    let directory =
        path ?? FileManager.default.temporaryDirectory.appendingPathComponent("apimetrics-bench-store-\(getpid())").path
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return directory
}

extension Bench {
    /// `store.write`: batches of 500 processed calls handed over one after
    /// the other, as the sender does, then a flush; the figure is the
    /// process's CPU per call (the writer works on its own queue; the
    /// benchmark's thread only hands over), and calls per second on the
    /// clock. The per-call distribution is the hand-over's: it includes the
    /// waits for a commit when too many calls wait.
    func storeWrite(bodies: Bool) async throws -> CaseResult {
        let name = bodies ? "store.write.body1k" : "store.write"
        let directory = try makeStoreDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try BenchmarkHooks.StoreHandle(
            options: StoreOptions(path: directory + "/apimetrics.sqlite", maxBytes: 64 << 30, retentionDays: 3_650),
            metricsInterval: .seconds(60))
        let body = bodies ? Fixtures.json(size: 1_024) : nil
        let templates = StoreTraffic.batches(
            count: 16, size: 500, time: Self.wallNanoseconds() - 3_600_000_000_000, body: body, seed: 27)
        let span = Int64(16 * 500 * 20_000)
        let batches = Self.storeBatches(default: quick ? 20 : (bodies ? 200 : 600))
        // The first batches open the file and run retention's first pass.
        for warmup in 0..<4 { try await store.export(StoreTraffic.batch(templates[warmup], shift: 0, serial: UInt64(warmup))) }
        await store.flush()
        let writerBefore = store.counts.commitCPUNanoseconds
        var nanos: [Double] = []
        let allocationsBefore = Harness.allocationCount()
        let cpuStart = Self.processCPUNanoseconds()
        let systemStart = Self.systemCPUNanoseconds()
        let start = Harness.now()
        for index in 0..<batches {
            let batch = StoreTraffic.batch(templates[index % 16], shift: span * Int64(index / 16 + 1), serial: UInt64(index + 16))
            let begin = Harness.now()
            try await store.export(batch)
            nanos.append(Double(Harness.now() - begin) / 500)
        }
        await store.flush()
        let wall = Harness.now() - start
        let cpu = Self.processCPUNanoseconds() - cpuStart
        let system = Self.systemCPUNanoseconds() - systemStart
        let allocationsAfter = Harness.allocationCount()
        let pages = await store.integer("PRAGMA page_count") ?? 0
        let pageSize = await store.integer("PRAGMA page_size") ?? 0
        let calls = (await store.integer("SELECT sum(count) FROM call_blocks")).map(Double.init) ?? .nan
        await store.close()
        let counts = store.counts
        precondition(counts.dropped == 0, "\(name): \(counts.dropped) calls dropped")
        let commits = counts.commits
        let measured = Double(batches * 500)
        var result = Harness.reduce(name, nanos, [])
        result.opsPerSecond = measured / (Double(wall) / 1e9)
        if let before = allocationsBefore, let after = allocationsAfter { result.allocations = Double(after - before) / measured }
        let cpuMicros = Double(cpu) / measured / 1_000
        let writerMicros = Double(counts.commitCPUNanoseconds - writerBefore) / measured / 1_000
        result.notes = [
            ("cpu_us_per_call", cpuMicros), ("sys_us_per_call", Double(system) / measured / 1_000),
            ("writer_us_per_call", writerMicros), ("calls_per_s_one_core", 1e6 / writerMicros),
            ("bytes_per_call", Double(pages * pageSize) / calls),
            ("calls_per_commit", Double(counts.written) / Double(max(1, commits))),
        ]
        return result
    }

    /// `store.sender-cpu`: the same batches through an exporter that does
    /// nothing and through the store, alternately (A B A B), each run
    /// ending with a flush; the process's CPU per call of each run, split
    /// into the writer's commits (its queue's thread CPU, measured around
    /// each commit) and the rest, the sender's side: what the store adds
    /// there is the figure.
    func storeSenderCPU() async throws -> CaseResult {
        let directory = try makeStoreDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try BenchmarkHooks.StoreHandle(
            options: StoreOptions(path: directory + "/apimetrics.sqlite", maxBytes: 64 << 30, retentionDays: 3_650),
            metricsInterval: .seconds(60))
        let discard = DiscardingExporter()
        let templates = StoreTraffic.batches(
            count: 16, size: 500, time: Self.wallNanoseconds() - 3_600_000_000_000, body: nil, seed: 28)
        let span = Int64(16 * 500 * 20_000)
        let batches = Self.storeBatches(default: quick ? 16 : 240)
        for warmup in 0..<4 { try await store.export(StoreTraffic.batch(templates[warmup], shift: 0, serial: UInt64(warmup))) }
        await store.flush()
        var serial = 16
        func run(_ exporter: any EventExporter) async throws -> (total: Double, writer: Double) {
            let cpuStart = Self.processCPUNanoseconds()
            let writerStart = store.counts.commitCPUNanoseconds
            for index in 0..<batches {
                serial += 1
                try await exporter.export(
                    StoreTraffic.batch(templates[index % 16], shift: span * Int64(serial / 16 + 1), serial: UInt64(serial)))
            }
            await store.flush()
            let calls = Double(batches * 500)
            return (
                Double(Self.processCPUNanoseconds() - cpuStart) / calls / 1_000,
                Double(store.counts.commitCPUNanoseconds - writerStart) / calls / 1_000
            )
        }
        var runs: [(String, Double)] = []
        var noop = 0.0, sender = 0.0, writer = 0.0
        for round in 1...2 {
            let idle = try await run(discard)
            let stored = try await run(store.exporter)
            noop += idle.total / 2
            sender += (stored.total - stored.writer) / 2
            writer += stored.writer / 2
            runs += [
                ("noop_us_\(round)", idle.total), ("store_us_\(round)", stored.total),
                ("store_writer_us_\(round)", stored.writer),
            ]
        }
        await store.close()
        precondition(store.counts.dropped == 0, "store.sender-cpu: calls dropped")
        var result = CaseResult(
            name: "store.sender-cpu", nsMedian: (sender - noop) * 1_000, nsP99: .nan, allocations: nil,
            opsPerSecond: 1e6 / (sender + writer))
        result.notes = runs + [("sender_added_us_per_call", sender - noop), ("writer_us_per_call", writer)]
        return result
    }

    /// Batches of 500 per run; `APIMETRICS_BENCH_STORE_BATCHES` overrides
    /// the default (for profiling a shorter or longer run).
    static func storeBatches(default count: Int) -> Int {
        ProcessInfo.processInfo.environment["APIMETRICS_BENCH_STORE_BATCHES"].flatMap { Int($0) }.map { max(1, $0) } ?? count
    }

    /// The kernel's share of the process's CPU time, every thread.
    static func systemCPUNanoseconds() -> Int64 {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int64(usage.ru_stime.tv_sec) * 1_000_000_000 + Int64(usage.ru_stime.tv_usec) * 1_000
    }

    static func wallNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
