/// A configuration value that cannot be used, named with the reason.
///
/// Thrown by ``APIMetricsService/init(configuration:)`` and
/// ``APIMetricsConfiguration/fromEnvironment(_:base:)`` at startup, never later.
/// `field` is a configuration path such as `batching.maxEvents`, or the
/// environment variable that held the value, such as `APIMETRICS_BATCH_SIZE`.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field or environment variable at fault.
    public var field: String
    /// Why its value cannot be used.
    public var reason: String

    /// Creates an error for `field`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `invalid configuration: FIELD: REASON`.
    public var description: String {
        "invalid configuration: \(field): \(reason)"
    }
}
