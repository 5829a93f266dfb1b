// Finding 9 of issue 25 and its neighbours: requests the tap judges
// malformed while the server answers them (and the requests after them),
// and the reverse, each followed by normal requests on the same connection.
// Every case says how many responses the server sent: the tap must record
// exactly that many calls.

/// Five normal requests, pipelined after the case's first.
private let fiveRequests = (1...5).map { "GET /orders/\($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined()
private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
private let badRequest = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
private let fiveRecorded = (1...5).map { "GET /orders/\($0) → 200 req=0 res=2:ok wire=resynchronised" }

/// A request a lenient server (the demo's) answers and the tap refuses,
/// then five normal ones: six responses, six calls.
private func answeredAnyway(_ name: String, _ request: String, first: String) -> ResyncCase {
    (name + ", then five requests", sixAnswered(request + fiveRequests), [first] + fiveRecorded, 6)
}

/// The client's bytes, then six responses, then the close.
private func sixAnswered(_ inbound: String) -> [WireStep] {
    var steps: [WireStep] = [.inbound(inbound)]
    for _ in 0..<6 { steps.append(.outbound(ok)) }
    steps.append(.close)
    return steps
}

/// One case: its name, the traffic, the summary of each call recorded, and
/// how many responses the server sent.
public typealias ResyncCase = (name: String, steps: [WireStep], expected: [String], responses: Int)

/// The cases in which the tap reads requests otherwise than the server.
public let resyncCases: [ResyncCase] = answeredCases + serverLedCases + chunkExtensionCases + contentLengthCases

private let plusSecond: String = "hiGET /orders/1 → 200 req=0 res=2:ok wire=resynchronised"
private let plusRecorded: [String] =
    ["POST /plus → 200 req=0 res=2:ok !MalformedRequest", plusSecond] + Array(fiveRecorded.dropFirst())
private let blankRecorded: [String] =
    ["GET /blank → 200 req=0 res=2:ok"] + (1...5).map { "GET /orders/\($0) → 200 req=0 res=2:ok" }
private let manyFields: String = (1...100).map { "X-F\($0): v\r\n" }.joined()
private let longExtension: String = String(repeating: "x", count: 5000)

private let answeredCases: [ResyncCase] = [
    answeredAnyway(
        "A header name holding @", "GET /at HTTP/1.1\r\nHost: h\r\nX@Y: 1\r\n\r\n",
        first: "GET /at → 200 req=0 res=2:ok !MalformedRequest"),
    answeredAnyway(
        "101 header fields",
        "GET /many HTTP/1.1\r\nHost: h\r\n" + manyFields + "\r\n",
        first: "GET /many → 200 req=0 res=2:ok !MalformedRequest"),
    answeredAnyway(
        "Transfer-Encoding: chunked, identity",
        "POST /te HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        first: "POST /te → 200 req=0 res=2:ok !MalformedRequest"),
    // Where the refused request's body ends cannot be known: the next
    // request line is found after its two bytes, read as one method.
    (
        "Content-Length: +2, then five requests",
        sixAnswered("POST /plus HTTP/1.1\r\nHost: h\r\nContent-Length: +2\r\n\r\nhi" + fiveRequests), plusRecorded, 6
    ),
    answeredAnyway(
        "Spaces around a chunk size",
        "POST /sp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n 5 \r\nhello\r\n0\r\n\r\n",
        first: "POST /sp → 200 req=0 res=2:ok !MalformedRequest"),
    answeredAnyway(
        "A 5 KB chunk extension",
        "POST /ext HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;e=\(longExtension)\r\nhello\r\n0\r\n\r\n",
        first: "POST /ext → 200 req=0 res=2:ok !MalformedRequest"),
    answeredAnyway(
        "< in the method", "G<T /lt HTTP/1.1\r\nHost: h\r\n\r\n",
        first: "INVALID  → 200 req=0 res=2:ok !MalformedRequest"),
    answeredAnyway(
        "Two spaces in the request line", "GET  /two HTTP/1.1\r\nHost: h\r\n\r\n",
        first: "INVALID  → 200 req=0 res=2:ok !MalformedRequest"),
]

private let serverLedCases: [ResyncCase] = [
    // The reverse: the server answers once and closes; the requests behind
    // it were never served.
    (
        "HTTP/1.9, answered once with Connection: close, then five requests",
        [
            .inbound("GET /v HTTP/1.9\r\nHost: h\r\n\r\n" + fiveRequests),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"), .close,
        ],
        ["GET /v → 200 req=0 res=2:ok"], 1
    ),
    (
        "HTTP/1.9 answered by an HTTP/1.0 response without keep-alive",
        [
            .inbound("GET /v HTTP/1.9\r\nHost: h\r\n\r\n" + fiveRequests),
            .outbound("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"), .close,
        ],
        ["GET /v → 200 req=0 res=2:ok"], 1
    ),
    (
        "Two leading blank lines refused with 400, then five requests",
        [.inbound("\r\n\r\nGET /blank HTTP/1.1\r\nHost: h\r\n\r\n" + fiveRequests), .outbound(badRequest), .close],
        ["GET /blank → 400 req=0 res=0"], 1
    ),
    (
        "One leading blank line (RFC 9112 §2.2), then five requests",
        sixAnswered("\r\nGET /blank HTTP/1.1\r\nHost: h\r\n\r\n" + fiveRequests), blankRecorded, 6
    ),
    // A bare LF or CR before a request line is part of it to a server.
    (
        "A bare LF before a request line",
        [.inbound("\nGET /lf HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), .outbound(ok), .outbound(ok), .close],
        ["INVALID  → 200 req=0 res=2:ok !MalformedRequest", "GET /next → 200 req=0 res=2:ok wire=resynchronised"], 2
    ),
    (
        "A bare CR before a HEAD request line, answered as another method",
        [.inbound("\rHEAD /file HTTP/1.1\r\n\r\n"), .outbound(ok), .close],
        ["INVALID  → 200 req=0 res=2:ok !MalformedRequest"], 1
    ),
    // The server's side leads wherever the tap cannot follow.
    (
        "The server answers 431 before the head ends",
        [
            .inbound("GET /big HTTP/1.1\r\nHost: h\r\nX-Big: aaaa"),
            .outbound("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            .inbound("aaaa\r\n\r\n"), .close,
        ],
        ["GET /big → 431 req=0 res=0 !MalformedRequest"], 1
    ),
    (
        "A 408 on an idle connection",
        [.outbound("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), .close],
        ["INVALID  → 408 req=0 res=0 !UnparsedRequest"], 1
    ),
    (
        "More responses than requests read after a refused one",
        [.inbound("GET /a HTTP/1.1\r\nX@Y: 1\r\n\r\nGARBAGE\r\n"), .outbound(ok), .outbound(ok), .close],
        ["GET /a → 200 req=0 res=2:ok !MalformedRequest", "INVALID  → 200 req=0 res=2:ok !UnparsedRequest"], 2
    ),
    (
        "Requests behind an unanswered one are not calls",
        [.inbound("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"), .outbound(ok), .close],
        ["GET /a → 200 req=0 res=2:ok", "GET /b → none req=0 res=0 !NoResponse"], 1
    ),
    (
        "A request after a response that closes is not read",
        [
            .inbound("GET /a HTTP/1.1\r\n\r\n"),
            .outbound("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n"),
            .inbound("GET /b HTTP/1.1\r\n\r\n"), .close,
        ],
        ["GET /a → 200 req=0 res=0"], 1
    ),
    // Chunk extensions by RFC 9112 §7.1.1: what it allows, and what not.
    (
        "Chunk extensions as the grammar allows them",
        [
            .inbound(
                "POST /ce HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a;b = \"q\\\"u;o\\\\te\" ;c=d\r\nhello\r\n0;z=\"\"\r\n\r\n"
            ),
            .outbound(ok), .close,
        ],
        ["POST /ce → 200 req=5:hello res=2:ok"], 1
    ),
]

private let refusedExtensions: [(String, String)] = [
    ("a ; with no name", "5;\r\n"), ("a ; with a blank name", "5; =x\r\n"), ("an = with no value", "5;a=\r\n"),
    ("an unbalanced quote", "5;a=\"open\r\n"), ("a quote inside a token", "5;a=b\"c\"\r\n"),
    ("blank space ending the line", "5;a=b \r\n"), ("a control byte in a quoted value", "5;a=\"\u{1}\"\r\n"),
    ("a value after a quoted one", "5;a=\"b\"c\r\n"),
]

private let chunkExtensionCases: [ResyncCase] = refusedExtensions.map { name, line -> ResyncCase in
    (
        "A chunk extension with \(name), refused",
        [
            .inbound("POST /ce HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(line)hello\r\n0\r\n\r\n"), .outbound(badRequest),
            .close,
        ],
        ["POST /ce → 400 req=0 res=0 !MalformedRequest"], 1
    )
}

private let contentLengthCases: [ResyncCase] = [
    (
        "A Content-Length past fifteen digits, refused",
        [.inbound("POST /big HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n\r\n"), .outbound(badRequest), .close],
        ["POST /big → 400 req=0 res=0 !MalformedRequest"], 1
    )
]
