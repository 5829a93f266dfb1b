/// Misuse of ``APIMetricsService``'s lifecycle.
public struct LifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    private let message: String

    /// ``APIMetricsService/run()`` was called while already running.
    public static let alreadyRunning = LifecycleError(message: "APIMetricsService.run() is already running")

    /// What went wrong.
    public var description: String { message }
}
