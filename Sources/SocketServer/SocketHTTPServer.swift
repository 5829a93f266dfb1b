#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A small HTTP/1.1 server on POSIX sockets: one thread accepts, one thread
/// serves each connection with blocking reads and writes. Keep-alive,
/// Content-Length and chunked request bodies, `Expect: 100-continue`.
///
/// Bounded for a hostile network (``SocketServerLimits``): a cap on open
/// connections (past it a new one is closed at once), a deadline for a whole
/// head, one for a whole body and one for an idle keep-alive wait, so that
/// a client trickling bytes holds a thread no longer than a head's deadline.
/// Running out of descriptors makes `accept` back off, never stop. A
/// ``HeadHandler`` can answer a request on its head alone, before a body
/// byte is read or `100 Continue` is sent.
///
/// It exists so that the demo and the tests can run real HTTP on loopback
/// with nothing but the toolchain.
public final class SocketHTTPServer: Sendable {
    /// Writes the handler's response on the connection.
    public final class ResponseWriter: Sendable {
        fileprivate let descriptor: Int32
        fileprivate let keepAlive: Bool
        fileprivate let isHead: Bool
        fileprivate let writeTimeout: Duration
        /// The connection's observer, when the server was given one.
        public let observer: (any ConnectionObserver)?
        private let written = Atomic<Bool>(false)
        private let failed = Atomic<Bool>(false)

        fileprivate init(
            descriptor: Int32, keepAlive: Bool, isHead: Bool, writeTimeout: Duration, observer: (any ConnectionObserver)?
        ) {
            self.descriptor = descriptor
            self.keepAlive = keepAlive
            self.isHead = isHead
            self.writeTimeout = writeTimeout
            self.observer = observer
        }

        /// Whether a response was written.
        public var hasWritten: Bool { written.load(ordering: .acquiring) }

        /// Whether the response could not be sent whole in time (the peer
        /// went, or read too slowly); the connection is then shut.
        var hasFailed: Bool { failed.load(ordering: .acquiring) }

        /// Closes the connection without answering, as a server that fails
        /// mid-request would; no response can be written after.
        public func abort() {
            guard !written.exchange(true, ordering: .acquiringAndReleasing) else { return }
            _ = shutdown(descriptor, Int32(SHUT_RDWR))
        }

