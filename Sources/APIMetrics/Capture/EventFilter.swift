/// ``EventFilterOptions`` compiled for the request path: a few set lookups and
/// prefix checks, no allocation for most calls. A class, so that the
/// request path reaches it through one reference instead of copying it.
final class EventFilter: Sendable {
    /// No exclusion and no sampling: every call is logged with weight 1.
    let admitsEverything: Bool
    private let paths: NameSet
    private let userAgents: NameSet
    private let allowedHosts: Set<String>?
    private let sampleThreshold: UInt64
    private let weight: Double

    init(_ options: EventFilterOptions) {
        paths = NameSet(options.excludedPaths.map(FieldMatcher.parse))
        userAgents = NameSet(options.excludedUserAgents.map(FieldMatcher.parse))
        allowedHosts = options.allowedHosts.map { Set($0.map { $0.lowercased() }) }
        if options.sampleRate >= 1 {
            sampleThreshold = .max
        } else {
            sampleThreshold = UInt64(options.sampleRate * Double(UInt64(1) << 53)) << 11
        }
        weight = options.sampleRate > 0 ? 1 / options.sampleRate : 0
        admitsEverything = paths.isEmpty && userAgents.isEmpty && allowedHosts == nil && sampleThreshold == .max
    }

    /// The call's weight when it is logged (1, or 1 / rate when sampling);
    /// `nil` when it is not.
    /// The event's weight when it is logged; 0 when sampling leaves it
    /// out; `nil` when a rule excludes it.
    func admit(target: String, headers: HeaderFields, id: EventID) -> Double? {
        if admitsEverything { return 1 }
        // Both read in place: no string made, none hashed.
        if !paths.isEmpty {
            var target = target
            let excluded = target.withUTF8 { bytes -> Bool in
                let end = bytes.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
                return paths.matches(bytes: UnsafeBufferPointer(rebasing: bytes[..<end]))
            }
            if excluded { return nil }
        }
        if !userAgents.isEmpty,
            headers.withFirstValue(named: "user-agent", { agent in agent.map { self.userAgents.matches(bytes: $0) } ?? false })
        {
            return nil
        }
        if let allowedHosts {
            let host = headers["host"].map(Self.hostWithoutPort) ?? ""
            if !allowedHosts.contains(host) { return nil }
        }
        if sampleThreshold != .max {
            // The id is random already: its low bits are the sampling draw.
            // Sampled out is 0, apart from nil (excluded), for the counters.
            guard id.low < sampleThreshold else { return 0 }
            return weight
        }
        return 1
    }

    static func hostWithoutPort(_ host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("[") {
            return lowered.firstIndex(of: "]").map { String(lowered[...$0]) } ?? lowered
        }
        return lowered.split(separator: ":", maxSplits: 1).first.map(String.init) ?? lowered
    }
}
