import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing
@testable import APIMetrics

/// The Apitally exporter against an Apitally hub on loopback: the startup
/// and sync documents field by field, Apitally's own bucket test, the
/// failed-sync queue and its hour, the 404 rule, the request log.
@Suite("Apitally exporter")
struct ApitallyExporterTests {
    static let clientID = "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f"

    private func service(
        _ hub: TestCollector, syncInterval: Duration? = nil, logging: Bool = false, maxSyncAge: Duration = .seconds(3600),
        maxPendingSyncs: Int = 360, configure: (inout APIMetricsConfiguration) -> Void = { _ in }
    ) throws -> APIMetricsService {
        var options = ApitallyExporter.Options(
            clientID: Self.clientID, environment: "prod", baseURL: hub.baseURL, syncInterval: syncInterval,
            isRequestLoggingEnabled: logging, appVersion: "3.1.0")
        options.maxSyncAge = maxSyncAge
        options.maxPendingSyncs = maxPendingSyncs
        var config = testConfiguration([.apitally(options)])
        // A named instance: its UUID is made from the name, not kept in a file.
        config.instanceID = "apitally-tests"
        config.metrics.routes = ["GET /orders/{id}", "POST /orders"]
        config.capture.isBodyCaptureEnabled = true
        config.identifyConsumer = ConsumerIdentifier { request in
            request.headers["x-user"].map { Consumer(id: $0, name: "Ann", group: "gold") }
        }
        configure(&config)
        return try APIMetricsService(configuration: config)
    }

    private func documents(_ hub: TestCollector, _ suffix: String) -> [[String: Any]] {
        hub.requests.filter { $0.target.hasSuffix(suffix) }.compactMap { jsonObject($0.body) }
    }

    private func call(
        _ recorder: Recorder, method: String = "GET", target: String = "/orders/7", route: String? = "/orders/{id}",
        user: String? = "u-1", status: Int = 200, requestBody: [UInt8] = [], responseBody: [UInt8] = [],
        error: (any Error)? = nil
    ) {
        var headers: HeaderFields = ["Host": "api.example.com"]
        if let user { headers.append(name: "X-User", value: user) }
        if !requestBody.isEmpty { headers.append(name: "Content-Type", value: "application/json") }
        let exchange = recorder.begin(RequestHead(method: method, target: target, headers: headers, route: route))
        if !requestBody.isEmpty { exchange.recordRequestBody(requestBody) }
        if let error {
            exchange.fail(error, status: status)
        } else {
            exchange.recordResponseHead(ResponseHead(status: status, headers: ["Content-Type": "application/json"]))
            if !responseBody.isEmpty { exchange.recordResponseBody(responseBody) }
            exchange.finish()
        }
    }

    struct PaymentDeclined: Error, CustomStringConvertible {
        var description: String { "card declined" }
    }

    @Test func startupThenSyncGoToTheHubsV2Paths() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let metrics = try service(hub)
        call(metrics.recorder)
        call(metrics.recorder, user: nil, status: 404)
        call(metrics.recorder, method: "POST", target: "/orders", route: "/orders", status: 500, error: PaymentDeclined())
        call(
            metrics.recorder, method: "POST", target: "/orders", route: "/orders", status: 422,
            responseBody: Array(#"{"detail":[{"loc":["body","quantity"],"msg":"must be positive","type":"value_error"}]}"#.utf8))
        await metrics.shutdown(timeout: .seconds(30))
        let base = "/v2/\(Self.clientID)/prod"
        #expect(hub.requests.map(\.target) == ["\(base)/startup", "\(base)/sync"])
        #expect(hub.requests.allSatisfy { $0.header("content-type") == "application/json" })

        let startup = try #require(documents(hub, "/startup").first)
        let instance = try #require(startup["instance_uuid"] as? String)
        #expect(UUID(uuidString: instance) != nil && UUID(uuidString: startup["message_uuid"] as? String ?? "") != nil)
        #expect(
            startup["paths"] as? [[String: String]] == [
                ["method": "GET", "path": "/orders/{id}"], ["method": "POST", "path": "/orders"],
            ])
        let versions = try #require(startup["versions"] as? [String: String])
        #expect(
            versions["apimetrics"] == APIMetricsService.libraryVersion && versions["app"] == "3.1.0" && versions["swift"] != nil)
        #expect(startup["client"] as? String == "swift:apimetrics")

