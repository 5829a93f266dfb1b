/// API discovery: the OpenAPI document the traffic implies, learnt in the
/// sender from each call's route template, parameters and JSON bodies
/// before redaction — shapes only, never a value.
///
/// ```swift
/// config.discovery.maxOperations = 200
/// config.discovery = .disabled
/// ```
public struct DiscoveryOptions: Sendable, Hashable {
    /// Whether calls are learnt from (`APIMETRICS_DISCOVERY`, on by default).
    public var isEnabled: Bool
    /// The most operations (method and route) described; calls of later
    /// ones are counted, not learnt.
    public var maxOperations: Int
    /// The deepest nesting of a body described; deeper values are left open.
    public var maxDepth: Int
    /// The most members described per object; the rest are described as
    /// `additionalProperties`.
    public var maxProperties: Int
    /// The calls an operation is learnt from in full after its shape last
    /// changed; past them one call in ``sampleEvery`` teaches it.
    public var stableAfter: Int
    /// One call in this many is learnt from once an operation is stable.
    public var sampleEvery: Int
    /// The document's `servers` (such as `https://api.example.com`); when
    /// empty, the hosts of the `Host` headers seen most, marked as observed
    /// and unverified (a client chooses its `Host`).
    public var servers: [String] = []
    /// Your own OpenAPI document (3.0 or 3.1, JSON or YAML; at most 16 MiB),
    /// read at start (`APIMETRICS_OPENAPI_SPEC`): each call is checked
    /// against it in the sender — undocumented operations, statuses, media
    /// types and fields, bodies and parameters that break its schemas —
    /// and the learnt API compared with it. `nil` (the default): no check.
    public var specPath: String?

    /// Creates options.
    ///
    /// - Parameters:
    ///   - isEnabled: whether calls are learnt from; `true` by default.
    ///   - maxOperations: the most operations (method and route) described,
    ///     from 1 to 100,000; 1,000 by default.
    ///   - maxDepth: the deepest nesting of a body described, from 1 to 32; 8
    ///     by default.
    ///   - maxProperties: the most members described per object, from 1 to
    ///     64; 64 by default.
    ///   - stableAfter: the calls an operation is learnt from in full after
    ///     its shape last changed, at least 1; 1,000 by default.
    ///   - sampleEvery: one call in this many is learnt from once an
    ///     operation is stable, from 1 to 1,000,000; 16 by default.
    public init(
        isEnabled: Bool = true, maxOperations: Int = 1_000, maxDepth: Int = 8, maxProperties: Int = 64,
        stableAfter: Int = 1_000, sampleEvery: Int = 16
    ) {
        self.isEnabled = isEnabled
        self.maxOperations = maxOperations
        self.maxDepth = maxDepth
        self.maxProperties = maxProperties
        self.stableAfter = stableAfter
        self.sampleEvery = sampleEvery
    }

    /// On, with the defaults.
    public static let `default` = DiscoveryOptions()

    /// Nothing is learnt; the document is empty.
    public static let disabled = DiscoveryOptions(isEnabled: false)

    func validate() throws(ConfigurationError) {
        guard (1...100_000).contains(maxOperations) else {
            throw ConfigurationError(field: "discovery.maxOperations", reason: "must be from 1 to 100000, got \(maxOperations)")
        }
        guard (1...32).contains(maxDepth) else {
            throw ConfigurationError(field: "discovery.maxDepth", reason: "must be from 1 to 32, got \(maxDepth)")
        }
        guard (1...64).contains(maxProperties) else {
            throw ConfigurationError(field: "discovery.maxProperties", reason: "must be from 1 to 64, got \(maxProperties)")
        }
        guard stableAfter >= 1 else {
            throw ConfigurationError(field: "discovery.stableAfter", reason: "must be at least 1, got \(stableAfter)")
        }
        for (index, server) in servers.enumerated()
        where server.isEmpty || server.utf8.count > 2_048 || server.contains(where: \.isNewline) {
            throw ConfigurationError(
                field: "discovery.servers[\(index)]", reason: "must be a URL on one line, at most 2048 bytes")
        }
        if let specPath, specPath.isEmpty || specPath.utf8.count > 4_096 || specPath.contains(where: \.isNewline) {
            throw ConfigurationError(field: "discovery.specPath", reason: "must be a file path on one line, at most 4096 bytes")
        }
        if specPath != nil, !isEnabled {
            throw ConfigurationError(
                field: "discovery.specPath", reason: "checking calls against a spec needs discovery on (discovery.isEnabled)")
        }
        guard (1...1_000_000).contains(sampleEvery) else {
            throw ConfigurationError(field: "discovery.sampleEvery", reason: "must be from 1 to 1000000, got \(sampleEvery)")
        }
    }

    var shapeLimits: JSONShapeLimits {
        JSONShapeLimits(maxDepth: maxDepth, maxProperties: maxProperties)
    }
}
