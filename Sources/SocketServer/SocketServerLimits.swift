#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What one ``SocketHTTPServer`` allows a client: how many connections, how
/// long a head, a body and an idle keep-alive connection may take, and how
/// large a head and a body may be. A client past a limit is answered (408,
/// 413, 431) or closed, and counted in ``SocketHTTPServer/statistics``.
public struct SocketServerLimits: Sendable, Hashable {
    /// Connections open at once; past it a new one takes the place of the
    /// connection idle longest between requests, or, with none idle, is
    /// closed at once.
    public var maxConnections: Int
    /// The time a whole request head may take, from its first byte (and, on
    /// a new connection, from the accept).
    public var headTimeout: Duration
    /// The time a whole request body may take once its head is read; also
    /// how long a write may wait for a peer that does not read.
    public var bodyTimeout: Duration
    /// How long a keep-alive connection may wait for its next request.
    public var idleTimeout: Duration
    /// The largest request head, in bytes (431 past it).
    public var maxHeadBytes: Int
    /// The largest request body, in bytes (413 past it).
    public var maxBodyBytes: Int

    /// Creates limits; each unset one takes its default.
    ///
    /// - Parameters:
    ///   - maxConnections: connections open at once, raised to 1 when
    ///     smaller; by default ``defaultMaxConnections()``, a quarter of the
    ///     process's open-file limit from 16 to 1,024.
    ///   - headTimeout: the time a whole request head may take, from its
    ///     first byte; 10 seconds by default.
    ///   - bodyTimeout: the time a whole request body may take once its head
    ///     is read, and how long a write may wait for a peer that does not
    ///     read; 30 seconds by default.
    ///   - idleTimeout: how long a keep-alive connection may wait for its
    ///     next request; 30 seconds by default.
    ///   - maxHeadBytes: the largest request head, in bytes (431 past it);
    ///     64 KiB by default.
    ///   - maxBodyBytes: the largest request body, in bytes (413 past it);
    ///     16 MiB by default.
    public init(
        maxConnections: Int = SocketServerLimits.defaultMaxConnections(),
        headTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30),
        maxHeadBytes: Int = 64 * 1024, maxBodyBytes: Int = 16 * 1024 * 1024
    ) {
        self.maxConnections = max(1, maxConnections)
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// The defaults: a quarter of the process's open-file limit, between 16
    /// and 1,024 connections; a 10 s head, a 30 s body, 30 s idle; 64 KiB
    /// heads, 16 MiB bodies.
    public static var `default`: SocketServerLimits { SocketServerLimits() }

    /// A quarter of the soft open-file limit (`getrlimit(RLIMIT_NOFILE)`),
    /// from 16 to 1,024: well under it, so that a full server still leaves
    /// descriptors for the rest of the process (another listener, files,
    /// outgoing connections).
    public static func defaultMaxConnections() -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        // RLIM_INFINITY is the largest value: its quarter clamps to the cap.
        let quarter = Int(clamping: limit.rlim_cur / 4)
        return min(1024, max(16, quarter))
    }
}

/// What a ``SocketHTTPServer`` has done with its connections.
public struct SocketServerStatistics: Sendable, Hashable {
    /// Connections accepted and served.
    public var accepted: Int
    /// Connections closed at once because ``SocketServerLimits/maxConnections`` were open.
    public var refusedAtLimit: Int
    /// Idle keep-alive connections closed to make room for a new one.
    public var evictedIdle: Int
    /// Connections closed because a head, a body or an idle wait passed its deadline.
    public var timedOut: Int
    /// Connections open now.
    public var open: Int
}