        let sync = try #require(documents(hub, "/sync").first)
        #expect(sync["instance_uuid"] as? String == instance)
        #expect((sync["timestamp"] as? Double).map { abs($0 - Date().timeIntervalSince1970) < 60 } == true)
        let requests = try #require(sync["requests"] as? [[String: Any]])
        #expect(requests.count == 4)
        let get = try #require(requests.first { $0["status_code"] as? Int == 200 })
        #expect(
            get["consumer"] as? String == "u-1" && get["method"] as? String == "GET" && get["path"] as? String == "/orders/{id}")
        #expect(get["request_count"] as? Int == 1 && get["response_times"] as? [String: Int] == ["0": 1])
        let anonymous = try #require(requests.first { $0["status_code"] as? Int == 404 })
        #expect(anonymous["consumer"] is NSNull)
        let serverErrors = try #require(sync["server_errors"] as? [[String: Any]])
        #expect(serverErrors.count == 1)
        #expect(
            serverErrors.first?["type"] as? String == "PaymentDeclined"
                && serverErrors.first?["msg"] as? String == "card declined")
        #expect(serverErrors.first?["error_count"] as? Int == 1 && serverErrors.first?["path"] as? String == "/orders")
        #expect((serverErrors.first?["traceback"] as? String)?.contains("ApitallyExporterTests.swift") == true)
        let validation = try #require((sync["validation_errors"] as? [[String: Any]])?.first)
        #expect(validation["loc"] as? [String] == ["body", "quantity"] && validation["msg"] as? String == "must be positive")
        #expect(validation["type"] as? String == "value_error" && validation["error_count"] as? Int == 1)
        #expect(sync["consumers"] as? [[String: String]] == [["identifier": "u-1", "name": "Ann", "group": "gold"]])
        let resources = try #require(sync["resources"] as? [String: Any])
        #expect((resources["memory_rss"] as? Int ?? 0) > 0 && resources["cpu_percent"] is Double)
    }

    /// A client inventing a method or a key per call grows a sync by one
    /// `_OTHER` row and at most ``ApitallyRequestTable/maxConsumers`` consumers.
    @Test func aSyncsRowsAreBoundedWhateverTheClientSends() {
        var table = ApitallyRequestTable()
        for n in 0..<3_000 {
            table.add(
                ExchangeRecord(
                    id: EventID(high: 1, low: UInt64(n + 1)), direction: .incoming, startTimeNanoseconds: 0,
                    durationNanoseconds: 1_000,
                    request: RequestHead(method: n % 2 == 0 ? String(format: "M%05d", n) : "get", target: "/t", route: "/t"),
                    response: ResponseHead(status: 200), consumer: Consumer(id: "key-\(n)")), weight: 1)
        }
        #expect(table.calls == 3_000)
        #expect(table.consumers.count == ApitallyRequestTable.maxConsumers)
        #expect(table.foldedConsumerCalls == 3_000 - ApitallyRequestTable.maxConsumers)
        #expect(Set(table.tallies.keys.map(\.method)) == ["_OTHER", "GET"])
        #expect(table.tallies.count <= ApitallyRequestTable.maxConsumers + 2)
    }

    /// `test_request_counter` of Apitally's Python SDK, through our table.
    @Test func apitallysBucketTestCountsTheSame() {
        func record(_ method: String, status: Int, seconds: Double, requestSize: Int, responseSize: Int) -> ExchangeRecord {
            ExchangeRecord(
                id: EventID(high: 1, low: 2), direction: .incoming, startTimeNanoseconds: 0,
                durationNanoseconds: Int64((seconds * 1e9).rounded()),
                request: RequestHead(method: method, target: "/test", route: "/test"),
                requestBody: CapturedBody(size: requestSize), response: ResponseHead(status: status),
                responseBody: CapturedBody(size: responseSize))
        }
        var table = ApitallyRequestTable()
        table.add(record("GET", status: 200, seconds: 0.105, requestSize: 0, responseSize: 123), weight: 1)
        table.add(record("GET", status: 200, seconds: 0.227, requestSize: 0, responseSize: 321), weight: 1)
        table.add(record("POST", status: 204, seconds: 0.1, requestSize: 123, responseSize: 0), weight: 1)
        var writer = JSONWriter(capacity: 256)
        table.write(into: &writer)
        let rows = ((try? JSONSerialization.jsonObject(with: Data(writer.bytes))) as? [[String: Any]]) ?? []
        #expect(rows.count == 2)
        let get = rows.first { $0["method"] as? String == "GET" }
        #expect(
            get?["request_count"] as? Int == 2 && get?["request_size_sum"] as? Int == 0
                && get?["response_size_sum"] as? Int == 444)
        #expect(get?["response_times"] as? [String: Int] == ["100": 1, "220": 1])
        #expect(get?["response_sizes"] as? [String: Int] == ["0": 2])
        let post = rows.first { $0["method"] as? String == "POST" }
        #expect(post?["request_size_sum"] as? Int == 123 && post?["response_size_sum"] as? Int == 0)
        #expect(post?["request_sizes"] as? [String: Int] == ["0": 1] && post?["response_times"] as? [String: Int] == ["100": 1])
        #expect(ApitallyRequestTable.timeBin(nanoseconds: 9_999_999) == 0 && ApitallyRequestTable.sizeBin(bytes: 1999) == 1)
    }

    /// A sync the hub fails is kept and sent again, unchanged, before the next.
    @Test func aFailedSyncIsSentAgainBeforeTheNext() async throws {
        // The first sync is refused, whether or not the startup went before it.
        let syncs = Atomic<Int>(0)
        let hub = try TestCollector(answering: { _, request, _ in
            guard request.hasSuffix("/sync") else { return .status(202) }
            return syncs.wrappingAdd(1, ordering: .relaxed).oldValue == 0 ? .status(503) : .status(202)
        })
        defer { hub.stop() }
        let metrics = try service(hub, syncInterval: .seconds(1))
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        #expect(await eventually { hub.requests.filter { $0.target.hasSuffix("/sync") }.count >= 1 })
        try await Task.sleep(for: .milliseconds(1200))
        call(metrics.recorder, target: "/orders/8")
        #expect(await eventually { hub.requests.filter { $0.target.hasSuffix("/sync") }.count >= 3 })
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        let sent = hub.requests.filter { $0.target.hasSuffix("/sync") }
        #expect(sent[0].body == sent[1].body, "the failed sync goes again as it was")
        let counted = sent.dropFirst().compactMap { jsonObject($0.body) }.flatMap { ($0["requests"] as? [[String: Any]]) ?? [] }
            .reduce(0) { $0 + ($1["request_count"] as? Int ?? 0) }
        #expect(counted == 2, "each call counted once over the syncs the hub took")
        #expect(metrics.statistics.failed == 0)
    }

    /// A sync that could not go for longer than its age limit (an hour; here
    /// shortened) is given up and counted as failed.
    @Test func aSyncOlderThanItsAgeIsGivenUpAndCounted() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.hasSuffix("/sync") ? .status(503) : .status(202) })
        defer { hub.stop() }
        let metrics = try service(hub, syncInterval: .seconds(1), maxSyncAge: .milliseconds(1500))
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.failed == 2 })
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
    }

    @Test func aNotFoundClientIDStopsTheExporter() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.hasSuffix("/sync") ? .status(404) : .status(202) })
        defer { hub.stop() }
        let metrics = try service(hub, syncInterval: .seconds(1))
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.failed == 1 })
        try await Task.sleep(for: .milliseconds(1200))
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        #expect(hub.requests.filter { $0.target.hasSuffix("/sync") }.count == 1)
        #expect(metrics.statistics.destinationLeftOut == 1)
    }

    @Test func requestLogsGoAsGzippedNDJSON() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let metrics = try service(hub, logging: true)
        call(
            metrics.recorder, method: "POST", target: "/orders?x=1", route: "/orders", status: 201,
            requestBody: Array(#"{"item":"lamp"}"#.utf8), responseBody: Array(#"{"id":1}"#.utf8))
        await metrics.shutdown(timeout: .seconds(30))
        let upload = try #require(hub.requests.first { $0.target.contains("/log?uuid=") })
        #expect(upload.rawBody.starts(with: [0x1F, 0x8B]))
        #expect(UUID(uuidString: String(upload.target.split(separator: "=").last ?? "")) != nil)
        // A gzip file, as Apitally's SDKs upload it (no Content-Encoding).
        #expect(upload.header("content-encoding") == nil)
        let lines = String(decoding: try Gzip.decompress(upload.rawBody), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1)
        let item = try #require(jsonObject(Array(lines[0].utf8)))
        let request = try #require(item["request"] as? [String: Any])
        let response = try #require(item["response"] as? [String: Any])
        #expect(UUID(uuidString: item["uuid"] as? String ?? "") != nil)
        #expect(request["method"] as? String == "POST" && request["path"] as? String == "/orders")
        #expect(request["url"] as? String == "http://api.example.com/orders?x=1" && request["consumer"] as? String == "u-1")
        #expect(request["body"] as? String == Data(#"{"item":"lamp"}"#.utf8).base64EncodedString())
        #expect(request["headers"] == nil, "request headers are off by default, as in Apitally's SDKs")
        #expect(request["timestamp"] is Double && response["response_time"] is Double)
        #expect(response["status_code"] as? Int == 201 && response["size"] as? Int == 8)
    }

    /// A request log the hub does not take is kept for the next attempt
    /// (here the final window's batch; then it is said in a warning at
    /// shutdown); the call is
    /// still counted, once, in the sync, and nothing counts as failed.
    @Test func aFailedLogUploadDoesNotCountTheCallTwice() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.contains("/log?") ? .status(503) : .status(202) })
        defer { hub.stop() }
        let metrics = try service(hub, logging: true)
        call(metrics.recorder)
        await metrics.shutdown(timeout: .seconds(30))
        let counted = documents(hub, "/sync").flatMap { ($0["requests"] as? [[String: Any]]) ?? [] }
            .reduce(0) { $0 + ($1["request_count"] as? Int ?? 0) }
        #expect(counted == 1)
        // Tried with the call's batch, and once more with the final window's,
        // which goes out after it at shutdown.
        #expect(hub.requests.filter { $0.target.contains("/log?") }.count == 2)
        #expect(metrics.statistics.exported == 1 && metrics.statistics.failed == 0 && metrics.statistics.retried == 0)
    }

    /// A path of letter-only words is no template's: a client can make one
    /// per call. Past the series limit they count in route `(other)`.
    @Test func seriesPastTheLimitFoldIntoOtherRoute() {
        func word(_ n: Int) -> String {
            var n = n, letters = ""
            repeat {
                letters.append(Character(Unicode.Scalar(UInt8(ascii: "g") + UInt8(n % 20))))
                n /= 20
            } while n > 0
            return letters + "page"
        }
        var table = ApitallyRequestTable()
        for n in 0..<1_500 {
            table.add(
                ExchangeRecord(
                    id: EventID(high: 1, low: UInt64(n + 1)), direction: .incoming, startTimeNanoseconds: 0,
                    durationNanoseconds: 1_000,
                    request: RequestHead(method: "GET", target: "/docs/\(word(n))"), response: ResponseHead(status: 200),
                    consumer: Consumer(id: "key-\(n % 3)")), weight: 2)
        }
        #expect(table.calls == 3_000)
        #expect(table.series.count == ApitallyRequestTable().maxSeries + 1)
        #expect(table.foldedRouteCalls == 2 * 500)
        let other = table.tallies.filter { $0.key.path == SeriesKey.otherRoute }
        #expect(other.values.reduce(0) { $0 + $1.count } == 1_000)
        #expect(other.count == 3, "one folded row per consumer")
        #expect(table.tallies.count == 1_000 + 3)
        #expect(table.tallies.values.reduce(0) { $0 + $1.count } == 3_000)
    }

    /// Consumers times series would bound a sync only by their product:
    /// past the rows-with-a-consumer limit a call counts without one.
    @Test func rowsWithAConsumerAreBounded() {
        var table = ApitallyRequestTable(maxSeries: 50)
        for n in 0..<(ApitallyRequestTable.maxConsumerRows + 2_000) {
            table.add(
                ExchangeRecord(
                    id: EventID(high: 1, low: UInt64(n + 1)), direction: .incoming, startTimeNanoseconds: 0,
                    durationNanoseconds: 1_000,
                    request: RequestHead(method: "GET", target: "/r\(n % 40)", route: "/r\(n % 40)"),
                    response: ResponseHead(status: 200),
                    consumer: Consumer(id: "key-\(n / 40 % ApitallyRequestTable.maxConsumers)")), weight: 1)
        }
        #expect(table.consumerRows == ApitallyRequestTable.maxConsumerRows)
        #expect(table.tallies.count <= ApitallyRequestTable.maxConsumerRows + 40)
        #expect(table.foldedConsumerCalls == 2_000)
        #expect(table.tallies.values.reduce(0) { $0 + $1.count } == table.calls)
    }

    /// In a service the table follows `metrics.maxSeries`, and the sync's
    /// folds are told in a warning.
    @Test func aServicesSyncFollowsMaxSeriesAndWarnsOfItsFolds() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let messages = Mutex<[String]>([])
        let metrics = try service(hub) { config in
            config.metrics.maxSeries = 5
            config.diagnostics = .custom(minimumLevel: .warning) { message in messages.withLock { $0.append(message.text) } }
        }
        for n in 0..<8 {
            let path = "/docs/page\(String(repeating: "x", count: n + 1))"
            call(metrics.recorder, target: path, route: path)
        }
        await metrics.shutdown(timeout: .seconds(30))
        let rows = documents(hub, "/sync").flatMap { ($0["requests"] as? [[String: Any]]) ?? [] }
        #expect(rows.count == 6)
        #expect(rows.first { $0["path"] as? String == SeriesKey.otherRoute }?["request_count"] as? Int == 3)
        let warnings = messages.withLock { $0 }.filter { $0.hasPrefix("Apitally sync bounded") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("3 calls of series past 5 counted in route (other)") == true)
    }

    /// A server that fails with a new message per call, or lists new
    /// problems per call, grows a sync by at most 200 groups of each.
    @Test func errorGroupsAreCappedAndTheRestCounted() async throws {
        let hub = try TestCollector { _ in .status(202) }
        defer { hub.stop() }
        let messages = Mutex<[String]>([])
        let metrics = try service(hub) { config in
            config.diagnostics = .custom(minimumLevel: .warning) { message in messages.withLock { $0.append(message.text) } }
        }
        struct Failure: Error, CustomStringConvertible { var description: String }
        for n in 0..<260 {
            call(
                metrics.recorder, method: "POST", target: "/orders", route: "/orders", status: 500,
                error: Failure(description: "failed \(n)"))
            call(
                metrics.recorder, method: "POST", target: "/orders", route: "/orders", status: 422,
                responseBody: Array(#"{"detail":[{"loc":["body","q"],"msg":"bad \#(n)","type":"value_error"}]}"#.utf8))
        }
        await metrics.shutdown(timeout: .seconds(30))
        let syncs = documents(hub, "/sync")
        let serverErrors = syncs.flatMap { ($0["server_errors"] as? [[String: Any]]) ?? [] }
        let validationErrors = syncs.flatMap { ($0["validation_errors"] as? [[String: Any]]) ?? [] }
        #expect(
            serverErrors.count <= ApitallyExporter.maxErrorGroups * syncs.count
                && serverErrors.count >= ApitallyExporter.maxErrorGroups)
        #expect(
            validationErrors.count <= ApitallyExporter.maxErrorGroups * syncs.count
                && validationErrors.count >= ApitallyExporter.maxErrorGroups)
        let counted = serverErrors.reduce(0) { $0 + ($1["error_count"] as? Int ?? 0) }
        let warnings = messages.withLock { $0 }.filter { $0.hasPrefix("Apitally sync bounded") }
        let leftOut = warnings.compactMap { line -> Int? in
            guard let range = line.range(of: " server errors past 200 groups left out") else { return nil }
            return Int(line[..<range.lowerBound].split(separator: " ").last ?? "")
        }.reduce(0, +)
        #expect(counted + leftOut == 260, "every server error is in a group or counted as left out")
        #expect(syncs.count > 1 || leftOut == 60)
        #expect(warnings.allSatisfy { syncs.count > 1 || $0.contains("60 validation errors past 200 groups left out") })
    }

    /// Failed syncs wait in a bounded list: past it the oldest is given up
    /// and counted as failed.
    @Test func failedSyncsWaitingAreBoundedInCountAndBytes() {
        func sync(_ bytes: Int, calls: Int) -> ApitallyExporter.PendingSync {
            ApitallyExporter.PendingSync(body: [UInt8](repeating: 0x20, count: bytes), madeAt: 0, calls: calls)
        }
        var pending = (1...5).map { sync(100, calls: $0) }
        #expect(ApitallyExporter.trim(&pending, maxCount: 3, maxBytes: 1_000).map(\.calls) == [1, 2])
        #expect(pending.map(\.calls) == [3, 4, 5])
        #expect(ApitallyExporter.trim(&pending, maxCount: 3, maxBytes: 250).map(\.calls) == [3])
        #expect(pending.map(\.calls) == [4, 5])
        pending.append(sync(10_000, calls: 6))
        #expect(ApitallyExporter.trim(&pending, maxCount: 3, maxBytes: 250).map(\.calls) == [4, 5])
        #expect(pending.map(\.calls) == [6], "the newest is kept whatever its size")
    }

    @Test func aSyncPastThePendingLimitIsGivenUpAndCounted() async throws {
        let hub = try TestCollector(answering: { _, request, _ in request.hasSuffix("/sync") ? .status(503) : .status(202) })
        defer { hub.stop() }
        let metrics = try service(hub, syncInterval: .seconds(1), maxPendingSyncs: 1)
        let runner = Task { try await metrics.run() }
        call(metrics.recorder)
        #expect(await eventually { hub.requests.filter { $0.target.hasSuffix("/sync") }.count >= 1 })
        try await Task.sleep(for: .milliseconds(1200))
        call(metrics.recorder)
        #expect(await eventually { metrics.statistics.failed >= 1 })
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
    }

    /// A character carrying combining marks counts once in characters but
    /// many times in bytes: the cuts count both.
    @Test func messagesAndTracebacksAreCutInBytes() {
        let heavy = String(repeating: "e\u{301}\u{302}\u{303}\u{304}\u{305}", count: 600)
        #expect(heavy.count == 600 && heavy.utf8.count == 6_600)
        let message = ApitallyPayloads.message(heavy)
        #expect(message.utf8.count <= ApitallyPayloads.maxMessageLength && message.hasSuffix("... (truncated)"))
        #expect(heavy.hasPrefix(message.dropLast("... (truncated)".count)), "cut at a character boundary")
        let lines = (0..<2_000).map { "frame \($0) \(String(repeating: "e\u{301}\u{302}", count: 10))" }.joined(separator: "\n")
        #expect(lines.count < ApitallyPayloads.maxTracebackLength && lines.utf8.count > ApitallyPayloads.maxTracebackLength)
        let traceback = ApitallyPayloads.traceback(lines)
        #expect(traceback.utf8.count <= ApitallyPayloads.maxTracebackLength)
        #expect(
            traceback.hasPrefix("... (truncated) ...\n")
                && traceback.hasSuffix("frame 1999 \(String(repeating: "e\u{301}\u{302}", count: 10))"))
        let oneLine = ApitallyPayloads.traceback(String(repeating: "\u{1F600}", count: 40_000))
        #expect(oneLine.utf8.count <= ApitallyPayloads.maxTracebackLength && oneLine.contains("\u{1F600}"))
    }

    @Test func longMessagesAndTracebacksAreCutAsApitallyCutsThem() {
        let message = ApitallyPayloads.message(String(repeating: "m", count: 5000))
        #expect(message.count == 2048 && message.hasSuffix("... (truncated)"))
        let lines = (0..<20_000).map { "frame \($0)" }.joined(separator: "\n")
        let traceback = ApitallyPayloads.traceback(lines)
        #expect(traceback.count <= 65_536 && traceback.hasPrefix("... (truncated) ...\n") && traceback.hasSuffix("frame 19999"))
    }

    @Test(arguments: [("not-a-uuid", "prod", "APIMETRICS_APITALLY_CLIENT_ID"), (clientID, "has space", "APIMETRICS_ENV")])
    func badSettingsNameTheirVariable(clientID: String, environment: String, variable: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try APIMetricsConfiguration.fromEnvironment([
                "APIMETRICS_APITALLY_CLIENT_ID": clientID, "APIMETRICS_ENV": environment,
            ])
        }
        #expect(error?.field == variable)
    }

    @Test func theEnvironmentTurnsItOn() throws {
        let config = try APIMetricsConfiguration.fromEnvironment([
            "APIMETRICS_APITALLY_CLIENT_ID": Self.clientID, "APIMETRICS_ENV": "staging",
            "APIMETRICS_APITALLY_BASE_URL": "http://127.0.0.1:9",
        ])
        #expect(config.exporters.map(\.summary).contains("apitally http://127.0.0.1:9 (staging)"))
    }
}
