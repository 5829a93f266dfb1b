import APIMetrics
import APIMetricsVapor
import Foundation
import Synchronization
import Vapor

// vapor-example: the demo's API on Vapor 4, recorded by APIMetricsMiddleware
// and configured from APIMETRICS_* variables.

let commandLine = ExampleCommandLine(
    program: "vapor-example",
    usage: """
        usage: vapor-example [--host 127.0.0.1] [--port 8080]
        Configure recording with APIMETRICS_* environment variables (see the README).
        """)
func fail(_ message: String) -> Never { commandLine.fail(message) }
let (host, port, _) = commandLine.parse()
/// A line on standard output, unbuffered: it reaches a pipe at once.
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

// Vapor's log lines go to standard error: standard output has the banner.
LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
do {
    // --- setup: configuration, the middleware, the lifecycle handler ---
    let metrics = try APIMetricsService(configuration: .fromEnvironment(base: ExampleServer.baseConfiguration()))
    let app = try await Application.make(Environment(name: "production", arguments: ["vapor-example"]))
    app.http.server.configuration.hostname = host
    app.http.server.configuration.port = port
    let baseURL = Mutex("")
    ExampleServer.configure(app, metrics: metrics, baseURL: { baseURL.withLock { $0 } })
    // SIGTERM or SIGINT: the server stops taking requests, then the metrics
    // flush everything it served.
    app.lifecycle.use(APIMetricsLifecycleHandler(metrics))
    // --- end of setup ---
    try await app.startup()  // boots, starts the server, handles SIGTERM and SIGINT
    let root = "http://\(host):\(app.http.server.shared.localAddress?.port ?? port)"
    baseURL.withLock { $0 = root }
    say("listening on \(root)")
    if metrics.view.options.isDashboardEnabled { say("dashboard: \(root)\(MetricsView.dashboardPath)") }
    if metrics.view.options.isPrometheusEnabled { say("prometheus: \(root)\(MetricsView.prometheusPath)") }
    try await app.running?.onStop.get()
    try await app.asyncShutdown()
    // The handler has flushed already: this only reads the totals.
    let report = await metrics.shutdown()
    FileHandle.standardError.write(Data("vapor-example: stopped; \(report)\n".utf8))
} catch {
    fail("\(error)")
}
