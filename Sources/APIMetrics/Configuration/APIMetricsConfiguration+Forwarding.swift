extension APIMetricsConfiguration {
    /// `APIMETRICS_TRUSTED_PROXIES` and `APIMETRICS_FORWARDED_HEADERS`.
    ///
    /// The proxies: comma-separated CIDR blocks or addresses, `none`, or
    /// `private` for ``TrustedProxies/privateNetworks`` (which may be
    /// combined with blocks: `private,203.0.113.0/24`). The headers:
    /// comma-separated names (`forwarded`, `x-forwarded-for`, `x-real-ip`,
    /// `cf-connecting-ip`, `true-client-ip` or any other single-address
    /// header), replacing the default, or `none`.
    static func readForwarding(_ reader: EnvironmentReader, into config: inout APIMetricsConfiguration) throws(ConfigurationError)
    {
        let proxiesVariable = "APIMETRICS_TRUSTED_PROXIES"
        if let entries = try reader.list(proxiesVariable) {
            let lowered = entries.map { $0.lowercased() }
            if lowered.contains("none") {
                guard entries.count == 1 else {
                    throw ConfigurationError(
                        field: proxiesVariable,
                        reason: "none cannot be combined with other entries, got \"\(entries.joined(separator: ","))\"")
                }
                config.forwarding.trustedProxies = .none
            } else {
                var cidrs: [String] = []
                for (entry, lower) in zip(entries, lowered) {
                    if lower == "private" {
                        cidrs += TrustedProxies.privateNetworks.cidrs
                        continue
                    }
                    do {
                        _ = try IPRange(parsing: entry)
                    } catch {
                        throw ConfigurationError(
                            field: proxiesVariable, reason: "\(error.reason); expected CIDR blocks or addresses, private, or none"
                        )
                    }
                    cidrs.append(entry)
                }
                config.forwarding.trustedProxies = .cidrs(cidrs)
            }
        }
        let headersVariable = "APIMETRICS_FORWARDED_HEADERS"
        if let names = try reader.list(headersVariable) {
            if names.contains(where: { $0.lowercased() == "none" }), names.count > 1 {
                throw ConfigurationError(
                    field: headersVariable,
                    reason: "none cannot be combined with header names, got \"\(names.joined(separator: ","))\"")
            }
            let headers = ForwardingHeaders(names: names)
            do {
                try headers.validate(field: headersVariable)
            } catch {
                throw ConfigurationError(field: headersVariable, reason: error.reason)
            }
            config.forwarding.headers = headers
        }
    }
}
