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

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hummingbird-example: \(message)\n".utf8))
    exit(2)
}

/// `--host`, `--port` and `--mode`, or the defaults.
func arguments() -> (host: String, port: Int, variant: Variant) {
    var host = "127.0.0.1", port = 8080, variant = Variant.apimetrics
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--host":
            guard let value = arguments.popFirst() else { fail("--host needs a value") }
            host = value
        case "--port":
            guard let value = arguments.popFirst(), let number = Int(value), (0...65_535).contains(number) else {
                fail("--port needs a number from 0 to 65535")
            }
            port = number
        case "--mode":
            guard let value = arguments.popFirst(), let chosen = Variant(rawValue: value) else {
                fail("--mode needs one of \(Variant.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            variant = chosen
        case "--help", "-h":
            print(
                """
                usage: hummingbird-example [--host 127.0.0.1] [--port 8080] [--mode apimetrics]
                Configure recording with APIMETRICS_* environment variables (see the README).
                --mode bare or noop serves the same routes without APIMetrics: with no middleware,
                or with one that only passes response bodies through (for the load test, whose
                build, Examples/HummingbirdLoadTest, adds --mode prometheus: Hummingbird's
                MetricsMiddleware and swift-prometheus).
                """)
            exit(0)
        default:
            fail("unknown argument \(argument); try --help")
        }
    }
    return (host, port, variant)
}

let (host, port, variant) = arguments()
/// A line on standard output, unbuffered: it reaches a pipe at once.
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

// --- setup: configuration, the middleware, the service beside the server ---
let metrics: APIMetricsService
do {
    metrics = try APIMetricsService(configuration: .fromEnvironment(base: ExampleServer.baseConfiguration()))
} catch {
    fail("\(error)")
}
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
do {
    try await app.runService()
} catch {
    fail("\(error)")
}
// --- end of setup ---
// The service has flushed already: this only reads its totals.
let report = await metrics.shutdown()
FileHandle.standardError.write(Data("hummingbird-example: stopped; \(report)\n".utf8))
