public import APIMetrics
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Checks, over real HTTP, that a framework integration records the API
/// every example server of this repository serves (the demo's: orders by
/// id, a POST that validates its body, a failing route, a proxy that calls
/// the server itself, the metrics' view), and says in words what did not
/// hold.
///
/// A package's test runs its example on a real socket, recording into a
/// ``CollectingExporter`` with the capture limit the scenario asks for, and
/// hands the check the example's address:
///
/// ```swift
/// @Test(arguments: ExampleAPICheck.Scenario.all)
/// func theExampleAPIIsRecorded(_ scenario: ExampleAPICheck.Scenario) async throws {
///     let exporter = CollectingExporter()
///     let config = ExampleAPICheck.configuration(
///         ExampleServer.baseConfiguration(), exporter: exporter,
///         captureLimit: scenario.captureLimit, queueLimit: scenario.queueLimit)
///     // No sender runs for a scenario with a queue limit: the queue fills.
///     try await withExample(config, runsSender: scenario.queueLimit == nil) { baseURL, metrics in
///         let problems = try await ExampleAPICheck(baseURL: baseURL, exporter: exporter, metrics: metrics).run(scenario)
///         #expect(problems.isEmpty, "\(problems)")
///     }
/// }
/// ```
///
/// What differs between frameworks (the body a framework writes for an
/// error, its name for a route it did not match) is left to each package's
/// own tests.
public struct ExampleAPICheck: Sendable {
    /// One thing the check can hold an integration to.
    public struct Scenario: Sendable, Hashable, CustomStringConvertible {
        /// The scenario's name, as test output shows it.
        public let description: String
        /// The capture limit (`capture.maxBodyBytes`) the example must run
        /// with for this scenario.
        public let captureLimit: Int
        /// The queue's size (`queue.maxEvents`) the example must run with,
        /// its sender not running, for this scenario; `nil` for a running
        /// sender and the example's own queue.
        public let queueLimit: Int?

        /// A call's route template, method, target, headers (with `Host`),
        /// client address, status, response body and duration.
        public static let routesHeadersAndClient = Scenario(description: "routes, headers and the client")
        /// The view's paths are answered, with a content security policy,
        /// and never recorded, in the events or the metrics.
        public static let viewNeverRecorded = Scenario(description: "the view is served and never recorded")
        /// A path no route matches is the unmatched series; a route that
        /// answers 404 keeps its template and its body.
        public static let notFound = Scenario(description: "404s: unmatched, or the route's own")
        /// A request body past the capture limit is counted whole, kept up
        /// to the limit (as the redaction's marker, the JSON being cut),
        /// and the handler reads all of it.
        public static let requestBodyCapped = Scenario(description: "the request body is capped", captureLimit: 64)
        /// A thrown error is on its call with the status the client got; a
        /// validation answer (422) and a malformed body (400) are client
        /// errors with no error attached.
        public static let errors = Scenario(description: "errors as the client received them")
        /// The consumer comes from the API key; no secret of the query,
        /// `Authorization` or `Cookie` is kept.
        public static let consumersAndSecrets = Scenario(description: "consumers identified, secrets redacted")
        /// An outgoing call the handler makes is linked to its call: its
        /// parent, and one trace for the three calls.
        public static let outgoingCalls = Scenario(description: "outgoing calls linked to their call")

        /// While the queue is full (three calls, and no sender taking
        /// them), calls are shed, not captured, yet every one counts in
        /// the metrics, a streamed answer's too, and each shed event is
        /// counted as dropped.
        public static let shedWhileTheQueueIsFull = Scenario(description: "shed while the queue is full", queueLimit: 3)

        /// Every scenario.
        public static let all: [Scenario] = [
            .routesHeadersAndClient, .viewNeverRecorded, .notFound, .requestBodyCapped, .errors, .consumersAndSecrets,
            .outgoingCalls, .shedWhileTheQueueIsFull,
        ]

        init(description: String, captureLimit: Int = 64 * 1024, queueLimit: Int? = nil) {
            self.description = description
            self.captureLimit = captureLimit
            self.queueLimit = queueLimit
        }
    }

    /// The example's root, such as `http://127.0.0.1:8080`.
    public let baseURL: String
    /// Where the example's calls are exported.
    public let exporter: CollectingExporter
    /// The example's metrics.
    public let metrics: APIMetricsService
    /// How long to wait for the calls to be exported.
    public var timeout: Duration = .seconds(20)
    /// A path the example answers with a streamed body, such as
    /// `/stream?chunks=5`; `nil` when it has none (the shed scenario then
    /// calls a path no route matches instead).
    public var streamedPath: String?

