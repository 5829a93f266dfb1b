extension APIMetricsConfiguration {
    /// The variables that turn on an exporter to a vendor's own ingest; each
    /// adds its exporter beside the others.
    public static let vendorEnvironmentVariables: [(name: String, meaning: String)] = [
        ("APIMETRICS_MOESIF_APPLICATION_ID", "Moesif's application ID: sends calls and profiles to Moesif"),
        ("APIMETRICS_MOESIF_BASE_URL", "Moesif's collector URL (default https://api.moesif.net), for a proxy or a test"),
        ("APIMETRICS_README_API_KEY", "the ReadMe project's API key: sends calls to ReadMe Metrics"),
        ("APIMETRICS_README_BASE_URL", "ReadMe's Metrics API URL (default https://metrics.readme.io), for a proxy or a test"),
        (
            "APIMETRICS_APITALLY_CLIENT_ID",
            "Apitally's client ID: sends the metrics to Apitally (its environment is APIMETRICS_ENV)"
        ),
        ("APIMETRICS_APITALLY_BASE_URL", "Apitally's hub URL (default https://hub.apitally.io), for a proxy or a test"),
        ("APIMETRICS_APITALLY_REQUEST_LOGGING", "true also uploads each call to Apitally's request log"),
        (
            "APIMETRICS_APITALLY_LOG_REQUEST_HEADERS",
            "true also puts request headers (redacted) in Apitally's request log (default false, as Apitally's)"
        ),
        (
            "APIMETRICS_APITALLY_INSTANCE_DIR",
            "where Apitally's instance UUID is kept (default $TMPDIR/apitally); a directory of this user's alone"
        ),
        (
            "APIMETRICS_MONOSCOPE_API_KEY",
            "the Monoscope project's API key: sends calls to Monoscope over OTLP (spans, request log, metrics)"
        ),
        ("APIMETRICS_MONOSCOPE_ENDPOINT", "Monoscope's OTLP/HTTP collector URL (default \(MonoscopeOptions.defaultEndpoint))"),
        ("APIMETRICS_MONOSCOPE_TRACES", "false stops sending the calls to Monoscope as spans (default true)"),
        ("APIMETRICS_MONOSCOPE_LOGS", "false stops sending the request log to Monoscope (default true)"),
        ("APIMETRICS_MONOSCOPE_METRICS", "false stops sending the metrics to Monoscope (default true)"),
    ]

    private static let monoscopeSignalVariables: [(OTLPExporter.Signal, String)] = [
        (.traces, "APIMETRICS_MONOSCOPE_TRACES"), (.logs, "APIMETRICS_MONOSCOPE_LOGS"),
        (.metrics, "APIMETRICS_MONOSCOPE_METRICS"),
    ]

    static func readVendors(_ reader: EnvironmentReader, into config: inout APIMetricsConfiguration) throws(ConfigurationError) {
        try readMoesif(reader, into: &config)
        try readReadMe(reader, into: &config)
        try readApitally(reader, into: &config)
        try readMonoscope(reader, into: &config)
    }

    private static func readMoesif(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        if let applicationID = try reader.line("APIMETRICS_MOESIF_APPLICATION_ID") {
            var options = MoesifExporter.Options(applicationID: applicationID)
            if let base = try reader.line("APIMETRICS_MOESIF_BASE_URL") { options.baseURL = base }
            if let version = config.version { options.apiVersion = version }
            do {
                try options.validate(field: "moesif")
            } catch {
                let variable =
                    error.field.hasSuffix("baseURL") ? "APIMETRICS_MOESIF_BASE_URL" : "APIMETRICS_MOESIF_APPLICATION_ID"
                throw ConfigurationError(field: variable, reason: error.reason)
            }
            config.exporters.append(.moesif(options))
        } else if reader.string("APIMETRICS_MOESIF_BASE_URL") != nil {
            throw ConfigurationError(field: "APIMETRICS_MOESIF_BASE_URL", reason: "needs APIMETRICS_MOESIF_APPLICATION_ID")
        }
    }

    private static func readReadMe(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        guard let apiKey = try reader.line("APIMETRICS_README_API_KEY") else {
            if reader.string("APIMETRICS_README_BASE_URL") != nil {
                throw ConfigurationError(field: "APIMETRICS_README_BASE_URL", reason: "needs APIMETRICS_README_API_KEY")
            }
            return
        }
        var options = ReadMeExporter.Options(apiKey: apiKey, isDevelopment: config.isDevelopment)
        if let base = try reader.line("APIMETRICS_README_BASE_URL") { options.baseURL = base }
        do {
            try options.validate(field: "readMe")
        } catch {
            let variable = error.field.hasSuffix("baseURL") ? "APIMETRICS_README_BASE_URL" : "APIMETRICS_README_API_KEY"
            throw ConfigurationError(field: variable, reason: error.reason)
        }
        config.exporters.append(.readMe(options))
    }

    private static func readApitally(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        guard let clientID = try reader.line("APIMETRICS_APITALLY_CLIENT_ID") else {
            for variable in [
                "APIMETRICS_APITALLY_BASE_URL", "APIMETRICS_APITALLY_REQUEST_LOGGING",
                "APIMETRICS_APITALLY_LOG_REQUEST_HEADERS", "APIMETRICS_APITALLY_INSTANCE_DIR",
            ] where reader.string(variable) != nil {
                throw ConfigurationError(field: variable, reason: "needs APIMETRICS_APITALLY_CLIENT_ID")
            }
            return
        }
        var options = ApitallyExporter.Options(clientID: clientID, environment: config.environment, appVersion: config.version)
        if let base = try reader.line("APIMETRICS_APITALLY_BASE_URL") { options.baseURL = base }
        if let logging = try reader.bool("APIMETRICS_APITALLY_REQUEST_LOGGING") { options.isRequestLoggingEnabled = logging }
        if let headers = try reader.bool("APIMETRICS_APITALLY_LOG_REQUEST_HEADERS") {
            options.requestLog.includesRequestHeaders = headers
        }
        if let directory = try reader.line("APIMETRICS_APITALLY_INSTANCE_DIR") { options.instanceDirectory = directory }
        // A metrics interval set here is Apitally's sync interval too.
        if reader.string("APIMETRICS_METRICS_INTERVAL_S") != nil { options.syncInterval = config.metrics.interval }
        do {
            try options.validate(field: "apitally")
        } catch {
            let variable: String
            switch error.field {
            case "apitally.baseURL": variable = "APIMETRICS_APITALLY_BASE_URL"
            case "apitally.environment": variable = "APIMETRICS_ENV"
            case "apitally.syncInterval": variable = "APIMETRICS_METRICS_INTERVAL_S"
            case "apitally.instanceDirectory": variable = "APIMETRICS_APITALLY_INSTANCE_DIR"
            default: variable = "APIMETRICS_APITALLY_CLIENT_ID"
            }
            throw ConfigurationError(field: variable, reason: error.reason)
        }
        config.exporters.append(.apitally(options))
    }

    private static func readMonoscope(
        _ reader: EnvironmentReader, into config: inout APIMetricsConfiguration
    ) throws(ConfigurationError) {
        guard let apiKey = try reader.line("APIMETRICS_MONOSCOPE_API_KEY") else {
            for variable in ["APIMETRICS_MONOSCOPE_ENDPOINT"] + monoscopeSignalVariables.map(\.1)
            where reader.string(variable) != nil {
                throw ConfigurationError(field: variable, reason: "needs APIMETRICS_MONOSCOPE_API_KEY")
            }
            return
        }
        var options = MonoscopeOptions(apiKey: apiKey, tags: config.tags, serviceVersion: config.version)
        if let endpoint = try reader.line("APIMETRICS_MONOSCOPE_ENDPOINT") { options.endpoint = endpoint }
        for (signal, variable) in monoscopeSignalVariables {
            if try reader.bool(variable) == false { options.signals.remove(signal) }
        }
        do {
            try options.validate(field: "monoscope")
        } catch {
            if error.field.hasSuffix("signals") {
                throw ConfigurationError(
                    field: "APIMETRICS_MONOSCOPE_TRACES",
                    reason: "with APIMETRICS_MONOSCOPE_LOGS and APIMETRICS_MONOSCOPE_METRICS false too, nothing would be sent")
            }
            let variable = error.field.hasSuffix("apiKey") ? "APIMETRICS_MONOSCOPE_API_KEY" : "APIMETRICS_MONOSCOPE_ENDPOINT"
            throw ConfigurationError(field: variable, reason: error.reason)
        }
        config.exporters.append(.monoscope(options))
    }
}
