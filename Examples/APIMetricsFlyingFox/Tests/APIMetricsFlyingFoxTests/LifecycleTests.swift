import APIMetricsTesting
import Testing

/// The example server as a user runs it: its own process, SIGTERM to stop.
@Suite("FlyingFox example lifecycle")
struct LifecycleTests {
    @Test func sigtermStopsIntakeFlushesEveryEventAndExitsZero() async throws {
        let outcome = try await ServerProcessCheck(executable: ServerProcessCheck.builtExecutable(named: "flyingfox-example"))
            .run()
        #expect(outcome.problems == [], "\(outcome)")
    }
}
