import APIMetricsTesting
import Testing

/// The example server as a user runs it: its own process, SIGTERM to stop.
@Suite("Vapor example lifecycle")
struct LifecycleTests {
    @Test func sigtermStopsIntakeFlushesEveryEventAndExitsZero() async throws {
        let outcome = try await ServerProcessCheck(executable: ServerProcessCheck.builtExecutable(named: "vapor-example")).run()
        #expect(outcome.problems == [], "\(outcome)")
    }
}
