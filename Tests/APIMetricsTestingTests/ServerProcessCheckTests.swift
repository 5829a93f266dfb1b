import APIMetricsTesting
import Foundation
import Testing

/// The check against a real server: the demo, built beside the tests.
@Suite("Server process check")
struct ServerProcessCheckTests {
    @Test func theDemoStopsOnSigtermWithEveryCallFlushed() async throws {
        let outcome = try await ServerProcessCheck(
            executable: ServerProcessCheck.builtExecutable(named: "apimetrics-demo"), calls: 12
        ).run()
        #expect(outcome.problems == [], "\(outcome)")
        #expect(outcome.exitStatus == 0 && outcome.callsRecorded == 12 && outcome.requestsInWindows == 12)
    }

    /// A check that cannot fail is no check: a route the calls do not
    /// carry is named as a problem.
    @Test func aMissingRouteIsAProblem() async throws {
        let check = ServerProcessCheck(
            executable: ServerProcessCheck.builtExecutable(named: "apimetrics-demo"), calls: 3, route: "/no/such/{route}")
        let outcome = try await check.run()
        #expect(outcome.problems == ["0 events of /no/such/{route}, 3 calls made"])
    }

    @Test func anExecutableNotBuiltIsAFailureThatSaysSo() async throws {
        let check = ServerProcessCheck(executable: URL(fileURLWithPath: "/nonexistent/server"))
        await #expect(throws: ServerProcessCheck.Failure.self) { try await check.run() }
    }
}
