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

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("flyingfox-example: \(message)\n".utf8))
    exit(2)
}

/// `--port`, or the default.
func port() -> UInt16 {
    var port: UInt16 = 8080
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--port":
            guard let value = arguments.popFirst(), let number = UInt16(value) else {
                fail("--port needs a number from 0 to 65535")
            }
            port = number
        case "--help", "-h":
            print(
                "usage: flyingfox-example [--port 8080]\nConfigure recording with APIMETRICS_* environment variables (see the README)."
            )
            exit(0)
        default:
            fail("unknown argument \(argument); try --help")
        }
    }
    return port
}

let metrics: APIMetricsService
do {
    metrics = try APIMetricsService(configuration: .fromEnvironment(base: ExampleServer.baseConfiguration()))
} catch {
    fail("\(error)")
}
let baseURL = Mutex("")
let routes = ExampleServer.routes(metrics: metrics, baseURL: { baseURL.withLock { $0 } })
// --- setup ---
let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: port()), handler: APIMetricsHandler(metrics, routes: routes))
let group = ServiceGroup(
    services: [APIMetricsLifecycleService(metrics), FlyingFoxServerService(server)],
    gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "flyingfox-example"))
// --- end of setup ---
Task {
    try await server.waitUntilListening()
    guard case let .ip4(_, port)? = await server.listeningAddress else { return }
    let root = "http://127.0.0.1:\(port)"
    baseURL.withLock { $0 = root }
    FileHandle.standardOutput.write(Data("listening on \(root)\n".utf8))
    if metrics.view.options.isDashboardEnabled {
        FileHandle.standardOutput.write(Data("dashboard: \(root)\(MetricsView.dashboardPath)\n".utf8))
    }
}
do {
    try await group.run()
} catch {
    fail("\(error)")
}
// The service has flushed already: this only reads its totals.
let report = await metrics.shutdown()
FileHandle.standardError.write(Data("flyingfox-example: stopped; \(report)\n".utf8))
