/// A company (an account, a tenant) that consumers belong to.
public struct CompanyProfile: Sendable, Hashable {
    /// A stable identifier.
    public var id: String
    /// A readable name.
    public var name: String?
    /// The company's web domain.
    public var domain: String?
    /// Free-form values.
    public var metadata: [String: String]

    /// Creates a company profile.
    ///
    /// - Parameters:
    ///   - id: a stable identifier.
    ///   - name: a readable name; `nil` by default.
    ///   - domain: the company's web domain; `nil` by default.
    ///   - metadata: free-form values; none by default.
    public init(id: String, name: String? = nil, domain: String? = nil, metadata: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.domain = domain
        self.metadata = metadata
    }
}
