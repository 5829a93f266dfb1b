import APIMetrics
import Foundation

/// The command line every example program takes: `--host`, `--port`,
/// `--help`, and options of its own that take a value; and how it says
/// that something is wrong (on standard error, named, exit status 2).
struct ExampleCommandLine {
    /// The program's name, in its messages.
    let program: String
    /// What `--help` prints.
    let usage: String
    /// The options of the program's own, such as `--mode`.
    var options: [String] = []

    /// `message` on standard error, then exit with `status`.
    func fail(_ message: String, status: Int32 = 2) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
        exit(status)
    }

    /// The arguments read: the host and port (127.0.0.1 and 8080 unless
    /// given) and the values of the program's own options; `--help`
    /// prints the usage and exits, anything else unknown fails.
    func parse(
        _ arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) -> (
        host: String, port: Int, values: [String: String]
    ) {
        var host = "127.0.0.1", port = 8080, values: [String: String] = [:]
        var arguments = arguments[...]
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
            case "--help", "-h":
                print(usage)
                exit(0)
            case let option where options.contains(option):
                guard let value = arguments.popFirst() else { fail("\(option) needs a value") }
                values[option] = value
            default:
                fail("unknown argument \(argument); try --help")
            }
        }
        return (host, port, values)
    }

    /// Runs the server until it stops (a failure ends the program), then
    /// says on standard error what the metrics did: the lifecycle has
    /// flushed them already, so this only reads their totals.
    func serve(_ metrics: APIMetricsService, _ server: () async throws -> Void) async {
        do {
            try await server()
        } catch {
            fail("\(error)")
        }
        let report = await metrics.shutdown()
        FileHandle.standardError.write(Data("\(program): stopped; \(report)\n".utf8))
    }

    /// The example's metrics: `base` with the `APIMETRICS_*` and `OTEL_*`
    /// variables read over it; a configuration error ends the program.
    func metrics(_ base: APIMetricsConfiguration) -> APIMetricsService {
        do {
            #if APIMETRICS_LOADTEST
            var configuration = try APIMetricsConfiguration.fromEnvironment(base: base)
            // The load test's `discard` variant: every call captured and
            // processed, then let go; what the pipeline costs before any
            // destination (the file it names is never opened).
            if ProcessInfo.processInfo.environment["APIMETRICS_LOADTEST_DISCARD"] == "1" {
                configuration.exporters = [.custom(DiscardingExporter())]
            }
            return try APIMetricsService(configuration: configuration)
            #else
            return try APIMetricsService(configuration: .fromEnvironment(base: base))
            #endif
        } catch {
            fail("\(error)")
        }
    }
}

#if APIMETRICS_LOADTEST
/// Lets every batch go once it is processed (the load test's `discard`).
struct DiscardingExporter: EventExporter {
    var name: String { "discard" }
    func export(_ batch: ExportBatch) async throws {}
}
#endif
