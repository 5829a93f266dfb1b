#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The socket calls of a connection: reads that wait no later than a
/// deadline, writes that go on until all is sent.
extension SocketHTTPServer {
    /// Waits for bytes until `deadline` (poll), then reads what is there.
    static func receive(
        _ descriptor: Int32, into buffer: inout [UInt8], until deadline: ContinuousClock.Instant,
        observer: (any ConnectionObserver)?
    ) -> RequestReader.Received {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return .timedOut }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds(remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                return .closed
            }
            if ready == 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
                observer?.inbound(chunk[..<count])
                return .bytes
            }
            if count < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            return .closed
        }
    }

    /// Sends all of `bytes` unless `deadline` passes or the peer goes:
    /// one deadline for the whole response, so that a peer reading a byte
    /// now and then cannot hold the connection. Returns the bytes sent.
    static func sendAll(_ descriptor: Int32, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Int {
        #if canImport(Darwin)
        let flags = Int32(MSG_DONTWAIT)
        #else
        let flags = Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)
        #endif
        return bytes.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let sent = send(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, flags)
                if sent >= 0 {
                    offset += sent
                    continue
                }
                let code = errno
                if code == EINTR { continue }
                guard code == EAGAIN || code == EWOULDBLOCK else { return offset }
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { return offset }
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, milliseconds(remaining))
            }
            return offset
        }
    }

    /// Milliseconds for poll, rounded up.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }

    /// Closes after an answer sent while the peer may still be sending
    /// (a body never read): shut the write side, drop what still comes for
    /// at most a second or 64 KiB, then close, so that unread input does not
    /// make the kernel reset the connection before the peer reads the answer.
    static func closeGently(_ descriptor: Int32) {
        _ = shutdown(descriptor, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + .seconds(1)
        var drained = 0
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while drained < 64 * 1024 {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds(remaining)) > 0 else { break }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            drained += count
        }
        close(descriptor)
    }
}
