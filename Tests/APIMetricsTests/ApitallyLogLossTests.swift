import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What happens to Apitally request-log files the hub does not take: a
/// hostile `Retry-After` on a 402, calls that are in no sync when their file
/// is given up, the in-memory bound on files waiting, and the instance
/// slot's age.
@Suite("Apitally log loss")
struct ApitallyLogLossTests {
    static let clientID = "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f"

    private func exporter(_ hub: TestCollector, maxPendingLogBytes: Int? = nil) throws -> ApitallyExporter {
        var options = ApitallyExporter.Options(
            clientID: Self.clientID, environment: "prod", baseURL: hub.baseURL, isRequestLoggingEnabled: true)
        if let maxPendingLogBytes { options.maxPendingLogBytes = maxPendingLogBytes }
        return try ApitallyExporter(options: options, instanceID: "log-loss-tests")
    }

    private func record(
        _ n: Int, target: String = "/orders/7", route: String? = "/orders/{id}", body: [UInt8] = [],
        startSeconds: Int64 = 1_700_000_000
    ) -> ExchangeRecord {
        var headers: HeaderFields = ["Host": "api.example.com"]
        if !body.isEmpty { headers.append(name: "Content-Type", value: "application/json") }
        return ExchangeRecord(
            id: EventID(high: 9, low: UInt64(n + 1)), direction: .incoming,
            startTimeNanoseconds: startSeconds * 1_000_000_000 + Int64(n), durationNanoseconds: 5_000_000,
            request: RequestHead(method: "GET", target: target, headers: headers, route: route),
            requestBody: body.isEmpty ? .empty : CapturedBody(bytes: body, size: body.count),
            response: ResponseHead(status: route == nil ? 404 : 200))
    }

    /// A batch whose reports (left out, lost) land in `reports`.
    private func batch(_ records: [ExchangeRecord], _ reports: LockedValue<[ExportReport]>) -> ExportBatch {
        let identity = ServiceIdentity(service: "s", environment: "prod")
        return ExportBatch(
            identity: identity, records: records, entities: [], dropped: 0, sentAtNanoseconds: 0,
            encodings: BatchEncodings(identity: identity, records: records, entities: [], schemaV1: nil),
            reportSink: { report in reports.withLock { $0.append(report) } })
    }

    private func lost(_ reports: LockedValue<[ExportReport]>) -> Int {
        reports.withLock { $0.reduce(0) { if case let .lost(count, _) = $1 { $0 + count } else { $0 } } }
    }

    private func leftOut(_ reports: LockedValue<[ExportReport]>) -> Int {
        reports.withLock { $0.reduce(0) { if case let .leftOut(count) = $1 { $0 + count } else { $0 } } }
    }

    /// Random hex digits: gzip cannot shrink them below half (any digits
    /// do; a fixed seed per length, nothing to replay).
    private func hex(_ characters: Int) -> [UInt8] {
        var generator = SeededGenerator(seed: 0xA11E ^ UInt64(characters))
        let digits = Array("0123456789abcdef".utf8)
        return (0..<characters).map { _ in digits[Int(generator.next() & 15)] }
    }

    /// A JSON body of random hex digits.
    private func hexBody(_ characters: Int) -> [UInt8] {
        Array(#"{"k":""#.utf8) + hex(characters) + Array(#""}"#.utf8)
    }

    /// `Retry-After` past what Int64 nanoseconds hold (and past what an
    /// integer holds) pauses the log for a day instead of aborting the
    /// process, and clears what waited.
    @Test(arguments: ["10000000000", "99999999999999999999"])
    func aHugeRetryAfterOnA402PausesTheLogADay(value: String) async throws {
        let hub = try TestCollector(answering: { _, request, _ in
            request.contains("/log?") ? .status(402, headers: [("Retry-After", value)]) : .status(202)
        })
        defer { hub.stop() }
        let apitally = try exporter(hub)
        let reports = LockedValue<[ExportReport]>([])
        let before = CaptureClock.monotonicNanoseconds()
        try await apitally.export(batch([record(1)], reports))
        let (until, waiting) = apitally.state.withLock { ($0.logSuspendedUntil, $0.pendingLogs.count) }
        let pause = try #require(until, "the 402 pauses the log") - before
        #expect(pause > 23 * 3_600_000_000_000 && pause <= ApitallyRequestLog.maxPauseSeconds * 1_000_000_000 + 60_000_000_000)
        #expect(waiting == 0, "what waited is given up, as the SDKs clear it")
        try await apitally.export(batch([record(2, startSeconds: 1_700_000_005)], reports))
        await apitally.shutdown()
        #expect(hub.requests.filter { $0.target.contains("/log?") }.count == 1, "nothing more is uploaded during the pause")
        #expect(
            ApitallyRequestLog.pauseNanoseconds(retryAfter: "0") == nil
                && ApitallyRequestLog.pauseNanoseconds(retryAfter: "-5") == nil)
        #expect(ApitallyRequestLog.pauseNanoseconds(retryAfter: " 30 ") == 30_000_000_000)
    }

