import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SocketServer
import Synchronization
import Testing
@testable import APIMetrics
@testable import APIMetricsFoundation

@Suite("Trace context")
struct TraceContextTests {
    @Test func readsAValidTraceparent() throws {
        let context = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.parentSpanID == "00f067aa0ba902b7")
        #expect(context.flags == 1)
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future") != nil)
    }

    @Test(arguments: [
        "", "00", "garbage",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // version 00 has no more fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    // short trace id
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ])
    func ignoresAnInvalidTraceparent(value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test func incomingExchangesKeepAValidTraceAndIgnoreAnInvalidOne() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let valid = metrics.recorder.begin(RequestHead(method: "GET", target: "/a", headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]))
        let invalid = metrics.recorder.begin(RequestHead(method: "GET", target: "/b", headers: ["traceparent": "00-zzz"]))
        #expect(valid.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(invalid.traceID == invalid.id.description)
        valid.finish()
        invalid.finish()
        await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.map(\.record.traceID) == ["4bf92f3577b34da6a3ce929d0e0e4736", invalid.id.description])
    }
}

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
        let response = try #require(HTTPURLResponse(
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

@Suite("Error reports")
struct ErrorReportTests {
    struct Inner: Error, CustomStringConvertible { var description: String { "disk full" } }
    struct Middle: Error, UnderlyingErrorProviding, CustomStringConvertible {
        var underlyingError: (any Error)? { Inner() }
        var description: String { "could not write" }
    }
    struct Outer: Error, UnderlyingErrorProviding, CustomStringConvertible {
        var underlyingError: (any Error)? { Middle() }
        var description: String { "could not save the order" }
    }
    struct Loop: Error, UnderlyingErrorProviding {
        var underlyingError: (any Error)? { Loop() }
    }

    @Test func theChainTheLocationAndSeveralErrorsAreKept() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let handler = metrics.recorder.instrument { _ in
            reportError(Outer())
            let decoding = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad", underlyingError: Inner()))
            reportError(decoding)
            reportError(Loop())
            return ServerResponse(status: 200)
        }
        _ = try await handler(ServerRequest(method: "GET", target: "/x"))
        #expect(!reportError(Inner()))  // no exchange outside a handler
        await metrics.shutdown(timeout: .seconds(60))
        let record = try #require(exporter.events.first?.record)
        #expect(record.errors.count == 3)
        let outer = record.errors[0]
        #expect(outer.type == "Outer")
        #expect(outer.causes.map(\.type) == ["Middle", "Inner"])
        #expect(outer.causes.map(\.message) == ["could not write", "disk full"])
        #expect(outer.location?.hasPrefix("APIMetricsTests/FoundationAdapterTests.swift:") == true)
        #expect(record.errors[1].causes.map(\.type) == ["Inner"])
        #expect(record.errors[2].causes.count == RecordedError.maxCauses)
        let first = try #require(exporter.events.first)
        let json = try #require(jsonObject(first.json))
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect((errors[0]["causes"] as? [[String: Any]])?.count == 2)
        #expect(errors[0]["location"] is String)
    }

    @Test func anExplicitExchangeCanBeNamed() async throws {
        let exporter = CollectingExporter()
        let metrics = try APIMetricsService(configuration: testConfiguration([.custom(exporter)]))
        let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/y"))
        #expect(reportError(Inner(), to: exchange))
        exchange.finish()
        await metrics.shutdown(timeout: .seconds(60))
        #expect(exporter.events.first?.record.errors.first?.message == "disk full")
    }
}