    /// A check of the example at `baseURL`.
    ///
    /// - Parameters:
    ///   - baseURL: the example's root, such as `http://127.0.0.1:8080`.
    ///   - exporter: the only exporter of the example's metrics.
    ///   - metrics: the example's metrics, running.
    public init(baseURL: String, exporter: CollectingExporter, metrics: APIMetricsService) {
        self.baseURL = baseURL
        self.exporter = exporter
        self.metrics = metrics
    }

    /// An example's configuration made ready for a test: every call goes
    /// to `exporter` only, batches leave every 20 ms, bodies are kept up
    /// to `captureLimit`, and the sender runs at normal priority (a test
    /// run keeps the cores busy).
    ///
    /// - Parameters:
    ///   - base: the example's own configuration.
    ///   - exporter: where the calls go.
    ///   - captureLimit: the most bytes kept of one body; a scenario's
    ///     ``Scenario/captureLimit``.
    ///   - queueLimit: the queue's size; a scenario's
    ///     ``Scenario/queueLimit``, `nil` for the example's own.
    /// - Returns: `base` with those changes.
    public static func configuration(
        _ base: APIMetricsConfiguration, exporter: CollectingExporter, captureLimit: Int = 64 * 1024,
        queueLimit: Int? = nil
    ) -> APIMetricsConfiguration {
        var config = base
        config.exporters = [.custom(exporter)]
        config.batching.flushInterval = .milliseconds(20)
        config.capture = .init(isBodyCaptureEnabled: true, maxBodyBytes: captureLimit)
        config.senderPriority = .normal
        if let queueLimit { config.queue = .init(maxEvents: queueLimit, maxBytes: 1 << 20) }
        return config
    }

    /// An answer as the client got it.
    struct Answer {
        var status: Int
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Runs `scenario` against the example; what did not hold, in words
    /// (empty when everything did).
    ///
    /// - Parameter scenario: what to check.
    /// - Returns: one sentence per thing that did not hold.
    /// - Throws: when a call could not be made at all.
    public func run(_ scenario: Scenario) async throws -> [String] {
        var problems = Problems()
        switch scenario {
        case .routesHeadersAndClient: try await checkRoutes(&problems)
        case .viewNeverRecorded: try await checkView(&problems)
        case .notFound: try await checkNotFound(&problems)
        case .requestBodyCapped: try await checkRequestBody(&problems)
        case .errors: try await checkErrors(&problems)
        case .consumersAndSecrets: try await checkSecrets(&problems)
        case .outgoingCalls: try await checkOutgoing(&problems)
        case .shedWhileTheQueueIsFull: try await checkShed(&problems)
        default: problems.expect(false, "no scenario \(scenario)")
        }
        return problems.list
    }

    /// What did not hold, each with what was seen.
    struct Problems {
        var list: [String] = []

