import APIMetrics
import APIMetricsHummingbird
import Foundation
import Hummingbird
#if APIMETRICS_LOADTEST
import Metrics
import Prometheus
#endif
import Synchronization

// hummingbird-example: the demo's API on Hummingbird 2, recorded by
// APIMetricsMiddleware and configured from APIMETRICS_* variables.

let commandLine = ExampleCommandLine(
    program: "hummingbird-example",
    usage: """
        usage: hummingbird-example [--host 127.0.0.1] [--port 8080] [--mode apimetrics]
        Configure recording with APIMETRICS_* environment variables (see the README).
        --mode bare or noop serves the same routes without APIMetrics: with no middleware,
        or with one that only passes response bodies through (for the load test, whose
        build, Examples/HummingbirdLoadTest, adds --mode prometheus: Hummingbird's
        MetricsMiddleware and swift-prometheus).
        """,
    options: ["--mode"])
func fail(_ message: String) -> Never { commandLine.fail(message) }
let (host, port, values) = commandLine.parse()
guard let variant = Variant(rawValue: values["--mode"] ?? Variant.apimetrics.rawValue) else {
    fail("--mode needs one of \(Variant.allCases.map(\.rawValue).joined(separator: ", "))")
}
/// A line on standard output, unbuffered: it reaches a pipe at once.
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

// --- setup: configuration, the middleware, the service beside the server ---
let metrics = commandLine.metrics(ExampleServer.baseConfiguration())
let baseURL = Mutex("")
#if APIMETRICS_LOADTEST
if variant == .prometheus {
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
}
#endif
let router = ExampleServer.router(metrics: metrics, variant: variant, baseURL: { baseURL.withLock { $0 } })
var app = Application(
    router: router,
    configuration: .init(address: .hostname(host, port: port)),
    onServerRunning: { channel in
        let root = "http://\(host):\(channel.localAddress?.port ?? port)"
        baseURL.withLock { $0 = root }
        say("listening on \(root)")
        if metrics.view.options.isDashboardEnabled { say("dashboard: \(root)\(MetricsView.dashboardPath)") }
        if metrics.view.options.isPrometheusEnabled { say("prometheus: \(root)\(MetricsView.prometheusPath)") }
    }
)
// SIGTERM or SIGINT: the server stops taking requests, then the metrics
// flush everything it served and the process exits 0.
app.addServices(APIMetricsLifecycleService(metrics))
await commandLine.serve(metrics) { try await app.runService() }
// --- end of setup ---
