import Foundation

extension APIMetricsConfiguration {
    /// The OpenTelemetry variables ``fromEnvironment(_:base:)`` reads, as
    /// the OTLP exporter specification names them, and APIMetrics' shortcut.
    public static let otlpEnvironmentVariables: [(name: String, meaning: String)] = [
        ("APIMETRICS_OTLP_ENDPOINT", "OTLP/HTTP base URL (shortcut for OTEL_EXPORTER_OTLP_ENDPOINT, which it wins over)"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP base URL; /v1/traces, /v1/logs, /v1/metrics are appended"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "full URL for spans, used as is"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "full URL for the request log, used as is"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "full URL for metrics, used as is"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf (default) or http/json"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "extra headers, key=value pairs separated by commas, values percent-encoded"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip (default) or none"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "request timeout in milliseconds (default 10000)"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta (default) or cumulative"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            "explicit_bucket_histogram (default) or base2_exponential_bucket_histogram"
        ),
        ("OTEL_TRACES_EXPORTER", "none leaves the spans out"),
        ("OTEL_LOGS_EXPORTER", "none leaves the request log out"),
        ("OTEL_METRICS_EXPORTER", "none leaves the metrics out"),
        ("APIMETRICS_OTLP_SPAN_HEADERS", "true puts the redacted headers on spans (spansIncludeHeaders)"),
        ("APIMETRICS_OTLP_SPAN_BODY_SIZES", "true puts the body sizes on spans (spansIncludeBodySizes)"),
        ("OTEL_SERVICE_NAME", "service, unless APIMETRICS_SERVICE is set"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "resource attributes, key=value pairs; service.name, service.version, deployment.environment(.name) and service.instance.id set the identity unless an APIMETRICS_ variable does"
        ),
    ]

