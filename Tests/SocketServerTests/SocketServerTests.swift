import Foundation
import SocketServer
import Synchronization
import Testing
import APIMetricsTestSupport

@Suite("Socket HTTP server")
struct SocketServerTests {
    /// Echoes what it read: method, target and body length.
    private func makeServer() throws -> SocketHTTPServer {
        let server = SocketHTTPServer { request, writer in
            let body = #"{"method":"\#(request.method)","target":"\#(request.target)","size":\#(request.body.count)}"#
            writer.write(.json(200, body))
        }
        try server.start()
        return server
    }

    @Test func keepAliveAndPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = client.read { $0.occurrences(of: "HTTP/1.1 200") == 3 && $0.hasSuffix("}") }
        let targets = text.components(separatedBy: "\"target\":\"").dropFirst().map { $0.prefix(2) }
        #expect(targets == ["/a", "/b", "/c"])
        #expect(text.contains(#""size":5"#))
    }

    @Test func chunkedBodiesWithExtensionsAndTrailersAreDecoded() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        let text = client.read { $0.hasSuffix("}") }
        #expect(text.contains(#""size":11"#))
    }

    @Test func expectContinueGetsAnInterimResponse() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        #expect(client.read { $0.contains("\r\n\r\n") }.hasPrefix("HTTP/1.1 100 Continue"))
        client.send("abc")
        #expect(client.read { $0.hasSuffix("}") }.contains(#""size":3"#))
    }

    @Test func oneByteAtATimeIsStillOneRequest() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        for byte in Array("POST /slowly HTTP/1.1\r\nContent-Length: 2\r\n\r\nok".utf8) {
            client.send([byte])
        }
        let text = client.read { $0.hasSuffix("}") }
        #expect(text.contains(#""target":"/slowly","size":2"#))
    }

    @Test(arguments: [
        ("garbage\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\nno colon here\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", "400"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"),
        ("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n", "431"),
        ("POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", "413"),
    ])
    func badInputGetsAClearErrorAndTheServerKeepsServing(input: String, status: String) throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send(input)
        #expect(client.read { $0.contains("\r\n\r\n") }.hasPrefix("HTTP/1.1 \(status)"))
        client.close()
        let next = try RawClient(port: server.port)
        defer { next.close() }
        next.send("GET /still-up HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(next.read { $0.hasSuffix("}") }.contains("/still-up"))
    }

    @Test func connectionCloseIsHonoured() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n")
        let text = client.read()  // until the server closes
        #expect(text.contains("Connection: close"))
        #expect(text.hasSuffix("}"))
    }
}
