/// The local store (``ExporterConfiguration/store(_:)``): one SQLite file
/// that keeps the calls, the metrics at one-minute resolution, consumers,
/// error groups, heartbeats and the pipeline's counters, so that the
/// dashboard and the `apimetrics` command show history across restarts.
///
/// The sender writes it off the request path, commits grouped (every
/// 250 ms, or at 5,000 calls), on a thread of its own; the view and the
/// command read it while the server runs. Retention is by age and by bytes, enforced in the background: calls
/// older than ``retentionDays`` go, and past ``maxBytes`` the oldest calls
/// go first; minute rows older than ``minuteResolutionHours`` go, leaving
/// the hour and day rows, which are kept for ``retentionDays``.
///
/// ```swift
/// config.exporters = [.store(.init(path: "/var/lib/orders-api/apimetrics.sqlite", maxBytes: 2 << 30))]
/// ```
public struct StoreOptions: Sendable, Hashable {
    /// The file (`APIMETRICS_STORE`); its directory must exist and be
    /// writable by this process's user alone. SQLite keeps `-wal` and
    /// `-shm` files beside it.
    public var path: String
    /// The most bytes the store's data may take (`APIMETRICS_STORE_MAX_BYTES`);
    /// past it, the oldest calls are deleted. Metrics rows are never deleted
    /// for space, only by age.
    public var maxBytes: Int
    /// How many days calls and metrics are kept (`APIMETRICS_STORE_RETENTION_DAYS`).
    public var retentionDays: Int
    /// How many hours the one-minute metrics rows are kept; older ones are
    /// read at one-hour resolution.
    public var minuteResolutionHours: Int

    /// A page limit below ``maxBytes``, so that tests can fill the store as
    /// a full disk would.
    package var pageLimitForTesting: Int?

    /// How long a handed-over batch waits for its commit at most, in
    /// milliseconds, when not ``StoreWriter/commitInterval`` (tests that
    /// need the commits to come only when they ask).
    package var commitIntervalForTesting: Int?

    /// Creates options.
    ///
    /// - Parameters:
    ///   - path: the SQLite file; its directory must exist and be writable by
    ///     this process's user alone. `apimetrics.sqlite` in the working
    ///     directory by default.
    ///   - maxBytes: the most bytes the store's data may take, at least
    ///     ``minimumBytes``; ``defaultMaxBytes`` (512 MiB) by default.
    ///   - retentionDays: how many days calls and metrics are kept, from 1 to
    ///     3,650; 30 by default.
    ///   - minuteResolutionHours: how many hours the one-minute metrics rows
    ///     are kept, from 1 to 87,600; 48 by default.
    public init(
        path: String = "apimetrics.sqlite", maxBytes: Int = StoreOptions.defaultMaxBytes, retentionDays: Int = 30,
        minuteResolutionHours: Int = 48
    ) {
        self.path = path
        self.maxBytes = maxBytes
        self.retentionDays = retentionDays
        self.minuteResolutionHours = minuteResolutionHours
    }

    /// `apimetrics.sqlite` in the working directory, 512 MiB, 30 days,
    /// minutes for 48 hours.
    public static let `default` = StoreOptions()

    /// The smallest ``maxBytes`` accepted: 1 MiB.
    public static let minimumBytes = 1 << 20

    /// The default limit of the store's size: 512 MiB.
    public static let defaultMaxBytes = 512 << 20

    func validate(field: String) throws(ConfigurationError) {
        guard !path.isEmpty, !path.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ConfigurationError(field: "\(field).path", reason: "must be a path, got \"\(path)\"")
        }
        guard maxBytes >= Self.minimumBytes else {
            throw ConfigurationError(field: "\(field).maxBytes", reason: "must be at least \(Self.minimumBytes), got \(maxBytes)")
        }
        guard (1...3_650).contains(retentionDays) else {
            throw ConfigurationError(field: "\(field).retentionDays", reason: "must be from 1 to 3650, got \(retentionDays)")
        }
        guard (1...24 * 3_650).contains(minuteResolutionHours) else {
            throw ConfigurationError(
                field: "\(field).minuteResolutionHours", reason: "must be from 1 to 87600, got \(minuteResolutionHours)")
        }
    }
}