    /// Reads the OpenTelemetry variables: the identity ones always, and an
    /// OTLP exporter when an endpoint is named (replacing any OTLP entry of
    /// `base`, and alongside the other exporters).
    static func readOTLP(_ reader: EnvironmentReader, into config: inout APIMetricsConfiguration) throws(ConfigurationError) {
        if reader.string("APIMETRICS_SERVICE") == nil, let service = try reader.line("OTEL_SERVICE_NAME") {
            config.service = service
        }
        var extraAttributes: [(key: String, value: String)] = []
        if let attributes = try keyValuePairs(reader, "OTEL_RESOURCE_ATTRIBUTES") {
            for (key, value) in attributes {
                switch key {
                case "service.name" where reader.string("APIMETRICS_SERVICE") == nil && reader.string("OTEL_SERVICE_NAME") == nil:
                    config.service = value
                case "service.version" where reader.string("APIMETRICS_VERSION") == nil:
                    config.version = value
                case "deployment.environment.name" where reader.string("APIMETRICS_ENV") == nil,
                    "deployment.environment" where reader.string("APIMETRICS_ENV") == nil:
                    config.environment = value
                case "service.instance.id" where reader.string("APIMETRICS_INSTANCE_ID") == nil:
                    config.instanceID = value
                case "service.name", "service.version", "deployment.environment.name", "deployment.environment",
                    "service.instance.id":
                    continue
                default:
                    extraAttributes.append((key, value))
                }
            }
        }

        var base = try reader.line("APIMETRICS_OTLP_ENDPOINT")
        if base == nil { base = try reader.line("OTEL_EXPORTER_OTLP_ENDPOINT") }
        var signalEndpoints: [OTLPExporter.Signal: String] = [:]
        for (signal, variable) in [
            (OTLPExporter.Signal.traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            (.logs, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"), (.metrics, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
        ] {
            if let url = try reader.line(variable) {
                try checkURL(url, variable: variable)
                signalEndpoints[signal] = url
            }
        }
        guard base != nil || !signalEndpoints.isEmpty else { return }
        if let base {
            try checkURL(
                base,
                variable: reader.string("APIMETRICS_OTLP_ENDPOINT") != nil
                    ? "APIMETRICS_OTLP_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT")
        }
        var options = OTLPExporter.Options(endpoint: base, signalEndpoints: signalEndpoints, resourceAttributes: extraAttributes)
        // With no base URL, only the signals given their own are sent.
        options.signals = base == nil ? Set(signalEndpoints.keys) : [.traces, .logs, .metrics]
        for (signal, variable) in [
            (OTLPExporter.Signal.traces, "OTEL_TRACES_EXPORTER"), (.logs, "OTEL_LOGS_EXPORTER"),
            (.metrics, "OTEL_METRICS_EXPORTER"),
        ] {
            guard let value = reader.string(variable)?.lowercased() else { continue }
            switch value {
            case "none": options.signals.remove(signal)
            case "otlp": continue
            default: throw ConfigurationError(field: variable, reason: "expected otlp or none, got \"\(value)\"")
            }
        }
        if let text = reader.string("OTEL_EXPORTER_OTLP_PROTOCOL") {
            guard let encoding = OTLPExporter.Encoding(text) else {
                let hint = text.lowercased() == "grpc" ? " (gRPC is not supported)" : ""
                throw ConfigurationError(
                    field: "OTEL_EXPORTER_OTLP_PROTOCOL", reason: "expected http/protobuf or http/json, got \"\(text)\"\(hint)")
            }
            options.encoding = encoding
        }
        if let headers = try keyValuePairs(reader, "OTEL_EXPORTER_OTLP_HEADERS") {
            for (name, value) in headers { options.headers.append(name: name, value: value) }
        }
        if let compression = reader.string("OTEL_EXPORTER_OTLP_COMPRESSION") {
            switch compression.lowercased() {
            case "gzip": options.compression = .gzip
            case "none": options.compression = .none
            default:
                throw ConfigurationError(
                    field: "OTEL_EXPORTER_OTLP_COMPRESSION", reason: "expected gzip or none, got \"\(compression)\"")
            }
        }
        if let millis = try reader.int("OTEL_EXPORTER_OTLP_TIMEOUT", in: 1...3_600_000) {
            options.timeout = .milliseconds(millis)
        }
        if let temporality = reader.string("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE") {
            switch temporality.lowercased() {
            case "delta": options.temporality = .delta
            case "cumulative": options.temporality = .cumulative
            default:
                throw ConfigurationError(
                    field: "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                    reason: "expected delta or cumulative, got \"\(temporality)\"")
            }
        }
        if let aggregation = reader.string("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION") {
            switch aggregation.lowercased() {
            case "explicit_bucket_histogram": options.durationHistogram = .explicitBuckets
            case "base2_exponential_bucket_histogram": options.durationHistogram = .exponential
            default:
                throw ConfigurationError(
                    field: "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
                    reason: "expected explicit_bucket_histogram or base2_exponential_bucket_histogram, got \"\(aggregation)\"")
            }
        }
        if let headers = try reader.bool("APIMETRICS_OTLP_SPAN_HEADERS") { options.spansIncludeHeaders = headers }
        if let sizes = try reader.bool("APIMETRICS_OTLP_SPAN_BODY_SIZES") { options.spansIncludeBodySizes = sizes }
        guard !options.signals.isEmpty else { return }
        do {
            try options.validate(field: "otlp")
        } catch {
            throw ConfigurationError(field: "OTEL_EXPORTER_OTLP_\(error.field.dropFirst(5).uppercased())", reason: error.reason)
        }
        config.exporters.removeAll { if case .otlp = $0.kind { return true } else { return false } }
        config.exporters.append(.otlp(options))
    }

    private static func checkURL(_ url: String, variable: String) throws(ConfigurationError) {
        try HTTPExporter.validateURL(url, field: variable)
    }

    /// `key=value` pairs separated by commas, keys and values
    /// percent-decoded and trimmed (the W3C Baggage form the OpenTelemetry
    /// variables use).
    static func keyValuePairs(_ reader: EnvironmentReader, _ variable: String) throws(ConfigurationError) -> [(String, String)]? {
        guard let text = reader.string(variable) else { return nil }
        var pairs: [(String, String)] = []
        // Values are often credentials: an error names an entry by its
        // position and key, never by its value.
        for (index, entry) in text.split(separator: ",").enumerated() {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError(field: variable, reason: "entry \(index + 1) is not key=value")
            }
            let rawKey = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let rawValue = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard let key = rawKey.removingPercentEncoding, let value = rawValue.removingPercentEncoding, !key.isEmpty else {
                throw ConfigurationError(
                    field: variable, reason: "entry \(index + 1) has an empty key or a broken percent-encoding")
            }
            guard !value.contains(where: \.isNewline) else {
                throw ConfigurationError(field: variable, reason: "the value of \"\(key)\" holds a line break")
            }
            pairs.append((key, value))
        }
        return pairs
    }
}
