/// Who is sending: the fields every event and batch carries.
public struct ServiceIdentity: Sendable, Hashable {
    /// The service's name.
    public var service: String
    /// The deployment environment.
    public var environment: String
    /// The service's version, when set.
    public var version: String?
    /// Free-form tags.
    public var tags: [String]
    /// Whether this is a development deployment.
    public var isDevelopment: Bool
    /// This process among the service's instances.
    public var instanceID: String?

    /// Creates an identity.
    ///
    /// - Parameters:
    ///   - service: the service's name.
    ///   - environment: the deployment environment.
    ///   - version: the service's version; `nil` (the default) when not set.
    ///   - tags: free-form tags; none by default.
    ///   - isDevelopment: whether this is a development deployment; `false`
    ///     by default.
    ///   - instanceID: this process among the service's instances; `nil` by
    ///     default.
    public init(
        service: String, environment: String, version: String? = nil, tags: [String] = [],
        isDevelopment: Bool = false, instanceID: String? = nil
    ) {
        self.service = service
        self.environment = environment
        self.version = version
        self.tags = tags
        self.isDevelopment = isDevelopment
        self.instanceID = instanceID
    }
}
