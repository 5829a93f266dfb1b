#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Sees every byte a connection reads and writes, in order, and its close.
public protocol ConnectionObserver: Sendable {
    /// Bytes read from the peer.
    func inbound(_ bytes: ArraySlice<UInt8>)
    /// Bytes written to the peer, once written.
    func outbound(_ bytes: ArraySlice<UInt8>)
    /// The connection closed.
    func close()
    /// What the handler may want of the observer (a wire tap, say), as an
    /// object: a class cast of it is a pointer compare, where casting the
    /// observer itself to its type is a full dynamic cast on every request.
    var context: AnyObject? { get }
}

extension ConnectionObserver {
    /// None by default.
    public var context: AnyObject? { nil }
}

/// A small HTTP/1.1 server on POSIX sockets: one thread accepts, one thread
/// serves each connection with blocking reads and writes. Keep-alive,
/// Content-Length and chunked request bodies, `Expect: 100-continue`.
///
/// It exists so that the demo and the tests can run real HTTP on loopback
/// with nothing but the toolchain.
public final class SocketHTTPServer: Sendable {
    /// Writes the handler's response on the connection.
    public final class ResponseWriter: Sendable {
        fileprivate let descriptor: Int32
        fileprivate let keepAlive: Bool
        fileprivate let isHead: Bool
        /// The connection's observer, when the server was given one.
        public let observer: (any ConnectionObserver)?
        private let written = Atomic<Bool>(false)

        fileprivate init(descriptor: Int32, keepAlive: Bool, isHead: Bool, observer: (any ConnectionObserver)?) {
            self.descriptor = descriptor
            self.keepAlive = keepAlive
            self.isHead = isHead
            self.observer = observer
        }

        /// Whether a response was written.
        public var hasWritten: Bool { written.load(ordering: .acquiring) }

        /// Closes the connection without answering, as a server that fails
        /// mid-request would; no response can be written after.
        public func abort() {
            guard !written.exchange(true, ordering: .acquiringAndReleasing) else { return }
            _ = shutdown(descriptor, Int32(SHUT_RDWR))
        }

        /// Writes the response; only the first call writes. Returns the
        /// number of body bytes written.
        @discardableResult
        public func write(_ response: SocketResponse) -> Int {
            guard !written.exchange(true, ordering: .acquiringAndReleasing) else { return 0 }
            var head = "HTTP/1.1 \(response.status) \(SocketResponse.reasonPhrase(response.status))\r\n"
            var hasLength = false
            for (name, value) in response.headers {
                if name.lowercased() == "content-length" { hasLength = true }
                head += "\(name): \(value)\r\n"
            }
            let bodyless = response.status == 204 || response.status == 304 || (100..<200).contains(response.status)
            if !hasLength && !bodyless {
                head += "Content-Length: \(response.body.count)\r\n"
            }
            head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
            var bytes = Array(head.utf8)
            let body = (isHead || bodyless) ? [] : response.body
            bytes.append(contentsOf: body)
            _ = SocketHTTPServer.sendAll(descriptor, bytes)
            observer?.outbound(bytes[...])
            return body.count
        }
    }

    /// Handles one request; it must call `writer.write` once, or the server
    /// answers 500.
    public typealias Handler = @Sendable (SocketRequest, ResponseWriter) -> Void

    /// The address bound.
    public let host: String
    private let requestedPort: UInt16
    private let handler: Handler
    private let idleTimeoutSeconds: Int
    private let observe: (@Sendable (_ peer: String) -> (any ConnectionObserver)?)?

    private struct State {
        var listener: Int32 = -1
        var port: UInt16 = 0
        var connections: Set<Int32> = []
    }

    /// Taken when connections come and go, never per request.
    private let state = Mutex(State())
    /// Read by every connection before each request: an atomic, so that
    /// requests on many connections do not queue on one lock.
    private let isStopped = Atomic<Bool>(false)
    private let busy = Atomic<Int>(0)

