import Foundation
import SocketServer
import Synchronization
import APIMetrics

/// A real HTTP collector on 127.0.0.1 with an ephemeral port that answers
/// each request as its script says and keeps what it received.
package final class TestCollector: Sendable {
    package enum Reply: Sendable {
        case status(Int, headers: [(name: String, value: String)] = [])
        /// Answers with this body instead of `{"ok":true}`.
        case body(Int, headers: [(name: String, value: String)], body: [UInt8])
        /// Closes the connection without answering.
        case disconnect
        /// Answers `status` after waiting `delay`.
        case slow(Duration, status: Int)
        /// Answers 503 only once ``releaseHungRequests()`` or ``stop()`` is called.
        case hang
    }

    package struct Request: Sendable {
        /// The request target, such as `/v1/traces`.
        package var target: String = ""
        /// The request method, such as `POST`.
        package var method: String = ""
        /// When it arrived, from the continuous clock.
        package var receivedAt = ContinuousClock.now
        package var headers: [(name: String, value: String)]
        /// The body as received, before any decompression.
        package var rawBody: [UInt8]
        /// The body after `Content-Encoding: gzip` is undone.
        package var body: [UInt8]
        package var reply: Reply

        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        package var isAccepted: Bool {
            switch reply {
            case let .status(code, _), let .body(code, _, _), let .slow(_, code): return (200..<300).contains(code)
            default: return false
            }
        }

        /// The batch document.
        package var batch: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }
    }

    private final class Shared: Sendable {
        let requests = Mutex<[Request]>([])
        let released = Mutex(false)
        let hangGate = DispatchSemaphore(value: 0)
    }

    private let server: SocketHTTPServer
    private let shared = Shared()
    package let url: String

    /// - Parameter script: the reply to the request numbered from 0.
    package convenience init(port: UInt16 = 0, script: @escaping @Sendable (Int) -> Reply = { _ in .status(200) }) throws {
        try self.init(port: port, replying: { number, _ in script(number) })
    }

    /// - Parameter replying: the reply to the request numbered from 0,
    ///   given its body (decompressed).
    package convenience init(port: UInt16 = 0, replying script: @escaping @Sendable (Int, [UInt8]) -> Reply) throws {
        try self.init(port: port, answering: { number, _, body in script(number, body) })
    }

    /// - Parameter answering: the reply to the request numbered from 0,
    ///   given its method and target (`GET /v1/config`) and its body
    ///   (decompressed): for an ingest with more than one endpoint.
    package init(port: UInt16 = 0, answering script: @escaping @Sendable (Int, String, [UInt8]) -> Reply) throws {
        let shared = self.shared
        server = SocketHTTPServer(host: "127.0.0.1", port: port) { request, writer in
            let body: [UInt8]
            if request.header("content-encoding")?.lowercased() == "gzip" {
                body = (try? Gzip.decompress(request.body)) ?? []
            } else {
                body = request.body
            }
            let reply = shared.requests.withLock { requests -> Reply in
                let reply = script(requests.count, "\(request.method) \(request.target)", body)
                requests.append(
                    Request(
                        target: request.target, method: request.method, headers: request.headers, rawBody: request.body,
                        body: body, reply: reply))
                return reply
            }
            switch reply {
            case let .status(code, headers):
                writer.write(SocketResponse(status: code, headers: headers, body: Array(#"{"ok":true}"#.utf8)))
            case let .body(code, headers, body):
                writer.write(SocketResponse(status: code, headers: headers, body: body))
            case .disconnect:
                writer.abort()
            case let .slow(delay, code):
                Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                writer.write(SocketResponse(status: code, body: Array(#"{"ok":true}"#.utf8)))
            case .hang:
                while !shared.released.withLock({ $0 }) {
                    _ = shared.hangGate.wait(timeout: .now() + .milliseconds(50))
                }
                writer.write(SocketResponse(status: 503))
            }
        }
        let port = try server.start()
        url = "http://127.0.0.1:\(port)/v1/events"
    }

    deinit {
        stop()
    }

    package var requests: [Request] { shared.requests.withLock { $0 } }

    /// The collector's base URL, without a path (for OTLP, which appends `/v1/<signal>`).
    package var baseURL: String { String(url.dropLast("/v1/events".count)) }

    /// Every event of every batch the collector accepted, in arrival order.
    package var acceptedEvents: [[String: Any]] {
        requests.filter(\.isAccepted).flatMap { ($0.batch["events"] as? [[String: Any]]) ?? [] }
    }

    /// Lets every hung request answer 503 now.
    package func releaseHungRequests() {
        shared.released.withLock { $0 = true }
        shared.hangGate.signal()
    }

    package func stop() {
        shared.released.withLock { $0 = true }
        shared.hangGate.signal()
        server.stop()
    }
}
