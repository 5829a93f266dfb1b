/// The disk spool (``APIMetricsConfiguration/spool``): where batches go that
/// an exporter could not take in time, so that they are sent later, first,
/// even after a restart.
///
/// Off until ``directory`` is set. Batches given up after their retry
/// budget, and whatever is still queued when the shutdown deadline runs out,
/// are appended to segment files in the directory, one checksummed record
/// per batch and exporter; when the exporter answers again, and at the next
/// start, they are sent before anything newer, oldest first.
///
/// ```swift
/// config.spool = .init(directory: "/var/lib/orders-api/apimetrics-spool", maxBytes: 512 << 20)
/// ```
public struct SpoolOptions: Sendable, Hashable {
    /// The directory, created when missing; `nil` turns the spool off. One
    /// process at a time may use it: a second gets a ``ConfigurationError``.
    public var directory: String?
    /// The most bytes the spool holds; when a batch would pass it, the
    /// oldest segments are deleted first, their events counted as dropped.
    public var maxBytes: Int
    /// How often what was appended is forced to the disk (`fsync`); also
    /// at shutdown. Shorter is safer against power loss, and slower.
    public var syncInterval: Duration

    /// Creates options; the spool is on when `directory` is set.
    public init(directory: String? = nil, maxBytes: Int = 256 << 20, syncInterval: Duration = .seconds(1)) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.syncInterval = syncInterval
    }

    /// No spool: batches given up are counted and handed to
    /// ``APIMetricsConfiguration/undeliveredBatchHandler`` only.
    public static let off = SpoolOptions()

    /// Whether batches are spooled.
    public var isEnabled: Bool { directory != nil }

    /// The smallest `maxBytes` accepted.
    public static let minimumBytes = 64 << 10

    func validate(field: String) throws(ConfigurationError) {
        guard let directory else { return }
        guard !directory.isEmpty, !directory.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ConfigurationError(field: "\(field).directory", reason: "must be a path, got \"\(directory)\"")
        }
        guard maxBytes >= Self.minimumBytes else {
            throw ConfigurationError(field: "\(field).maxBytes", reason: "must be at least \(Self.minimumBytes), got \(maxBytes)")
        }
        guard syncInterval >= .zero else {
            throw ConfigurationError(field: "\(field).syncInterval", reason: "must not be negative, got \(syncInterval)")
        }
    }
}
