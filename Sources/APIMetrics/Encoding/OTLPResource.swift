/// The resource every OTLP body names, who is sending: the service's
/// identity and any attributes the deployment adds
/// (`OTEL_RESOURCE_ATTRIBUTES`).
struct OTLPResource: Sendable {
    var identity: ServiceIdentity
    /// More attributes, after the identity's; a key the identity already
    /// sets is left out.
    var attributes: [(key: String, value: String)] = []

    /// The identity's attributes: `service.name`, `service.version`,
    /// `deployment.environment.name`, `service.instance.id` and the
    /// `telemetry.sdk.*` three.
    var identityAttributes: [(key: String, value: String)] {
        var list: [(key: String, value: String)] = [("service.name", identity.service)]
        if let version = identity.version { list.append(("service.version", version)) }
        list.append(("deployment.environment.name", identity.environment))
        if let instance = identity.instanceID { list.append(("service.instance.id", instance)) }
        list.append(("telemetry.sdk.name", "apimetrics"))
        list.append(("telemetry.sdk.language", "swift"))
        list.append(("telemetry.sdk.version", APIMetricsService.libraryVersion))
        return list
    }

    /// The `resource` field (1) of a `Resource{Spans,Logs,Metrics}`.
    func write<W: OTLPWriter & ~Copyable>(into writer: inout W) {
        writer.message(1, "resource") { resource in
            resource.repeated(1, "attributes") { list in
                let own = identityAttributes
                for (key, value) in own { OTLPAttributes.string(key, value, into: &list, field: 1) }
                for (key, value) in attributes where !own.contains(where: { $0.key == key }) {
                    OTLPAttributes.string(key, value, into: &list, field: 1)
                }
            }
        }
    }

    /// The `scope` field (1) of a `Scope{Spans,Logs,Metrics}`: this library.
    static func writeScope<W: OTLPWriter & ~Copyable>(into writer: inout W) {
        writer.message(1, "scope") { scope in
            scope.string(1, "name", "APIMetrics")
            scope.string(2, "version", APIMetricsService.libraryVersion)
        }
    }

    /// The names of one signal's envelope, as the OTLP JSON mapping spells
    /// them (the protobuf encoding uses only the field numbers, which are
    /// the same for every signal).
    struct Envelope {
        /// `resourceSpans`, `resourceLogs` or `resourceMetrics`.
        var resources: StaticString
        /// `scopeSpans`, `scopeLogs` or `scopeMetrics`.
        var scopes: StaticString
        /// `spans`, `logRecords` or `metrics`.
        var items: StaticString

        static let traces = Envelope(resources: "resourceSpans", scopes: "scopeSpans", items: "spans")
        static let logs = Envelope(resources: "resourceLogs", scopes: "scopeLogs", items: "logRecords")
        static let metrics = Envelope(resources: "resourceMetrics", scopes: "scopeMetrics", items: "metrics")
    }

    /// An export request of one signal: one resource (field 1), this one,
    /// holding one scope (field 2), this library, whose items (field 2)
    /// `items` writes, each with `writer.element(2) { … }`.
    func writeRequest<W: OTLPWriter & ~Copyable>(
        _ envelope: Envelope, into writer: inout W, items: (inout W) -> Void
    ) {
        writer.repeated(1, envelope.resources) { list in
            list.element(1) { resourceItems in
                write(into: &resourceItems)
                resourceItems.repeated(2, envelope.scopes) { list in
                    list.element(2) { scopeItems in
                        Self.writeScope(into: &scopeItems)
                        scopeItems.repeated(2, envelope.items, items)
                    }
                }
            }
        }
    }
}
