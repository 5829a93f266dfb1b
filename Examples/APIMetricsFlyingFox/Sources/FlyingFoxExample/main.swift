import APIMetrics
import APIMetricsFlyingFox
import FlyingFox
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import FlyingSocks
import UnixSignals

// flyingfox-example: the demo's API on FlyingFox, recorded by
// APIMetricsHandler and configured from APIMETRICS_* variables.

let commandLine = ExampleCommandLine(
    program: "flyingfox-example",
    usage: """
        usage: flyingfox-example [--host 127.0.0.1] [--port 8080]
        Configure recording with APIMETRICS_* environment variables (see the README).
        """)
func fail(_ message: String) -> Never { commandLine.fail(message) }
let (host, commandLinePort, _) = commandLine.parse()
/// The port given, or the default.
func port() -> UInt16 { UInt16(commandLinePort) }
guard (try? sockaddr_in.inet(ip4: host, port: 0)) != nil else { fail("--host needs an IPv4 address, got \(host)") }

let metrics = commandLine.metrics(ExampleServer.baseConfiguration())
let baseURL = Mutex("")
let routes = ExampleServer.routes(metrics: metrics, baseURL: { baseURL.withLock { $0 } })
// --- setup ---
let server = HTTPServer(address: try .inet(ip4: host, port: port()), handler: APIMetricsHandler(metrics, routes: routes))
let group = ServiceGroup(
    services: [APIMetricsLifecycleService(metrics), FlyingFoxServerService(server)],
    gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "flyingfox-example"))
// --- end of setup ---
Task {
    try await server.waitUntilListening()
    guard case let .ip4(_, port)? = await server.listeningAddress else { return }
    let root = "http://\(host):\(port)"
    baseURL.withLock { $0 = root }
    FileHandle.standardOutput.write(Data("listening on \(root)\n".utf8))
    if metrics.view.options.isDashboardEnabled {
        FileHandle.standardOutput.write(Data("dashboard: \(root)\(MetricsView.dashboardPath)\n".utf8))
    }
}
await commandLine.serve(metrics) { try await group.run() }
