/// What ``APIMetricsService/shutdown(timeout:)`` managed.
public struct ShutdownReport: Sendable, Hashable, CustomStringConvertible {
    /// The totals at the end.
    public var statistics: Statistics
    /// Events that were queued or in flight at shutdown and did not reach
    /// every exporter before the deadline.
    public var unsent: Int

    /// Whether everything recorded reached every exporter: nothing dropped,
    /// failed or left unsent.
    public var isComplete: Bool {
        unsent == 0 && statistics.dropped == 0 && statistics.failed == 0
    }

    /// A one-line summary.
    public var description: String {
        "\(statistics) unsent=\(unsent)"
    }
}
