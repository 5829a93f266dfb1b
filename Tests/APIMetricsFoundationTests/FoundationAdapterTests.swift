import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SocketServer
import Synchronization
import Testing
import APIMetricsTestSupport
import APIMetricsTesting
@testable import APIMetrics
@testable import APIMetricsFoundation

@Suite("Foundation adapter")
struct FoundationAdapterTests {
    /// A downstream service that answers with the traceparent it received.
    private func makeDownstream() throws -> SocketHTTPServer {
        let server = SocketHTTPServer { request, writer in
            let traceparent = request.header("traceparent") ?? ""
            if request.target.hasPrefix("/teapot") {
                writer.write(.json(418, #"{"tea":true}"#))
            } else {
                writer.write(.json(200, #"{"traceparent":"\#(traceparent)","size":\#(request.body.count)}"#))
            }
        }
        try server.start()
        return server
    }

    @Test func outgoingCallsAreLinkedToTheIncomingExchangeAndCarryTraceparent() async throws {
        let downstream = try makeDownstream()
        defer { downstream.stop() }
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.capture.isBodyCaptureEnabled = true
        let metrics = try APIMetricsService(configuration: config)
        let client = InstrumentedURLSession(recorder: metrics.recorder)
        let seen = Mutex("")
        let handler = metrics.recorder.instrument(route: "/proxy") { _ in
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(downstream.port)/orders/1")!)
            request.setValue("Bearer secret-downstream-token", forHTTPHeaderField: "Authorization")
            let (data, _) = try await client.data(for: request)
            let echoed = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["traceparent"] as? String ?? ""
            seen.withLock { $0 = echoed }
            var upload = URLRequest(url: URL(string: "http://127.0.0.1:\(downstream.port)/teapot")!)
            upload.httpMethod = "POST"
            upload.setValue("application/json", forHTTPHeaderField: "Content-Type")
            _ = try await client.upload(for: upload, from: Data(#"{"a":1}"#.utf8))
            return ServerResponse(status: 200, body: Array(data))
        }
        _ = try await handler(ServerRequest(method: "GET", target: "/proxy?to=/orders/1"))
        await metrics.shutdown(timeout: .seconds(60))

        let records = exporter.events.map(\.record)
        let incoming = try #require(records.first { $0.direction == .incoming })
        let outgoing = records.filter { $0.direction == .outgoing }
        #expect(outgoing.count == 2)
        for call in outgoing {
            #expect(call.parentID == incoming.id)
            #expect(call.traceID == incoming.traceID)
        }
        let get = try #require(outgoing.first { $0.request.method == "GET" })
        #expect(get.request.target == "http://127.0.0.1:\(downstream.port)/orders/1")
        #expect(get.response?.status == 200)
        #expect(get.responseBody.size > 0)
        #expect(seen.withLock { $0 } == "00-\(incoming.traceID ?? "")-\(get.id.spanID)-01")
        let post = try #require(outgoing.first { $0.request.method == "POST" })
        #expect(post.response?.status == 418)
        #expect(post.requestBody.bytes == Array(#"{"a":1}"#.utf8))
        // Outgoing events are redacted like any other.
        let json = String(decoding: try #require(exporter.events.first { $0.record.id == get.id }).json, as: UTF8.self)
        #expect(!json.contains("secret-downstream-token"))
        #expect(json.contains(#""direction":"outgoing""#))
        #expect(json.contains(#""parent_id":"\#(incoming.id)""#))
    }

    @Test func aFailedCallIsRecordedWithItsErrorAndNoResponse() async throws {
        let closed = try makeDownstream()
        let port = closed.port
        closed.stop()
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let client = InstrumentedURLSession(recorder: metrics.recorder)
        await #expect(throws: (any Error).self) {
            _ = try await client.data(for: URLRequest(url: URL(string: "http://127.0.0.1:\(port)/gone")!, timeoutInterval: 5))
        }
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.direction == .outgoing)
        #expect(record.response == nil)
        #expect(record.errors.count == 1)
        #expect(record.parentID == nil)
    }

    @Test func recordsAnExchangeFromURLRequestAndHTTPURLResponse() async throws {
        let exporter = CollectingExporter()
        var config = testConfiguration([.custom(exporter)])
        config.capture.isBodyCaptureEnabled = true
        let metrics = try APIMetricsService(configuration: config)
        var request = URLRequest(url: URL(string: "https://api.example.com/orders/7?expand=items")!)
        request.httpMethod = "PUT"
        request.httpBody = Data(#"{"q":2}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let response = try #require(
            HTTPURLResponse(
                url: request.url!, statusCode: 202, httpVersion: "HTTP/1.1", headerFields: ["Content-Type": "application/json"]))
        let id = metrics.recorder.record(
            request: request, response: response, responseBody: Data(#"{"ok":true}"#.utf8),
            route: "/orders/{id}", startedAt: .now())
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.id == id)
        #expect(record.request.method == "PUT")
        #expect(record.request.target == "/orders/7?expand=items")
        #expect(record.request.route == "/orders/{id}")
        #expect(record.requestBody.size == 7)
        #expect(record.response?.status == 202)
        #expect(record.responseBody.bytes == Array(#"{"ok":true}"#.utf8))
    }
}