    /// A 404 scan is in no sync; written to the log, it is counted as
    /// delivered. When the hub refuses its file (422), it is lost, and the
    /// statistics say so; the routed call is still in the sync.
    @Test func scansInALogFileTheHubRefusesAreCountedLost() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.contains("/log?") ? .status(422) : .status(202) })
        defer { hub.stop() }
        var config = testConfiguration([
            .apitally(
                ApitallyExporter.Options(
                    clientID: Self.clientID, environment: "prod", baseURL: hub.baseURL, isRequestLoggingEnabled: true))
        ])
        config.instanceID = "log-loss-tests"
        let metrics = try APIMetricsService(configuration: config)
        for (target, route) in [("/orders/7", "/orders/{id}"), ("/wp-login.php", nil), ("/.env", nil)] as [(String, String?)] {
            let exchange = metrics.recorder.begin(
                RequestHead(method: "GET", target: target, headers: ["Host": "h"], route: route))
            exchange.recordResponseHead(ResponseHead(status: route == nil ? 404 : 200))
            exchange.finish()
        }
        await metrics.shutdown(timeout: .seconds(30))
        #expect(hub.requests.contains { $0.target.contains("/log?") }, "the log was offered and refused")
        let counted = hub.requests.filter { $0.target.hasSuffix("/sync") }.compactMap { jsonObject($0.body) }
            .flatMap { ($0["requests"] as? [[String: Any]]) ?? [] }.reduce(0) { $0 + ($1["request_count"] as? Int ?? 0) }
        #expect(counted == 1)
        #expect(metrics.statistics.failed == 2, "the two scans reached Apitally nowhere")
    }

    /// A line alone over the 1,000,000-byte upload is written nowhere: an
    /// unrouted call of that kind is left out and counted, not taken for logged.
    @Test func aLineTooLargeForAnUploadIsNotTakenForLogged() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let apitally = try exporter(hub)
        let reports = LockedValue<[ExportReport]>([])
        let query = String(decoding: hex(3_000_000), as: UTF8.self)
        try await apitally.export(
            batch([record(1, target: "/scan?q=" + query, route: nil), record(2, target: "/wp-login.php", route: nil)], reports))
        await apitally.shutdown()
        #expect(leftOut(reports) == 1, "the oversized scan is neither counted nor logged")
        #expect(lost(reports) == 0)
        let uploads = hub.requests.filter { $0.target.contains("/log?") }
        #expect(uploads.count == 1 && uploads.allSatisfy { $0.rawBody.count <= ApitallyRequestLog.maxFileBytes })
        let (files, lines, tooLarge) = try ApitallyRequestLog.files(of: [[1], hex(4_000), [2], [3]], maxBytes: 1_000)
        #expect(tooLarge == [1] && lines == [[0], [2, 3]] && files.count == 2)
    }

    /// Files waiting are bounded in bytes as well as in number; the oldest
    /// go first, and their unrouted calls are counted lost.
    @Test func filesWaitingAreBoundedInBytes() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.contains("/log?") ? .status(503) : .status(202) })
        defer { hub.stop() }
        let apitally = try exporter(hub, maxPendingLogBytes: 30_000)
        let reports = LockedValue<[ExportReport]>([])
        for n in 0..<5 {
            try await apitally.export(
                batch(
                    [record(n, target: "/scan", route: nil, body: hexBody(24_000), startSeconds: 1_700_000_000 + Int64(n))],
                    reports))
        }
        let bytes = apitally.state.withLock { $0.pendingLogs.reduce(0) { $0 + $1.body.count } }
        let waiting = apitally.state.withLock { $0.pendingLogs.count }
        #expect(bytes <= 30_000 && waiting >= 1 && waiting < 5)
        #expect(lost(reports) == 5 - waiting, "each unrouted call given up is counted lost")
        #expect(
            ApitallyRequestLog.maxPendingBytes == 8 << 20
                && ApitallyExporter.Options(clientID: Self.clientID, environment: "prod").maxPendingLogBytes == 8 << 20)
        await apitally.shutdown()
        #expect(lost(reports) == 5, "what still waits at shutdown is lost too, told through the last batch's sink")
    }

    /// A kept slot's UUID is never written again, so its age must come from
    /// use: a slot taken again nearly a day after its UUID was made keeps it
    /// and is refreshed, and a live exporter refreshes its slot at each sync,
    /// so that the next restart keeps the UUID too.
    @Test func aSlotIsRefreshedWhenTakenAndAtEachSync() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apitally")
        var options = ApitallyExporter.Options(clientID: Self.clientID, environment: "prod", baseURL: "http://127.0.0.1:9")
        options.instanceDirectory = path
        var first: ApitallyExporter? = try ApitallyExporter(options: options)
        let kept = try #require(first?.instance)
        first = nil
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: path).first { $0.hasPrefix("instance_") })
        func age(by seconds: Int) -> Bool {
            let then = time(nil) - seconds
            var times = [timespec(tv_sec: then, tv_nsec: 0), timespec(tv_sec: then, tv_nsec: 0)]
            return utimensat(AT_FDCWD, "\(path)/\(name)", &times, 0) == 0
        }
        func isFresh() throws -> Bool {
            let modified = try #require(
                try FileManager.default.attributesOfItem(atPath: "\(path)/\(name)")[.modificationDate] as? Date)
            return abs(modified.timeIntervalSinceNow) < 3600
        }
        #expect(age(by: 23 * 3600))
        let restarted = try ApitallyExporter(options: options)
        #expect(restarted.instance == kept, "the slot's UUID is taken again")
        #expect(try isFresh(), "taking the slot refreshes its time")
        #expect(age(by: 23 * 3600))
        await restarted.sync(now: CaptureClock.monotonicNanoseconds())
        #expect(try isFresh(), "a sync refreshes the slot's time")
    }
}
