public import APIMetricsWire

// Real-world HTTP/1.1 traffic and the means to cut and mutate it, shared by
// the wire tap's tests and the `apimetrics-fuzz` executable.

/// One connection's traffic: what the server read, what it wrote, in order.
public enum WireStep: Sendable {
    /// Bytes the server read.
    case inbound(String)
    case outbound(String)
    case inboundBytes([UInt8])
    case outboundBytes([UInt8])
    case close

    /// The step's bytes.
    public var bytes: [UInt8] {
        switch self {
        case let .inbound(text), let .outbound(text): return Array(text.utf8)
        case let .inboundBytes(bytes), let .outboundBytes(bytes): return bytes
        case .close: return []
        }
    }

    /// The same direction with other bytes.
    public func with(_ bytes: [UInt8]) -> WireStep {
        switch self {
        case .inbound, .inboundBytes: return .inboundBytes(bytes)
        case .outbound, .outboundBytes: return .outboundBytes(bytes)
        case .close: return .close
        }
    }
}

/// A small, seedable random generator, so that every fuzz run can be replayed.
public struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    /// Starts from `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Real-world traffic: what curl, browsers, proxies, Go and Python clients
/// send, and what servers answer.
/// Each case: a name, the traffic, and one summary line per exchange.
public let wireCases: [(name: String, steps: [WireStep], expected: [String])] =
    baseCases
    + resyncCases.map { ($0.name, $0.steps, $0.expected) }

