/// Sent on every metrics tick, with traffic or without: the instance is up,
/// and how it and the pipeline are doing.
public struct Heartbeat: Sendable, Hashable {
    /// When the instance started recording, in nanoseconds since the Unix epoch.
    public var startedAtNanoseconds: Int64
    /// When this heartbeat was taken.
    public var timeNanoseconds: Int64
    /// Seconds since start.
    public var uptimeSeconds: Double
    /// The process's CPU time over the last interval, as a share of one
    /// core (1.0 = one core busy); `nil` on the first tick.
    public var cpuShare: Double?
    /// The process's resident memory in bytes, when the platform tells
    /// (the current size on Linux, the peak on macOS).
    public var residentBytes: Int?
    /// The pipeline's running totals.
    ///
    /// The last heartbeat at shutdown is taken after the last events were
    /// delivered (or given up) and goes out after them, with the final
    /// window: its totals are final. ``Statistics/exported`` counts events
    /// each exporter accepted, never metrics records, so the heartbeat does
    /// not count itself: with one exporter and nothing dropped, skipped or
    /// failed, the last heartbeat's `exported` equals its `recorded`, and
    /// in an event file it is the last line.
    public var statistics: Statistics
    /// What API discovery knows: operations described, and changes seen
    /// since start; `nil` when discovery is off.
    public var discovery: DiscoveryCounts?

    /// API discovery's counts, as the heartbeat carries them.
    public struct DiscoveryCounts: Sendable, Hashable {
        /// Operations (method and route) described.
        public var operations: Int
        /// Changes of the API seen since start.
        public var changes: Int
        /// Calls read for their shapes since start.
        public var learntCalls: Int

        /// Creates counts.
        ///
        /// - Parameters:
        ///   - operations: operations (method and route) described.
        ///   - changes: changes of the API seen since start.
        ///   - learntCalls: calls read for their shapes since start.
        public init(operations: Int, changes: Int, learntCalls: Int) {
            self.operations = operations
            self.changes = changes
            self.learntCalls = learntCalls
        }
    }

    /// Creates a heartbeat.
    ///
    /// - Parameters:
    ///   - startedAtNanoseconds: when the instance started recording, in
    ///     nanoseconds since the Unix epoch.
    ///   - timeNanoseconds: when this heartbeat was taken, in nanoseconds
    ///     since the Unix epoch.
    ///   - uptimeSeconds: seconds since start.
    ///   - cpuShare: the process's CPU time over the last interval, as a
    ///     share of one core (1.0 = one core busy); `nil` on the first tick.
    ///   - residentBytes: the process's resident memory in bytes; `nil` when
    ///     the platform does not tell.
    ///   - statistics: the pipeline's running totals.
    public init(
        startedAtNanoseconds: Int64, timeNanoseconds: Int64, uptimeSeconds: Double, cpuShare: Double?,
        residentBytes: Int?, statistics: Statistics
    ) {
        self.startedAtNanoseconds = startedAtNanoseconds
        self.timeNanoseconds = timeNanoseconds
        self.uptimeSeconds = uptimeSeconds
        self.cpuShare = cpuShare
        self.residentBytes = residentBytes
        self.statistics = statistics
    }
}