        mutating func expect(_ condition: Bool, _ problem: @autoclosure () -> String) {
            if !condition { list.append(problem()) }
        }
    }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) async throws -> Answer {
        guard let url = URL(string: baseURL + path) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http?.statusCode ?? 0, headers: fields, body: Array(data))
    }

    /// The records once `count` are in, or those there are after the timeout.
    func records(_ count: Int, _ problems: inout Problems) async -> [ExchangeRecord] {
        let records = await exporter.waitForRecords(atLeast: count, timeout: timeout)
        problems.expect(records.count >= count, "\(records.count) calls were exported, not \(count)")
        return records
    }

    /// The metrics' JSON API as the view answers this machine (empty when
    /// it does not answer).
    func viewAPI() -> [String: Any] {
        let answer = metrics.view.response(
            method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1")
        return answer.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] } ?? [:]
    }

    /// A recorded body as text.
    static func text(_ body: CapturedBody) -> String { String(decoding: body.bytes, as: UTF8.self) }

    func checkRoutes(_ problems: inout Problems) async throws {
        let answer = try await send("GET", "/orders/7?expand=1", headers: ["X-Trace-Me": "yes"])
        problems.expect(answer.status == 200, "GET /orders/7 answered \(answer.status)")
        guard let record = await records(1, &problems).first else { return }
        let request = record.request
        problems.expect(request.route == "/orders/{id}", "the route is \(request.route ?? "none"), not /orders/{id}")
        problems.expect(
            request.method == "GET" && request.target == "/orders/7?expand=1",
            "the call is \(request.method) \(request.target), not GET /orders/7?expand=1")
        let host = request.headers["host"] ?? ""
        problems.expect(
            host.hasPrefix("127.0.0.1") || host.hasPrefix("localhost"), "the Host header is \"\(host)\", not the example's")
        problems.expect(request.headers["x-trace-me"] == "yes", "X-Trace-Me is \(request.headers["x-trace-me"] ?? "missing")")
        problems.expect(
            request.clientAddress == "127.0.0.1", "the client is \(request.clientAddress ?? "unknown"), not 127.0.0.1")
        let contentType = record.response?.headers["content-type"] ?? ""
        problems.expect(
            record.response?.status == 200 && contentType.hasPrefix("application/json"),
            "the response is \(record.response?.status ?? 0) \(contentType), not 200 application/json")
        let body = Self.text(record.responseBody)
        problems.expect(body == answer.text, "the response body recorded is \(body), the client got \(answer.text)")
        problems.expect(record.durationNanoseconds > 0, "the duration is \(record.durationNanoseconds) ns")
    }

    func checkView(_ problems: inout Problems) async throws {
        for path in ["/_apimetrics", "/_apimetrics/api", "/metrics", "/_apimetrics/openapi.json"] {
            let answer = try await send("GET", path)
            problems.expect(answer.status == 200, "GET \(path) answered \(answer.status)")
            problems.expect(answer.headers["content-security-policy"] != nil, "GET \(path) has no Content-Security-Policy")
        }
        let order = try await send("GET", "/orders/7")
        problems.expect(order.status == 200, "GET /orders/7 answered \(order.status)")
        let targets = await records(1, &problems).map(\.request.target)
        problems.expect(targets == ["/orders/7"], "the calls recorded are \(targets), not [/orders/7]")
        problems.expect(metrics.statistics.recorded == 1, "\(metrics.statistics.recorded) calls were recorded, not 1")
        let exposition = try await send("GET", "/metrics").text
        problems.expect(exposition.contains(#"route="/orders/{id}""#), "/metrics has no series of /orders/{id}")
        problems.expect(
            !exposition.contains(#"route="/metrics""#) && !exposition.contains(#"route="/_apimetrics"#),
            "/metrics counts the view's own calls")
    }

    func checkNotFound(_ problems: inout Problems) async throws {
        let unknown = try await send("GET", "/no/such/path")
        problems.expect(unknown.status == 404, "GET /no/such/path answered \(unknown.status)")
        let missing = try await send("GET", "/orders/9999")
        problems.expect(missing.status == 404, "GET /orders/9999 answered \(missing.status)")
        let records = await records(2, &problems)
        if let record = records.first(where: { $0.request.target == "/no/such/path" }) {
            problems.expect(
                record.request.route == nil && record.response?.status == 404,
                "a path no route matched has the route \(record.request.route ?? "none") and \(record.response?.status ?? 0)")
        } else {
            problems.expect(false, "GET /no/such/path is not recorded")
        }
        if let record = records.first(where: { $0.request.target == "/orders/9999" }) {
            problems.expect(
                record.request.route == "/orders/{id}" && record.response?.status == 404,
                "a 404 of /orders/{id} has the route \(record.request.route ?? "none") and \(record.response?.status ?? 0)")
            let body = Self.text(record.responseBody)
            problems.expect(body.contains("order not found"), "the 404's body recorded is \"\(body)\"")
        } else {
            problems.expect(false, "GET /orders/9999 is not recorded")
        }
        let object = viewAPI()
        let routes = Set((object["endpoints"] as? [[String: Any]] ?? []).compactMap { $0["route"] as? String })
        problems.expect(
            routes.contains("(unmatched)") && routes.contains("/orders/{id}"),
            "the metrics' routes are \(routes.sorted()), without (unmatched) and /orders/{id}")
        problems.expect(
            routes.allSatisfy { $0 == "(unmatched)" || $0 == "/orders/{id}" },
            "the metrics have a route of their own for a path no route matched: \(routes.sorted())")
    }

    func checkRequestBody(_ problems: inout Problems) async throws {
        let item = String(repeating: "x", count: 5_000)
        let body = #"{"item":"\#(item)","quantity":2}"#
        let answer = try await send("POST", "/orders", headers: ["Content-Type": "application/json"], body: body)
        problems.expect(answer.status == 201, "POST /orders answered \(answer.status)")
        problems.expect(answer.text.contains(item), "the handler did not get the whole body")
        guard let record = await records(1, &problems).first else { return }
        problems.expect(record.request.route == "/orders", "the route is \(record.request.route ?? "none")")
        problems.expect(
            record.requestBody.size == body.utf8.count,
            "the request body counted \(record.requestBody.size) bytes, not \(body.utf8.count)")
        // JSON cut at the capture limit cannot be read whole: redaction
        // fails closed and keeps the marker in its place.
        let marker = Array(RedactionOptions.default.unparseableBodyMarker.utf8)
        problems.expect(
            record.requestBody.bytes == marker && record.requestBody.isTruncated,
            "the capped request body is \"\(Self.text(record.requestBody))\", not the marker, cut")
        problems.expect(record.response?.status == 201, "the status recorded is \(record.response?.status ?? 0)")
    }

    func checkErrors(_ problems: inout Problems) async throws {
        let json = ["Content-Type": "application/json"]
        let failed = try await send("GET", "/fail")
        problems.expect(failed.status == 500, "GET /fail answered \(failed.status)")
        let invalid = try await send("POST", "/orders", headers: json, body: #"{"item":"lamp","quantity":0}"#)
        problems.expect(invalid.status == 422, "an invalid order answered \(invalid.status)")
        let malformed = try await send("POST", "/orders", headers: json, body: "not json")
        problems.expect(malformed.status == 400, "a body that is not JSON answered \(malformed.status)")
        let records = await records(3, &problems)
        if let record = records.first(where: { $0.request.target == "/fail" }) {
            let error = record.errors.first
            problems.expect(
                record.response?.status == 500 && record.request.route == "/fail",
                "/fail is recorded as \(record.response?.status ?? 0) on \(record.request.route ?? "no route")")
            problems.expect(
                error?.type == "ExampleFailure" && error?.message == "the example failed on purpose",
                "/fail's error is \(error?.type ?? "none"): \(error?.message ?? "")")
        } else {
            problems.expect(false, "GET /fail is not recorded")
        }
        if let record = records.first(where: { $0.response?.status == 422 }) {
            let body = Self.text(record.responseBody)
            problems.expect(body.contains("quantity must be from 1 to 1000"), "the 422's body recorded is \"\(body)\"")
            problems.expect(
                record.response?.headers["content-type"]?.hasPrefix("application/json") == true,
                "the 422 is \(record.response?.headers["content-type"] ?? "of no type"), not JSON")
            problems.expect(record.errors.isEmpty, "a client error carries an error: \(record.errors.map(\.type))")
        } else {
            problems.expect(false, "no call recorded as 422")
        }
        problems.expect(
            records.contains { $0.response?.status == 400 && $0.request.route == "/orders" }, "no 400 of /orders recorded")
    }

    func checkSecrets(_ problems: inout Problems) async throws {
        let answer = try await send(
            "GET", "/orders/1?api_key=SECRET-QUERY",
            headers: ["X-API-Key": "key-acme", "Authorization": "Bearer SECRET-TOKEN", "Cookie": "sid=SECRET-COOKIE"])
        problems.expect(answer.status == 200, "GET /orders/1 answered \(answer.status)")
        guard let record = await records(1, &problems).first else { return }
        problems.expect(record.consumer?.id == "acme", "the consumer is \(record.consumer?.id ?? "none"), not acme")
        let text = "\(record.request.target) \(record.request.headers.fields)"
        problems.expect(!text.contains("SECRET"), "a secret was kept: \(text)")
        problems.expect(
            record.request.headers["authorization"] == "[REDACTED]",
            "Authorization is \(record.request.headers["authorization"] ?? "missing")")
    }

    func checkOutgoing(_ problems: inout Problems) async throws {
        let answer = try await send("GET", "/proxy?to=/orders/5")
        problems.expect(answer.status == 200 && answer.text.contains(#""id":5"#), "GET /proxy answered \(answer.status)")
        let records = await records(3, &problems)
        guard let proxy = records.first(where: { $0.request.route == "/proxy" }),
            let outgoing = records.first(where: { $0.direction == .outgoing }),
            let served = records.first(where: { $0.direction == .incoming && $0.request.route == "/orders/{id}" })
        else {
            problems.expect(false, "the proxy, its outgoing call and the call it made are not all recorded")
            return
        }
        problems.expect(outgoing.parentID == proxy.id, "the outgoing call's parent is not the proxy's call")
        problems.expect(
            outgoing.traceID == proxy.traceID && served.traceID == proxy.traceID, "the three calls are not on one trace")
    }

    func checkShed(_ problems: inout Problems) async throws {
        // The streamed path's route (its path), or the unmatched series.
        let other = streamedPath ?? "/no/such/path"
        let otherRoute = streamedPath.map { String($0.prefix { $0 != "?" }) } ?? "(unmatched)"
        for index in 0..<20 {
            let path = index % 4 == 0 ? other : "/orders/\(index + 1)"
            let answer = try await send("GET", path)
            let expected = path == "/no/such/path" ? 404 : 200
            problems.expect(answer.status == expected, "GET \(path) answered \(answer.status), not \(expected)")
        }
        let object = viewAPI()
        problems.expect(object["requests"] as? Int == 20, "the metrics count \(object["requests"] ?? "no") calls, not 20")
        let endpoints = object["endpoints"] as? [[String: Any]] ?? []
        let counts = Dictionary(
            endpoints.compactMap { row in (row["route"] as? String).map { ($0, row["requests"] as? Int ?? 0) } },
            uniquingKeysWith: +)
        problems.expect(
            counts == ["/orders/{id}": 15, otherRoute: 5], "the metrics count \(counts), not 15 orders and 5 of \(otherRoute)")
        problems.expect(
            metrics.statistics.dropped == 17, "\(metrics.statistics.dropped) events were dropped, not 17 (3 fit the queue)")
    }
}
