import Foundation

/// What the service says once, as it starts (``Diagnostics/Level/info``):
/// what it records and where calls go, where the view is, and a warning
/// for each thing that is on without protection.
enum StartupLine {
    /// The info line, then the warnings.
    static func messages(_ configuration: APIMetricsConfiguration, viewPort: UInt16?) -> [(Diagnostics.Level, String)] {
        guard configuration.isEnabled else {
            return [(.info, "recording is off (APIMETRICS_DISABLED or isEnabled): calls pass through unrecorded")]
        }
        var parts: [String] = []
        let destinations = configuration.exporters.map(\.summary)
        parts.append(
            "calls to " + (destinations.isEmpty ? "no destination (metrics only)" : destinations.joined(separator: ", ")))
        parts.append(
            configuration.capture.isBodyCaptureEnabled
                ? "bodies captured up to \(configuration.capture.maxBodyBytes) bytes, redacted" : "bodies not captured")
        let view = configuration.view
        if view.isEnabled {
            var paths: [String] = []
            if view.isDashboardEnabled { paths.append("dashboard \(MetricsView.dashboardPath)") }
            if view.isPrometheusEnabled { paths.append("Prometheus \(MetricsView.prometheusPath)") }
            var location = "on your server"
            if let viewPort, let address = view.address.flatMap(HostAndPort.init) {
                location += " and on \(address.host):\(viewPort)"
            }
            let guarded =
                view.bearerToken == nil
                ? "this machine only; set APIMETRICS_DASHBOARD_TOKEN to serve others" : "behind a bearer token"
            parts.append("view: \(paths.joined(separator: ", ")) \(location) (\(guarded))")
        }
        var messages: [(Diagnostics.Level, String)] = [
            (.info, "recording \(configuration.service) (\(configuration.environment)): \(parts.joined(separator: "; "))")
        ]
        // Secrets that would cross a network in the clear.
        if view.bearerToken != nil, let address = view.address.flatMap(HostAndPort.init), !Self.isLoopback(host: address.host) {
            messages.append(
                (
                    .warning,
                    "the view's own listener on \(address.host) serves plain HTTP: its bearer token crosses the network unencrypted; put it behind TLS"
                ))
        }
        for summary in destinations where Self.isPlainRemote(summary) {
            messages.append(
                (.warning, "\(summary) is plain HTTP to another machine: calls (and any key) cross the network unencrypted"))
        }
        return messages
    }

    /// Whether a destination's summary names an `http://` URL whose host is not this machine.
    static func isPlainRemote(_ summary: String) -> Bool {
        guard let start = summary.range(of: "http://") else { return false }
        let rest = summary[start.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != " " && $0 != ")" && $0 != "," }
        let host =
            authority.hasPrefix("[")
            ? String(authority.dropFirst().prefix { $0 != "]" })
            : String(authority.split(separator: "@").last?.split(separator: ":").first ?? "")
        return !isLoopback(host: host)
    }

    static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}
