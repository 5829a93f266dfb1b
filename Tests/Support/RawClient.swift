import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client on 127.0.0.1 for sending exact bytes.
package struct RawClient {
    package let descriptor: Int32

    package init(port: UInt16) throws {
        descriptor = socket(AF_INET, socketStreamType, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            closeSocket(descriptor)
            throw RawClientError.connectFailed
        }
        // Long enough for a loaded machine; tests read until a predicate holds.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    package func send(_ text: String) {
        send(Array(text.utf8))
    }

    package func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = sendBytes(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if sent <= 0 { return }
                offset += sent
            }
        }
    }

    /// Reads until `predicate` holds for what was read, the peer closes, or
    /// the 30 s timeout passes.
    package func read(until predicate: (String) -> Bool = { _ in false }) -> String {
        var received = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !predicate(String(decoding: received, as: UTF8.self)) {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            received.append(contentsOf: chunk[..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    package func close() {
        closeSocket(descriptor)
    }

    /// Reads and drops whatever comes until the peer closes (`true`), or
    /// until `timeout` passes with the connection still open (`false`).
    package func waitForClose(timeout: Duration) -> Bool {
        let end = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < end {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return true }
        }
        return false
    }

    /// Whether the peer has closed the connection now (a read finds its end
    /// or a reset, after any bytes it sent).
    package func isClosedByPeer() -> Bool {
        waitForClose(timeout: .milliseconds(200))
    }

    /// Connects, sends `text` and reads until the peer closes, on a thread
    /// of its own: an async test that waits on a socket must not hold one of
    /// the few cooperative threads, which the server it talks to may need
    /// (an async handler runs there) — with every one of them blocked, the
    /// exchange waits for the read timeout.
    package static func exchange(port: UInt16, _ text: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    let client = try RawClient(port: port)
                    client.send(text)
                    let response = client.read()
                    client.close()
                    continuation.resume(returning: response)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }
}

package enum RawClientError: Error {
    case connectFailed
}

extension String {
    /// How many times `needle` occurs.
    package func occurrences(of needle: String) -> Int {
        components(separatedBy: needle).count - 1
    }
}

private func closeSocket(_ descriptor: Int32) {
    close(descriptor)
}

private func sendBytes(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return send(descriptor, pointer, count, 0)
    #else
    return send(descriptor, pointer, count, Int32(MSG_NOSIGNAL))
    #endif
}

#if canImport(Darwin)
private let socketStreamType = SOCK_STREAM
#else
private let socketStreamType = Int32(SOCK_STREAM.rawValue)
#endif
