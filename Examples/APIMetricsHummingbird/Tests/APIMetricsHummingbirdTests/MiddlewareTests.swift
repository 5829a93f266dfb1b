import APIMetrics
import APIMetricsTesting
@testable import APIMetricsHummingbird
import Foundation
import Hummingbird
@testable import HummingbirdExample
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The example's configuration with the events going to `exporter` and a
/// short flush interval.
func configuration(_ exporter: CollectingExporter, maxBodyBytes: Int = 64 * 1024) -> APIMetricsConfiguration {
    var config = ExampleServer.baseConfiguration()
    config.exporters = [.custom(exporter)]
    config.batching.flushInterval = .milliseconds(20)
    config.capture = .init(isBodyCaptureEnabled: true, maxBodyBytes: maxBodyBytes)
    config.senderPriority = .normal
    return config
}

/// The example's application on a real socket, its metrics running beside it.
func withExample(
    _ config: APIMetricsConfiguration, instrumented: Bool = true,
    _ body: @escaping @Sendable (any TestClientProtocol, APIMetricsService) async throws -> Void
) async throws {
    let metrics = try APIMetricsService(configuration: config)
    let baseURL = Mutex("")
    let router = ExampleServer.router(
        metrics: metrics, variant: instrumented ? .apimetrics : .bare, baseURL: { baseURL.withLock { $0 } })
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in baseURL.withLock { $0 = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" } })
    let runner = Task { try await metrics.run() }
    try await app.test(.live) { client in try await body(client, metrics) }
    await metrics.shutdown(timeout: .seconds(30))
    try await runner.value
}

extension ExchangeRecord {
    var responseText: String { String(decoding: responseBody.bytes, as: UTF8.self) }
}

@Suite("Hummingbird middleware")
struct MiddlewareTests {
    @Test func aClientAddressIsWrittenAsNIOWritesIt() throws {
        var addresses = [
            "0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.9", "192.168.100.20", "1.22.103.250", "::1",
            "2001:db8::ff00:42:8329",
        ]
        // Every octet in every place, from a seeded generator.
        var state: UInt64 = 0x5EED
        for _ in 0..<500 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            addresses.append(
                (0..<4).map { String(UInt8(truncatingIfNeeded: state >> (8 * UInt64($0) + 24))) }.joined(separator: "."))
        }
        for text in addresses {
            let address = try SocketAddress(ipAddress: text, port: 443)
            #expect(APIMetricsMiddleware<BasicRequestContext>.text(of: address) == address.ipAddress)
        }
        #expect(
            APIMetricsMiddleware<BasicRequestContext>.text(of: try SocketAddress(ipAddress: "203.0.113.7", port: 1))
                == "203.0.113.7")
    }

    @Test func routesHeadersHostAndTheClientAreRecorded() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, _ in
            try await client.execute(uri: "/orders/7?expand=1", method: .get, headers: [.init("X-Trace-Me")!: "yes"]) {
                response in
                #expect(response.status == .ok)
            }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.request.route == "/orders/{id}")
        #expect(record.request.method == "GET" && record.request.target == "/orders/7?expand=1")
        #expect(
            record.request.headers["host"]?.hasPrefix("localhost") == true
                || record.request.headers["host"]?.hasPrefix("127.0.0.1") == true)
        #expect(record.request.headers["x-trace-me"] == "yes")
        #expect(record.request.clientAddress == "127.0.0.1")
        #expect(record.response?.status == 200 && record.response?.headers["content-type"] == "application/json; charset=utf-8")
        #expect(record.responseText == #"{"id":7,"item":"lamp","quantity":1}"#)
        #expect(record.durationNanoseconds > 0)
    }

    /// The middleware serves the view (no route of the user's), to this
    /// machine, and never records it: neither events nor the metrics count
    /// the dashboard's or Prometheus's calls.
    @Test func theMiddlewareServesTheViewAndNeverRecordsIt() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, metrics in
            for path in ["/_apimetrics", "/_apimetrics/api", "/metrics", "/_apimetrics/openapi.json"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.init("Content-Security-Policy")!] != nil, "\(path)")
                }
            }
            // Another machine's Host: refused, as the view refuses it anywhere.
            try await client.execute(uri: "/metrics", method: .get, headers: [.init("Host")!: "api.example.com"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/orders/7", method: .get) { #expect($0.status == .ok) }
            let records = await exporter.waitForRecords(atLeast: 1)
            #expect(records.map(\.request.target) == ["/orders/7"])
            #expect(metrics.statistics.recorded == 1)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"route="/orders/{id}""#))
                #expect(!text.contains(#"route="/metrics""#) && !text.contains(#"route="/_apimetrics"#), "\(text.prefix(2_000))")
            }
        }
    }

    @Test func notFoundIsTheUnmatchedSeriesNeverAPlaceholderRoute() async throws {
        let exporter = CollectingExporter()
        let seenRoutes = Mutex<Set<String>>([])
        try await withExample(configuration(exporter)) { client, metrics in
            try await client.execute(uri: "/no/such/path", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/orders/9999", method: .get) { #expect($0.status == .notFound) }
            await exporter.waitForRecords(atLeast: 2)
            let answer = try #require(
                metrics.view.response(
                    method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
            let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] ?? [:]
            let endpoints = object["endpoints"] as? [[String: Any]] ?? []
            let routes = Set(endpoints.compactMap { $0["route"] as? String })
            seenRoutes.withLock { $0 = routes }
        }
        let records = exporter.records
        let unmatched = try #require(records.first { $0.request.target == "/no/such/path" })
        #expect(unmatched.request.route == nil && unmatched.response?.status == 404)
        let missing = try #require(records.first { $0.request.target == "/orders/9999" })
        #expect(missing.request.route == "/orders/{id}" && missing.response?.status == 404)
        // The body the client got from HTTPError, not an empty one.
        #expect(missing.responseText.contains("order not found"))
        let routes = seenRoutes.withLock { $0 }
        #expect(routes.contains("(unmatched)") && routes.contains("/orders/{id}"))
        #expect(!routes.contains("NotFound") && !routes.contains("/no/such/path"))
    }

    @Test func bodiesReachTheClientByteForByteWithTheirFraming() async throws {
        // The same requests against the example with and without the
        // middleware: same status, same headers that frame the body, same bytes.
        struct Seen: Sendable, Equatable { var status: Int; var length: String?; var chunked: Bool; var body: [UInt8] }
        let paths = ["/orders/3", "/stream?chunks=200", "/stream?chunks=0", "/proxy?to=/orders/4"]
        let results = Mutex<[Bool: [Seen]]>([:])
        for instrumented in [true, false] {
            let exporter = CollectingExporter()
            try await withExample(configuration(exporter, maxBodyBytes: 100), instrumented: instrumented) { client, _ in
                var seen: [Seen] = []
                for path in paths {
                    try await client.execute(uri: path, method: .get) { response in
                        seen.append(
                            Seen(
                                status: response.status.code, length: response.headers[.contentLength],
                                chunked: response.headers[.transferEncoding] == "chunked", body: Array(buffer: response.body)))
                    }
                }
                results.withLock { $0[instrumented] = seen }
            }
            if instrumented {
                let records = await exporter.waitForRecords(atLeast: paths.count + 2)  // the proxy's outgoing call and its target
                let streamed = try #require(records.first { $0.request.target == "/stream?chunks=200" })
                #expect(streamed.responseBody.size == (0..<200).map { "chunk \($0)\n".utf8.count }.reduce(0, +))
                #expect(streamed.responseBody.bytes.count == 100 && streamed.responseBody.isTruncated)
            }
        }
        let with = results.withLock { $0[true] ?? [] }, without = results.withLock { $0[false] ?? [] }
        #expect(with == without)
        #expect(with.first?.length != nil && with[1].chunked && with[1].body.count > 1_000)
    }

    @Test func bodiesOfKnownLengthAreRecordedOnEitherSideOfTheInMemoryLimit() async throws {
        // Written in pieces with a declared length: a small one is gathered
        // before it is written, a long one recorded as it is written; the
        // client gets the same bytes and length either way.
        let small = (0..<4).map { "piece \($0);" }.joined()
        let long = String(repeating: "0123456789abcdef", count: 1_500)  // 24,000 bytes
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: configuration(exporter, maxBodyBytes: 100_000))
        for instrumented in [true, false] {
            let router = Router()
            if instrumented { router.add(middleware: APIMetricsMiddleware(metrics)) }
            for (path, text) in [("/small", small), ("/long", long)] {
                router.get(RouterPath(path)) { _, _ -> Response in
                    let bytes = Array(text.utf8)
                    return Response(
                        status: .ok, headers: [.contentType: "text/plain"],
                        body: ResponseBody(contentLength: bytes.count) { writer in
                            for start in stride(from: 0, to: bytes.count, by: 5_000) {
                                try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 5_000, bytes.count)]))
                            }
                            try await writer.finish(nil)
                        })
                }
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                for (path, text) in [("/small", small), ("/long", long)] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.headers[.contentLength] == "\(text.utf8.count)")
                        #expect(String(buffer: response.body) == text)
                    }
                }
            }
        }
        let runner = Task { try await metrics.run() }
        let records = await exporter.waitForRecords(atLeast: 2)
        await metrics.shutdown(timeout: .seconds(30))
        try await runner.value
        #expect(records.first { $0.request.target == "/small" }?.responseText == small)
        #expect(records.first { $0.request.target == "/long" }?.responseText == long)
        #expect(records.count == 2)
    }

    @Test func theRequestBodyIsCappedWhileTheHandlerGetsAllOfIt() async throws {
        let exporter = CollectingExporter()
        let item = String(repeating: "x", count: 5_000)
        let body = #"{"item":"\#(item)","quantity":2}"#
        try await withExample(configuration(exporter, maxBodyBytes: 64)) { client, _ in
            try await client.execute(
                uri: "/orders", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .created)
                #expect(String(buffer: response.body).contains(item))
            }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.request.route == "/orders")
        #expect(record.requestBody.size == body.utf8.count)
        // JSON cut at the capture limit cannot be read whole: redaction fails
        // closed and keeps the marker in its place.
        #expect(
            record.requestBody.bytes == Array(RedactionOptions.default.unparseableBodyMarker.utf8)
                && record.requestBody.isTruncated)
        #expect(record.response?.status == 201)
    }

    @Test func errorsAreRecordedAsTheClientReceivedThem() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, _ in
            try await client.execute(uri: "/fail", method: .get) { #expect($0.status == .internalServerError) }
            try await client.execute(
                uri: "/orders", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"item":"lamp","quantity":0}"#)
            ) { #expect($0.status == .unprocessableContent) }
            try await client.execute(
                uri: "/orders", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "not json")
            ) { #expect($0.status == .badRequest) }
        }
        let records = await exporter.waitForRecords(atLeast: 3)
        let failed = try #require(records.first { $0.request.target == "/fail" })
        #expect(failed.response?.status == 500 && failed.responseBody.size == 0)
        #expect(failed.errors.first?.type == "ExampleFailure" && failed.errors.first?.message == "the example failed on purpose")
        #expect(failed.request.route == "/fail")
        let invalid = try #require(records.first { $0.response?.status == 422 })
        #expect(invalid.responseText.contains("quantity must be from 1 to 1000"))
        #expect(invalid.response?.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(invalid.errors.isEmpty)  // a client error, not a failure of the server
        #expect(records.contains { $0.response?.status == 400 && $0.request.route == "/orders" })
    }

    @Test func consumersAreIdentifiedAndSecretsRedacted() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, _ in
            try await client.execute(
                uri: "/orders/1?api_key=SECRET-QUERY", method: .get,
                headers: [.init("X-API-Key")!: "key-acme", .authorization: "Bearer SECRET-TOKEN", .cookie: "sid=SECRET-COOKIE"]
            ) { #expect($0.status == .ok) }
        }
        let record = try #require(await exporter.waitForRecords(atLeast: 1).first)
        #expect(record.consumer?.id == "acme")
        let text = "\(record.request.target) \(record.request.headers.fields)"
        #expect(!text.contains("SECRET"))
        #expect(record.request.headers["authorization"] == "[REDACTED]")
    }

    @Test func theHandlersOutgoingCallsLinkToItsExchange() async throws {
        let exporter = CollectingExporter()
        try await withExample(configuration(exporter)) { client, _ in
            try await client.execute(uri: "/proxy?to=/orders/5", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""id":5"#))
            }
        }
        let records = await exporter.waitForRecords(atLeast: 3)
        let proxy = try #require(records.first { $0.request.route == "/proxy" })
        let outgoing = try #require(records.first { $0.direction == .outgoing })
        let served = try #require(records.first { $0.direction == .incoming && $0.request.route == "/orders/{id}" })
        #expect(outgoing.parentID == proxy.id)
        #expect(outgoing.traceID == proxy.traceID && served.traceID == proxy.traceID)
    }

    @Test func whileTheQueueIsFullCallsAreShedButEveryOneCounts() async throws {
        let exporter = CollectingExporter()
        var config = configuration(exporter)
        config.queue = .init(maxEvents: 3, maxBytes: 1 << 20)
        let metrics = try APIMetricsService(configuration: config)
        let router = ExampleServer.router(metrics: metrics, baseURL: { "" })
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        // No sender runs: the queue fills after three calls.
        try await app.test(.live) { client in
            for index in 0..<20 {
                try await client.execute(uri: index % 4 == 0 ? "/stream?chunks=5" : "/orders/\(index + 1)", method: .get) {
                    #expect($0.status == .ok)
                }
            }
        }
        let answer = try #require(
            metrics.view.response(
                method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
        let api = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
        #expect(api["requests"] as? Int == 20)
        let endpoints = api["endpoints"] as? [[String: Any]] ?? []
        #expect(endpoints.first { $0["route"] as? String == "/stream" }?["requests"] as? Int == 5)
        #expect(metrics.statistics.dropped == 17)
        await metrics.shutdown(timeout: .seconds(30))
    }
}
