#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetrics
import APIMetricsFoundation
import APIMetricsWire
import Dispatch
import Foundation
import SocketServer
import Synchronization

// apimetrics-demo: a small JSON API on a hand-rolled socket server, recorded
// through APIMetrics and configured from APIMETRICS_* variables.

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("apimetrics-demo: \(message)\n".utf8))
    exit(status)
}

var host = "127.0.0.1"
var port: UInt16 = 8080
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--host":
        guard let value = arguments.popFirst() else { fail("--host needs a value") }
        host = value
    case "--port":
        guard let value = arguments.popFirst(), let number = UInt16(value) else { fail("--port needs a number from 0 to 65535") }
        port = number
    case "--help", "-h":
        print(
            """
            usage: apimetrics-demo [--host 127.0.0.1] [--port 8080]
            Configure recording with APIMETRICS_* environment variables (see README).
            """)
        exit(0)
    default:
        fail("unknown argument \(argument); try --help")
    }
}

var base = APIMetricsConfiguration.default
base.service = "apimetrics-demo"
base.identifyConsumer = DemoConsumers.identifier
// A showcase: the dashboard and the Prometheus exposition are on unless
// APIMETRICS_DASHBOARD=0 or APIMETRICS_PROMETHEUS=0 (the library leaves
// both off by default).
base.view.isDashboardEnabled = true
base.view.isPrometheusEnabled = true
base.metrics.routes = DemoAPI.routeNames
let configuration: APIMetricsConfiguration
let metrics: APIMetricsService
do {
    configuration = try APIMetricsConfiguration.fromEnvironment(base: base)
    metrics = try APIMetricsService(configuration: configuration)
} catch {
    fail("\(error)")
}

signal(SIGPIPE, SIG_IGN)
let recorder = metrics.recorder
let baseURL = Mutex("")
let api = DemoAPI(
    client: OutgoingClient(instrumented: recorder.isRecording ? InstrumentedURLSession(recorder: recorder) : nil),
    view: metrics.view.options.isEnabled ? metrics.view : nil,
    baseURL: { baseURL.withLock { $0 } },
    planChanged: { name, plan, status in
        // The consumer's company ("NAME-co") holds the subscription.
        metrics.updateConsumer(Consumer(id: name, name: name, group: "demo", company: "\(name)-co"))
        metrics.updateCompany(CompanyProfile(id: "\(name)-co", name: "\(name) Inc."))
        metrics.updateSubscription(SubscriptionProfile(id: "sub-\(name)", companyID: "\(name)-co", plan: plan, status: status))
    })
@Sendable func observe(_ peer: String) -> (any ConnectionObserver)? {
    TapObserver(tap: WireTap(recorder: recorder, clientAddress: peer))
}
// With APIMETRICS_DISABLED the tap is not installed at all: nothing of
// APIMetrics stays on the request path.
let server = SocketHTTPServer(
    host: host, port: port, observe: recorder.isRecording ? observe : nil,
    headHandler: { request, writer in api.handleHead(request, writer) }
) { request, writer in
    api.handle(request, writer)
}
let boundPort: UInt16
do {
    boundPort = try server.start()
} catch {
    fail("cannot listen on \(host):\(port): \(error)")
}

baseURL.withLock { $0 = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)" }

let destinations =
    configuration.isEnabled
    ? configuration.exporters.map(\.summary).joined(separator: ", ")
    : "nowhere (APIMETRICS_DISABLED)"
let root = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)"
print("listening on \(root)")
if metrics.view.options.isDashboardEnabled {
    print("dashboard: \(root)\(MetricsView.dashboardPath)  (JSON: \(root)\(MetricsView.apiPath))")
}
if metrics.view.options.isPrometheusEnabled {
    print("prometheus: \(root)\(MetricsView.prometheusPath)")
}
if let viewPort = metrics.viewPort {
    print("metrics view also on port \(viewPort)")
}
if metrics.view.options.isEnabled && metrics.view.options.bearerToken == nil {
    print("metrics view: this machine only (no APIMETRICS_DASHBOARD_TOKEN set)")
}
print("events go to: \(destinations)")
fflush(nil)

let background = Task { try await metrics.run() }

// Wait for SIGINT or SIGTERM, then stop taking requests, let those in flight
// finish, and flush every event before exiting 0.
await TerminationSignal.wait()
server.stop()
server.waitUntilIdle(timeout: .seconds(5))
let report = await metrics.shutdown(timeout: configuration.shutdownTimeout)
_ = try? await background.value
FileHandle.standardError.write(Data("apimetrics-demo: stopped; \(report)\n".utf8))
exit(0)
