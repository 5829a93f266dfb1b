import Foundation
import SocketServer
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

/// Secrets in every place a client can put them go through a real server
/// and real exporters (a collector on loopback and a file); none of them may
/// come out, and the ordinary values around them must.
@Suite("Secrets never leave")
struct SecretsEndToEndTests {
    static let secrets = [
        "SECRET-AUTHZ", "SECRET-PROXY", "SECRET-COOKIE", "SECRET-APIKEY-0123456789", "SECRET-XAUTH",
        "SECRET-QUERY-1", "SECRET-QUERY-2", "SECRET-QUERY-3",
        "SECRET-JSON-1", "SECRET-JSON-2", "SECRET-JSON-3", "SECRET-JSON-4", "SECRET-JSON-5", "SECRET-JSON-6",
        "SECRET-FORM-1", "SECRET-FORM-2",
        "SECRET-RESP-1", "SECRET-RESP-2", "SECRET-RESP-COOKIE",
    ]
    static let visible = [
        "visible-query", "visible-name", "visible-label", "visible-user", "visible-resp", "visible-header", "curl/8.0",
    ]

    @Test func noSecretReachesAnyExporter() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("events.ndjson")
        var config = testConfiguration([.http(endpoint: collector.url), .file(path: file)])
        config.capture.isBodyCaptureEnabled = true
        config.identifyConsumer = .firstMatch([.jwtClaim(), .apiKey()])
        let metrics = try APIMetricsService(configuration: config)
        let handler = metrics.recorder.instrument { request in
            let body: String
            if request.target.hasPrefix("/form") {
                body = #"{"id":"visible-resp"}"#
            } else {
                body = #"{"id":"visible-resp","access_token":"SECRET-RESP-1","nested":{"secret":"SECRET-RESP-2"}}"#
            }
            return ServerResponse(
                status: 200,
                headers: ["Content-Type": "application/json", "Set-Cookie": "sid=SECRET-RESP-COOKIE; HttpOnly"],
                body: Array(body.utf8))
        }
        let server = SocketHTTPServer { request, writer in
            let semaphore = DispatchSemaphore(value: 0)
            let box = ResponseBox()
            Task {
                let response = try? await handler(
                    ServerRequest(
                        method: request.method, target: request.target,
                        headers: HeaderFields(request.headers.map { ($0.name, $0.value) }),
                        body: request.body, clientAddress: request.clientAddress))
                box.set(response)
                semaphore.signal()
            }
            semaphore.wait()
            let response = box.get() ?? ServerResponse(status: 500)
            writer.write(
                SocketResponse(
                    status: response.status, headers: response.headers.fields.map { ($0.name, $0.value) }, body: response.body))
        }
        let port = try server.start()
        defer { server.stop() }

        let json =
            #"{"user":{"name":"visible-name","Password":"SECRET-JSON-1","profile":{"ssn":"SECRET-JSON-2"}},"cards":[{"card_number":"SECRET-JSON-3","cvv":"SECRET-JSON-4","label":"visible-label"}],"refresh_token":"SECRET-JSON-5","deep":[[{"api_key":"SECRET-JSON-6"}]]}"#
        let form = "username=visible-user&password=SECRET-FORM-1&pwd=SECRET-FORM-2"
        let common =
            "Host: api.test\r\nUser-Agent: curl/8.0\r\nAuthorization: Bearer SECRET-AUTHZ\r\nProxy-Authorization: Basic SECRET-PROXY\r\nCookie: session=SECRET-COOKIE\r\nX-API-Key: SECRET-APIKEY-0123456789\r\nX-Auth-Token: SECRET-XAUTH\r\nX-Note: visible-header\r\n"
        // One connection per request, each read to its last byte, so that
        // both exchanges have finished before shutdown.
        let first = try await RawClient.exchange(
            port: port,
            "POST /json?q=visible-query&api_key=SECRET-QUERY-1&Token=SECRET-QUERY-2&access_token=SECRET-QUERY-3 HTTP/1.1\r\n\(common)Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\nConnection: close\r\n\r\n\(json)"
        )
        #expect(first.contains("visible-resp"))
        let second = try await RawClient.exchange(
            port: port,
            "POST /form HTTP/1.1\r\n\(common)Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)"
        )
        #expect(second.contains("visible-resp"))
        let report = await metrics.shutdown(timeout: .seconds(60))
        #expect(report.statistics.exported == 4)

        let outputs: [(String, String)] = [
            ("collector", collector.requests.map { String(decoding: $0.body, as: UTF8.self) }.joined(separator: "\n")),
            ("file", try String(contentsOfFile: file, encoding: .utf8)),
        ]
        for (name, output) in outputs {
            #expect(output.contains("\"url\":\"/json?q=visible-query"), "\(name) lost the url")
            for secret in Self.secrets {
                #expect(!output.contains(secret), "\(secret) reached the \(name)")
            }
            for value in Self.visible {
                #expect(output.contains(value), "\(value) is missing from the \(name)")
            }
            #expect(output.contains("[REDACTED]"))
        }
        let events = collector.acceptedEvents
        #expect(events.count == 2)
        let consumer = events.first?["consumer"] as? [String: Any]
        #expect(consumer?["id"] as? String == "sha256:\(SHA256.hexDigest("SECRET-APIKEY-0123456789"))")
    }
}

private final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var response: ServerResponse?

    func set(_ value: ServerResponse?) {
        lock.lock()
        response = value
        lock.unlock()
    }

    func get() -> ServerResponse? {
        lock.lock()
        defer { lock.unlock() }
        return response
    }
}