    /// Creates a server; nothing is bound until ``start()``.
    ///
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 address, or `localhost`.
    ///   - port: the port, 0 for any free one.
    ///   - idleTimeoutSeconds: how long a keep-alive connection may idle.
    ///   - observe: makes an observer for each new connection, given the peer.
    public init(
        host: String = "127.0.0.1", port: UInt16 = 0, idleTimeoutSeconds: Int = 30,
        observe: (@Sendable (_ peer: String) -> (any ConnectionObserver)?)? = nil,
        handler: @escaping Handler
    ) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.requestedPort = port
        self.handler = handler
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.observe = observe
    }

    /// The bound port, once started.
    public var port: UInt16 { state.withLock { $0.port } }

    /// The number of requests being handled now.
    public var busyCount: Int { busy.load(ordering: .relaxed) }

    /// Binds, listens and starts accepting; returns the bound port.
    @discardableResult
    public func start() throws -> UInt16 {
        let isIPv6 = host.contains(":")
        let descriptor = socket(isIPv6 ? AF_INET6 : AF_INET, socketStreamType, 0)
        guard descriptor >= 0 else { throw SocketError("socket", errno) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let boundPort: UInt16
        do {
            if isIPv6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = requestedPort.bigEndian
                guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw SocketError("invalid address \(host)", EINVAL) }
                try bindAddress(descriptor, to: &address)
                boundPort = UInt16(bigEndian: address.sin6_port)
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = requestedPort.bigEndian
                guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw SocketError("invalid address \(host)", EINVAL) }
                try bindAddress(descriptor, to: &address)
                boundPort = UInt16(bigEndian: address.sin_port)
            }
        } catch {
            close(descriptor)
            throw error
        }
        guard listen(descriptor, 512) == 0 else { let code = errno; close(descriptor); throw SocketError("listen", code) }
        state.withLock {
            $0.listener = descriptor
            $0.port = boundPort
        }
        let thread = Thread { [self] in acceptLoop(descriptor) }
        thread.name = "http-accept"
        thread.start()
        return boundPort
    }

    /// Binds `descriptor` to `address` (a `sockaddr_in` or `sockaddr_in6`) and
    /// reads back the address bound, which holds the port chosen for port 0.
    private func bindAddress<Address>(_ descriptor: Int32, to address: inout Address) throws {
        let size = socklen_t(MemoryLayout<Address>.size)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, size) }
        }
        guard result == 0 else { throw SocketError("bind \(host):\(requestedPort)", errno) }
        var length = size
        withUnsafeMutablePointer(to: &address) {
            _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
    }

    /// Stops accepting and closes idle connections; requests being handled
    /// finish and their connections then close.
    public func stop() {
        isStopped.store(true, ordering: .sequentiallyConsistent)
        let (listener, connections) = state.withLock { state -> (Int32, Set<Int32>) in
            defer { state.listener = -1 }
            return (state.listener, state.connections)
        }
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
        for connection in connections {
            // Wakes blocked reads; the serving thread closes the descriptor.
            shutdown(connection, Int32(SHUT_RD))
        }
    }

    /// Waits until no request is being handled, or `timeout` passes.
    public func waitUntilIdle(timeout: Duration) {
        let end = ContinuousClock.now + timeout
        while busyCount > 0 && ContinuousClock.now < end {
            usleep(5_000)
        }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let connection = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if isStopped.load(ordering: .sequentiallyConsistent) { return }
                if errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                return
            }
            let accepted = state.withLock { state -> Bool in
                // Checked under the lock that stop() takes after setting the
                // flag: a connection is either in the set stop() shuts down,
                // or refused here.
                guard !isStopped.load(ordering: .sequentiallyConsistent) else { return false }
                state.connections.insert(connection)
                return true
            }
            guard accepted else { close(connection); return }
            let peer = Self.describe(&address)
            let thread = Thread { [self] in serve(connection, peer: peer) }
            thread.name = "http-connection"
            thread.start()
        }
    }

    private func serve(_ descriptor: Int32, peer: String) {
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var timeout = timeval(tv_sec: idleTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let observer = observe?(peer)
        defer {
            state.withLock { _ = $0.connections.remove(descriptor) }
            close(descriptor)
            observer?.close()
        }
        var reader = RequestReader { buffer in
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    buffer.append(contentsOf: chunk[..<count])
                    observer?.inbound(chunk[..<count])
                    return true
                }
                if count < 0 && errno == EINTR { continue }
                return false
            }
        }
        while !isStopped.load(ordering: .relaxed) {
            let request: SocketRequest
            do {
                request = try reader.next(peer: peer) {
                    let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    _ = Self.sendAll(descriptor, interim)
                    observer?.outbound(interim[...])
                }
            } catch {
                switch error {
                case .closed:
                    break
                case .headersTooLarge:
                    ResponseWriter(descriptor: descriptor, keepAlive: false, isHead: false, observer: observer)
                        .write(.json(431, #"{"error":"request header section too large"}"#))
                case .bodyTooLarge:
                    ResponseWriter(descriptor: descriptor, keepAlive: false, isHead: false, observer: observer)
                        .write(.json(413, #"{"error":"request body too large"}"#))
                case .malformed:
                    ResponseWriter(descriptor: descriptor, keepAlive: false, isHead: false, observer: observer)
                        .write(.json(400, #"{"error":"malformed request"}"#))
                }
                return
            }
            let connectionHeader = request.header("connection")?.lowercased() ?? ""
            let keepAlive = request.version == "HTTP/1.1"
                ? !connectionHeader.contains("close")
                : connectionHeader.contains("keep-alive")
            let writer = ResponseWriter(descriptor: descriptor, keepAlive: keepAlive, isHead: request.method == "HEAD", observer: observer)
            busy.add(1, ordering: .relaxed)
            handler(request, writer)
            if !writer.hasWritten {
                writer.write(.json(500, #"{"error":"no response"}"#))
            }
            busy.subtract(1, ordering: .relaxed)
            if !keepAlive { return }
        }
    }

    static func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        #if canImport(Darwin)
        let flags: Int32 = 0
        #else
        let flags = Int32(MSG_NOSIGNAL)
        #endif
        return bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let sent = send(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, flags)
                if sent < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += sent
            }
            return true
        }
    }

    private static func describe(_ address: inout sockaddr_storage) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(address.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    var inAddress = pointer.pointee.sin_addr
                    inet_ntop(AF_INET, &inAddress, &text, socklen_t(text.count))
                    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    var inAddress = pointer.pointee.sin6_addr
                    inet_ntop(AF_INET6, &inAddress, &text, socklen_t(text.count))
                    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        default:
            return "unknown"
        }
    }
}

/// A socket call that failed, with its errno text.
public struct SocketError: Error, CustomStringConvertible {
    /// What was attempted and why it failed.
    public let description: String

    init(_ operation: String, _ code: Int32) {
        description = "\(operation): \(String(cString: strerror(code)))"
    }
}

#if canImport(Darwin)
private let socketStreamType = SOCK_STREAM
#else
private let socketStreamType = Int32(SOCK_STREAM.rawValue)
#endif
