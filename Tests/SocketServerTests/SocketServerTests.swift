import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
        client.send(
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\n\r\n"
        )
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
        client.send(
            "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
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

@Suite("Socket HTTP server limits")
struct SocketServerLimitTests {
    private func makeServer(
        _ limits: SocketServerLimits, headHandler: SocketHTTPServer.HeadHandler? = nil
    ) throws -> SocketHTTPServer {
        let server = SocketHTTPServer(limits: limits, headHandler: headHandler) { request, writer in
            writer.write(.json(200, #"{"target":"\#(request.target)","size":\#(request.body.count)}"#))
        }
        try server.start()
        return server
    }

    @Test func connectionsPastTheLimitAreClosedAtOnceAndCounted() throws {
        let server = try makeServer(SocketServerLimits(maxConnections: 2, headTimeout: .seconds(30)))
        defer { server.stop() }
        let first = try RawClient(port: server.port)
        let second = try RawClient(port: server.port)
        defer { first.close(); second.close() }
        // Both are being served (each waits for its head) before the third comes.
        let waitEnd = ContinuousClock.now + .seconds(10)
        while server.statistics.open < 2 && ContinuousClock.now < waitEnd { usleep(5_000) }
        let third = try RawClient(port: server.port)
        defer { third.close() }
        #expect(third.waitForClose(timeout: .seconds(10)))
        #expect(server.statistics.refusedAtLimit == 1)
        // The two admitted still work, and a slot freed is taken again.
        first.send("GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(first.read().contains(#""target":"/one""#))
        let end = ContinuousClock.now + .seconds(10)
        while server.statistics.open > 1 && ContinuousClock.now < end { usleep(5_000) }
        let fourth = try RawClient(port: server.port)
        defer { fourth.close() }
        fourth.send("GET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(fourth.read().contains(#""target":"/four""#))
    }

    @Test func aTricklingHeadIsCutAtTheHeadDeadlineNotKeptAliveByEachByte() throws {
        let server = try makeServer(SocketServerLimits(headTimeout: .seconds(1), idleTimeout: .seconds(60)))
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // A byte every 100 ms: each read succeeds, the head never ends. A
        // per-read timeout would keep this connection for ever.
        let head = Array("GET /slow HTTP/1.1\r\nX-Padding: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 200)
        var closed = false
        for byte in head {
            client.send([byte])
            if client.waitForClose(timeout: .milliseconds(100)) {
                closed = true
                break
            }
        }
        #expect(closed, "the server still held the connection after 20 s of trickling")
        #expect(server.statistics.timedOut == 1)
    }

    @Test func aBodyMustArriveWithinTheBodyDeadline() throws {
        let server = try makeServer(SocketServerLimits(bodyTimeout: .seconds(1)))
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        var answer = ""
        for _ in 0..<100 where answer.isEmpty {
            client.send("a")
            var poller = pollfd(fd: client.descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) > 0 { answer = client.read { $0.contains("\r\n\r\n") } }
        }
        #expect(answer.hasPrefix("HTTP/1.1 408"))
    }

    @Test func anIdleKeepAliveConnectionIsClosed() throws {
        let server = try makeServer(SocketServerLimits(idleTimeout: .milliseconds(300)))
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.read { $0.hasSuffix("}") }.contains("/a"))
        #expect(client.waitForClose(timeout: .seconds(10)))
    }

    @Test func theHeadHandlerAnswersBeforeTheBodyIsReadOrContinueIsSent() throws {
        let bodiesRead = Atomic<Int>(0)
        let server = SocketHTTPServer(headHandler: { request, writer in
            guard request.target.hasPrefix("/guarded") else { return }
            writer.write(.json(401, #"{"error":"token"}"#))
        }) { request, writer in
            bodiesRead.add(1, ordering: .relaxed)
            writer.write(.json(200, #"{"size":\#(request.body.count)}"#))
        }
        try server.start()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // 16 MiB announced, not a byte of it sent: the answer comes anyway,
        // with no 100 Continue before it, and the connection closes.
        client.send("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\nExpect: 100-continue\r\n\r\n")
        let text = client.read()
        #expect(text.hasPrefix("HTTP/1.1 401"))
        #expect(!text.contains("100 Continue"))
        #expect(text.contains("Connection: close"))
        #expect(bodiesRead.load(ordering: .relaxed) == 0)
        // A bodyless request answered on its head keeps the connection.
        let other = try RawClient(port: server.port)
        defer { other.close() }
        other.send("GET /guarded HTTP/1.1\r\nHost: x\r\n\r\nGET /open HTTP/1.1\r\nHost: x\r\n\r\n")
        let both = other.read { $0.contains(#""size":0"#) }
        #expect(both.hasPrefix("HTTP/1.1 401") && both.contains("HTTP/1.1 200"))
    }

    @Test func atTheLimitTheConnectionIdleLongestMakesRoom() throws {
        let server = try makeServer(SocketServerLimits(maxConnections: 2, headTimeout: .seconds(30), idleTimeout: .seconds(60)))
        defer { server.stop() }
        // Two keep-alive clients, each served once and then idle: they must
        // not hold the server for their 60 s idle time.
        let first = try RawClient(port: server.port)
        first.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(first.read { $0.hasSuffix("}") }.contains("/first"))
        usleep(50_000)
        let second = try RawClient(port: server.port)
        second.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(second.read { $0.hasSuffix("}") }.contains("/second"))
        defer { first.close(); second.close() }
        let third = try RawClient(port: server.port)
        defer { third.close() }
        third.send("GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(third.read().contains(#""target":"/third""#))
        // The one idle longest was closed for it; the other still serves.
        #expect(first.waitForClose(timeout: .seconds(10)))
        second.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(second.read { $0.hasSuffix("}") }.contains("/again"))
        #expect(server.statistics.evictedIdle == 1 && server.statistics.refusedAtLimit == 0)
    }

    @Test func aPeerThatDoesNotReadHoldsTheConnectionNoLongerThanTheWriteDeadline() throws {
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20)
        let server = SocketHTTPServer(limits: SocketServerLimits(bodyTimeout: .seconds(1))) { _, writer in
            writer.write(SocketResponse(status: 200, body: big))
        }
        try server.start()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        var small: Int32 = 4096
        setsockopt(client.descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        // Pipelined requests, and then nothing read for a while: the first
        // answer cannot be sent whole in its second, so the server gives up
        // on the connection instead of answering the rest one by one.
        client.send(String(repeating: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", count: 50))
        let end = ContinuousClock.now + .seconds(20)
        while server.statistics.open > 0 && ContinuousClock.now < end { usleep(20_000) }
        #expect(server.statistics.open == 0, "the server still holds a connection whose peer does not read")
    }

    @Test func theDefaultConnectionLimitIsWellUnderTheOpenFileLimit() {
        var limit = rlimit()
        #if canImport(Glibc)
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        let connections = SocketServerLimits.defaultMaxConnections()
        #expect((16...1024).contains(connections))
        if limit.rlim_cur >= 64 && limit.rlim_cur < 4096 {
            #expect(UInt64(connections) <= UInt64(limit.rlim_cur) / 4)
        }
    }
}
