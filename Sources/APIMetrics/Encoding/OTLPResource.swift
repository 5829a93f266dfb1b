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
}