private let baseCases: [(name: String, steps: [WireStep], expected: [String])] = [
    (
        "curl GET",
        [
            .inbound("GET /orders/1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"),
            .outbound("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"id\":1}"),
            .close,
        ], ["GET /orders/1 → 200 req=0 res=8:{\"id\":1}"]
    ),
    (
        "curl POST with Expect: 100-continue",
        [
            .inbound(
                "POST /orders HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5.0\r\nContent-Type: application/json\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n"
            ),
            .outbound("HTTP/1.1 100 Continue\r\n\r\n"),
            .inbound(#"{"item":"a"}"#),
            .outbound("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
            .close,
        ], [#"POST /orders → 201 req=12:{"item":"a"} res=2:ok"#]
    ),
    (
        "Chrome GET, chunked response with extensions and trailers",
        [
            .inbound(
                "GET /feed?page=2 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"124\"\r\nUpgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: a=b\r\n\r\n"
            ),
            .outbound(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nExpires: never\r\n\r\n"
            ),
            .close,
        ], ["GET /feed?page=2 → 200 req=0 res=12:hello, world"]
    ),
    (
        "Go client chunked upload, 204",
        [
            .inbound(
                "POST /upload HTTP/1.1\r\nHost: api\r\nUser-Agent: Go-http-client/1.1\r\nTransfer-Encoding: chunked\r\nAccept-Encoding: gzip\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"
            ),
            .outbound("HTTP/1.1 204 No Content\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n\r\n"),
            .close,
        ], ["POST /upload → 204 req=23:Wikipedia in\r\n\r\nchunks. res=0"]
    ),
    (
        "Python requests, three pipelined requests on one connection",
        [
            .inbound(
                "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: python-requests/2.31.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
            ),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nNF"),
            .outbound("HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nC"),
            .close,
        ], ["GET /a → 200 req=0 res=1:A", "GET /b → 404 req=0 res=2:NF", "POST /c → 201 req=3:xyz res=1:C"]
    ),
    (
        "HEAD then GET on one keep-alive connection",
        [
            .inbound("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n"),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
            .inbound("GET /file HTTP/1.1\r\nHost: h\r\n\r\n"),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfile"),
            .close,
        ], ["HEAD /file → 200 req=0 res=0", "GET /file → 200 req=0 res=4:file"]
    ),
    (
        "304 Not Modified",
        [
            .inbound("GET /logo.png HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"abc\"\r\n\r\n"),
            .outbound("HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 5000\r\n\r\n"),
            .inbound("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            .close,
        ], ["GET /logo.png → 304 req=0 res=0", "GET /next → 200 req=0 res=0"]
    ),
    (
        "HTTP/1.0 close-delimited response",
        [
            .inbound("GET /old HTTP/1.0\r\n\r\n"),
            .outbound("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil"),
            .outbound(" the end"),
            .close,
        ], ["GET /old → 200 req=0 res=13:until the end"]
    ),
    (
        "WebSocket upgrade",
        [
            .inbound(
                "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ),
            .inboundBytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]),
            .outbound(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            ),
            .outboundBytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]),
            .inbound("GET /not-http HTTP/1.1\r\n\r\n"),
            .close,
        ], ["GET /chat → 101 req=0 res=0 switched"]
    ),
    (
        "CONNECT through a proxy",
        [
            .inbound("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: Keep-Alive\r\n\r\n"),
            .outbound("HTTP/1.1 200 Connection Established\r\n\r\n"),
            .inboundBytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC]),
            .outboundBytes([0x16, 0x03, 0x03, 0x00, 0x7A]),
            .close,
        ], ["CONNECT example.com:443 → 200 req=0 res=0 switched"]
    ),
    (
        "An upgrade the server declines, then a pipelined request",
        [
            .inbound(
                "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n"
            ),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"),
            .close,
        ], ["GET /ws → 200 req=0 res=2:no", "GET /after → 200 req=0 res=3:yes"]
    ),
    (
        "An Upgrade request with a body, declined, then a pipelined request",
        [
            .inbound(
                "POST /up HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 5\r\n\r\nhelloGET /after HTTP/1.1\r\nHost: h\r\n\r\n"
            ),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"),
            .close,
        ], ["POST /up → 200 req=5:hello res=2:no", "GET /after → 200 req=0 res=3:yes"]
    ),
    (
        "An Upgrade request with a body, switched",
        [
            .inbound("POST /up HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 5\r\n\r\nhello"),
            .outbound("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
            .inboundBytes([0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]),
            .outboundBytes([0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00]),
            .close,
        ], ["POST /up → 101 req=5:hello res=0 switched"]
    ),
    (
        "The server answers 413 before the upload ends, and the client sends the rest",
        [
            .inbound("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhalf"),
            .outbound("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .inbound("-rest!"),
            .close,
        ], ["POST /upload → 413 req=10:half-rest! res=0"]
    ),
    (
        "The server answers 413 before the upload ends, and the client goes",
        [
            .inbound("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhalf"),
            .outbound("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /upload → 413 req=4:half res=0 !MalformedRequest"]
    ),
    (
        "A proxy's absolute-form request",
        [
            .inbound(
                "GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\nVia: 1.1 squid\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
            ),
            .outbound("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["GET http://example.com/a?b=1 → 502 req=0 res=0"]
    ),
    (
        "Bare LF line endings, refused as a strict server refuses them",
        [
            .inbound("\r\nGET /lf HTTP/1.1\nHost: h\n\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["GET /lf → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "Content-Length beside Transfer-Encoding: chunked (smuggling)",
        [
            .inbound(
                "POST /smuggle HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: h\r\n\r\n"
            ),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /smuggle → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A bare CR hiding a header inside another one",
        [
            .inbound("GET /cr HTTP/1.1\r\nHost: h\r\nx:\rTransfer-Encoding: chunked\r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["GET /cr → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "An empty Content-Length",
        [
            .inbound("POST /empty HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /empty → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A Content-Length list of equal values",
        [
            .inbound("POST /list HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /list → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A Content-Length with a trailing comma",
        [
            .inbound("POST /comma HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\nhello"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /comma → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "Two Content-Length fields",
        [
            .inbound("POST /twice HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /twice → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A chunk size followed by a space",
        [
            .inbound("POST /sp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n0\r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /sp → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A space before a chunk extension",
        [
            .inbound("POST /ext HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /ext → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A chunk line ended by a bare LF",
        [
            .inbound("POST /chunklf HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["POST /chunklf → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "The client goes away before any response",
        [
            .inbound("POST /orders HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhalf"),
            .close,
        ], ["POST /orders → none req=4:half res=0 !MalformedRequest !NoResponse"]
    ),
    (
        "Garbage, then the server's 400",
        [
            .inboundBytes([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, 0x0D, 0x0A]),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .close,
        ], ["INVALID  → 400 req=0 res=0 !MalformedRequest"]
    ),
    (
        "A header section past the limit gets the server's 431",
        [
            .inbound("GET /big HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n"),
            .outbound("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n"),
            .close,
        ], ["GET /big → 431 req=0 res=0 !MalformedRequest"]
    ),
]

/// How each step's bytes are cut before they reach the tap.
public enum WireSplit: Sendable {
    /// Every step in one call.
    case whole
    /// One byte a call.
    case bytewise
    /// Pieces of 1 to 23 bytes, from this seed.
    case random(UInt64)
    /// Each step in two pieces, cut after this many bytes (whole when
    /// shorter).
    case at(Int)
}

/// Plays the steps through `tap`, in order, each step cut as `split` says.
///
/// - Parameters:
///   - steps: the stream's steps, in order: bytes the server read or wrote,
///     or the connection's close.
///   - tap: the tap the bytes are handed to.
///   - split: how each step's bytes are cut before they reach the tap.
public func play(_ steps: [WireStep], into tap: WireTap, split: WireSplit) {
    var generator = SplitMix(seed: { if case let .random(seed) = split { return seed } else { return 0 } }())
    for step in steps {
        if case .close = step {
            tap.close()
            continue
        }
        let bytes = step.bytes
        var start = 0
        while start < bytes.count {
            let length: Int
            switch split {
            case .whole: length = bytes.count
            case .bytewise: length = 1
            case .random: length = Int(generator.next() % 23) + 1
            case let .at(cut): length = start == 0 && cut > 0 && cut < bytes.count ? cut : bytes.count - start
            }
            let piece = bytes[start..<min(bytes.count, start + length)]
            switch step {
            case .inbound, .inboundBytes: tap.inbound(piece)
            default: tap.outbound(piece)
            }
            start += length
        }
    }
}

/// One fuzz stream: every tenth pure noise, the others a small corpus case
/// with bytes flipped, dropped, inserted or cut. Always ends with a close.
public func fuzzStream(_ iteration: Int, using generator: inout SplitMix) -> [WireStep] {
    if iteration % 10 == 0 {
        var steps: [WireStep] = (0..<Int(generator.next() % 4 + 1)).map { _ in
            let bytes = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            return generator.next() % 2 == 0 ? .inboundBytes(bytes) : .outboundBytes(bytes)
        }
        steps.append(.close)
        return steps
    }
    var steps = smallCases[Int(generator.next() % UInt64(smallCases.count))]
    let target = Int(generator.next() % UInt64(steps.count))
    var bytes = steps[target].bytes
    for _ in 0..<Int(generator.next() % 4 + 1) where !bytes.isEmpty {
        let at = Int(generator.next() % UInt64(bytes.count))
        switch generator.next() % 4 {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
        case 1: bytes.remove(at: at)
        case 2: bytes.insert(Array("\r\n: 0;".utf8)[Int(generator.next() % 6)], at: at)
        default: bytes = Array(bytes[..<at])
        }
    }
    steps[target] = steps[target].with(bytes)
    return steps
}

private let smallCases: [[WireStep]] = wireCases.map(\.steps).filter { $0.reduce(0) { $0 + $1.bytes.count } < 4096 }