        /// Writes the response; only the first call writes. Returns the
        /// number of body bytes written. The whole response must be sent
        /// within the server's body timeout; if it is not, the connection is
        /// shut and the observer sees only what was sent.
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
            let sent = SocketHTTPServer.sendAll(descriptor, bytes, until: .now + writeTimeout)
            if sent > 0 { observer?.outbound(bytes[..<sent]) }
            if sent < bytes.count {
                failed.store(true, ordering: .releasing)
                _ = shutdown(descriptor, Int32(SHUT_RDWR))
            }
            return max(0, sent - (bytes.count - body.count))
        }
    }

    /// Handles one request; it must call `writer.write` once, or the server
    /// answers 500.
    public typealias Handler = @Sendable (SocketRequest, ResponseWriter) -> Void

    /// Looks at a request's head (its body is empty) before the body is read
    /// or `100 Continue` sent. When it writes an answer, the body is never
    /// read (and the connection closes when one was announced); when it
    /// writes nothing, the request goes on to the handler.
    public typealias HeadHandler = @Sendable (SocketRequest, ResponseWriter) -> Void

    /// The address bound.
    public let host: String
    private let requestedPort: UInt16
    /// What the server allows a client.
    public let limits: SocketServerLimits
    private let handler: Handler
    private let headHandler: HeadHandler?
    private let observe: (@Sendable (_ peer: String) -> (any ConnectionObserver)?)?

    private struct State {
        var listener: Int32 = -1
        var port: UInt16 = 0
        var connections: Set<Int32> = []
        var accepted = 0
        var refusedAtLimit = 0
        /// Connections waiting for a next request, and since when.
        var idleSince: [Int32: ContinuousClock.Instant] = [:]
        /// Idle connections shut to make room, not yet gone.
        var evicted: Set<Int32> = []
        var evictedIdle = 0
    }

    /// Taken when connections come and go, never per request.
    private let state = Mutex(State())
    /// Read by every connection before each request: an atomic, so that
    /// requests on many connections do not queue on one lock.
    private let isStopped = Atomic<Bool>(false)
    private let busy = Atomic<Int>(0)
    private let timedOut = Atomic<Int>(0)

    /// Creates a server; nothing is bound until ``start()``.
    ///
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 address, or `localhost`.
    ///   - port: the port, 0 for any free one.
    ///   - limits: connections, deadlines and sizes allowed.
    ///   - observe: makes an observer for each new connection, given the peer.
    ///   - headHandler: answers a request on its head, before its body.
    ///   - handler: answers a request once its body is read.
    public init(
        host: String = "127.0.0.1", port: UInt16 = 0, limits: SocketServerLimits = .default,
        observe: (@Sendable (_ peer: String) -> (any ConnectionObserver)?)? = nil,
        headHandler: HeadHandler? = nil,
        handler: @escaping Handler
    ) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.requestedPort = port
        self.limits = limits
        self.handler = handler
        self.headHandler = headHandler
        self.observe = observe
    }

    /// What the server has done with its connections so far.
    public var statistics: SocketServerStatistics {
        let timedOut = timedOut.load(ordering: .relaxed)
        return state.withLock {
            SocketServerStatistics(
                accepted: $0.accepted, refusedAtLimit: $0.refusedAtLimit, evictedIdle: $0.evictedIdle, timedOut: timedOut,
                open: $0.connections.count)
        }
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
                guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
                    throw SocketError("invalid address \(host)", EINVAL)
                }
                try bindAddress(descriptor, to: &address)
                boundPort = UInt16(bigEndian: address.sin6_port)
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = requestedPort.bigEndian
                guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                    throw SocketError("invalid address \(host)", EINVAL)
                }
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
        // Under the lock that a serving thread takes to leave the set before
        // it closes its descriptor: a number shut here is still that
        // connection's, never one the process has since given to another
        // socket. The listener is shut, not closed: the accept thread closes
        // it as it leaves, so that its number cannot be reused while that
        // thread may still call accept on it.
        state.withLock { state in
            if state.listener >= 0 {
                shutdown(state.listener, Int32(SHUT_RDWR))
                state.listener = -1
            }
            for connection in state.connections {
                // Wakes blocked reads; the serving thread closes the descriptor.
                shutdown(connection, Int32(SHUT_RD))
            }
        }
    }

    /// Waits until no request is being handled, or `timeout` passes.
    public func waitUntilIdle(timeout: Duration) {
        let end = ContinuousClock.now + timeout
        while busyCount > 0 && ContinuousClock.now < end {
            usleep(5_000)
        }
    }

    private enum Admission { case stopped, full, admitted }

    private func acceptLoop(_ listener: Int32) {
        defer { close(listener) }
        var backoff: useconds_t = 1_000
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let connection = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            if connection < 0 {
                let code = errno
                if isStopped.load(ordering: .sequentiallyConsistent) { return }
                switch code {
                case EBADF, EINVAL, ENOTSOCK, EOPNOTSUPP, EFAULT:
                    // The listener itself is gone or wrong: nothing to wait for.
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: wait for some to be
                    // freed rather than spin or give up listening.
                    usleep(backoff)
                    backoff = min(backoff * 2, 100_000)
                    continue
                default:
                    // ECONNABORTED, EINTR, EPROTO, EPERM and the network
                    // errors accept(2) passes on from a pending connection.
                    continue
                }
            }
            backoff = 1_000
            let admission = state.withLock { state -> Admission in
                // Checked under the lock that stop() takes after setting the
                // flag: a connection is either in the set stop() shuts down,
                // or refused here.
                guard !isStopped.load(ordering: .sequentiallyConsistent) else { return .stopped }
                if state.connections.count - state.evicted.count >= limits.maxConnections {
                    // Full: the connection idle longest makes room (a client
                    // keeping connections open between requests cannot
                    // hold every slot); with none idle, the new one goes.
                    guard let (idle, _) = state.idleSince.min(by: { $0.value < $1.value }) else {
                        state.refusedAtLimit += 1
                        return .full
                    }
                    state.idleSince[idle] = nil
                    state.evicted.insert(idle)
                    state.evictedIdle += 1
                    _ = shutdown(idle, Int32(SHUT_RDWR))
                }
                state.connections.insert(connection)
                state.accepted += 1
                return .admitted
            }
            switch admission {
            case .stopped:
                close(connection)
                return
            case .full:
                // Closed without a byte read or written: the cheapest answer,
                // and one that holds nothing.
                close(connection)
                continue
            case .admitted:
                let peer = Self.describe(&address)
                let acceptedAt = ContinuousClock.now
                let thread = Thread { [self] in serve(connection, peer: peer, acceptedAt: acceptedAt) }
                thread.name = "http-connection"
                thread.start()
            }
        }
    }

    private func serve(_ descriptor: Int32, peer: String, acceptedAt: ContinuousClock.Instant) {
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let observer = observe?(peer)
        var closesGently = false
        defer {
            state.withLock {
                _ = $0.connections.remove(descriptor)
                $0.idleSince[descriptor] = nil
                _ = $0.evicted.remove(descriptor)
            }
            if closesGently { Self.closeGently(descriptor) } else { close(descriptor) }
            observer?.close()
        }
        var reader = RequestReader(maxHeadBytes: limits.maxHeadBytes, maxBodyBytes: limits.maxBodyBytes) { buffer, deadline in
            Self.receive(descriptor, into: &buffer, until: deadline, observer: observer)
        }
        var isFirst = true
        while !isStopped.load(ordering: .relaxed) {
            let request: SocketRequest
            let keepAlive: Bool
            do {
                // The first head must be whole within the head deadline of
                // the accept; a later one within it of its first byte. While
                // it waits for a next request, the connection is idle: the
                // first to go when a new one finds the server full.
                let isIdle = !isFirst && !reader.hasPendingBytes
                if isIdle { state.withLock { $0.idleSince[descriptor] = .now } }
                let idleDeadline = isFirst ? acceptedAt + limits.headTimeout : ContinuousClock.now + limits.idleTimeout
                let next = Result { () throws(RequestReader.Failure) in
                    try reader.nextHead(
                        peer: peer, idleDeadline: idleDeadline, headTimeout: limits.headTimeout,
                        headDeadline: isFirst ? acceptedAt + limits.headTimeout : nil)
                }
                if isIdle { state.withLock { $0.idleSince[descriptor] = nil } }
                let (head, framing) = try next.get()
                isFirst = false
                let connectionHeader = head.header("connection")?.lowercased() ?? ""
                keepAlive =
                    head.version == "HTTP/1.1"
                    ? !connectionHeader.contains("close")
                    : connectionHeader.contains("keep-alive")
                if let headHandler {
                    // Answered on its head: an announced body is never read,
                    // so the connection cannot carry another request.
                    let early = ResponseWriter(
                        descriptor: descriptor, keepAlive: keepAlive && !framing.hasBody, isHead: head.method == "HEAD",
                        writeTimeout: limits.bodyTimeout, observer: observer)
                    headHandler(head, early)
                    if early.hasWritten {
                        if early.hasFailed { return }
                        if framing.hasBody { closesGently = true }
                        if !keepAlive || framing.hasBody { return }
                        continue
                    }
                }
                if framing.hasBody, head.header("expect")?.lowercased() == "100-continue" {
                    let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    let sent = Self.sendAll(descriptor, interim, until: .now + limits.bodyTimeout)
                    if sent > 0 { observer?.outbound(interim[..<sent]) }
                    guard sent == interim.count else { return }
                }
                var full = head
                full.body = try reader.body(framing, timeout: limits.bodyTimeout)
                request = full
            } catch {
                closesGently = answer(error, descriptor: descriptor, observer: observer)
                return
            }
            let writer = ResponseWriter(
                descriptor: descriptor, keepAlive: keepAlive, isHead: request.method == "HEAD", writeTimeout: limits.bodyTimeout,
                observer: observer)
            busy.add(1, ordering: .relaxed)
            handler(request, writer)
            if !writer.hasWritten {
                writer.write(.json(500, #"{"error":"no response"}"#))
            }
            busy.subtract(1, ordering: .relaxed)
            if !keepAlive || writer.hasFailed { return }
        }
    }

    /// The last answer on a connection that could not be read on.
    /// Returns whether an answer was written (the connection is then closed
    /// gently, so that unread input does not reset it before the peer reads).
    private func answer(_ failure: RequestReader.Failure, descriptor: Int32, observer: (any ConnectionObserver)?) -> Bool {
        let response: SocketResponse
        switch failure {
        case .closed:
            return false
        case .idle:
            timedOut.add(1, ordering: .relaxed)
            return false
        case .timedOut:
            timedOut.add(1, ordering: .relaxed)
            response = .json(408, #"{"error":"request not complete in time"}"#)
        case .headersTooLarge:
            response = .json(431, #"{"error":"request header section too large"}"#)
        case .bodyTooLarge:
            response = .json(413, #"{"error":"request body too large"}"#)
        case .malformed:
            response = .json(400, #"{"error":"malformed request"}"#)
        }
        let writer = ResponseWriter(
            descriptor: descriptor, keepAlive: false, isHead: false, writeTimeout: limits.bodyTimeout, observer: observer)
        writer.write(response)
        return !writer.hasFailed
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

#if canImport(Darwin)
private let socketStreamType = SOCK_STREAM
#else
private let socketStreamType = Int32(SOCK_STREAM.rawValue)
#endif
