/// Server errors of one kind on one route: the same error type and message.
public struct ServerErrorGroup: Sendable, Hashable {
    /// The request method.
    public var method: String
    /// The route template.
    public var route: String
    /// The error's type, such as `DatabaseError`.
    public var type: String
    /// Its message.
    public var message: String
    /// Where it was raised (`file:line`), when known; the latest seen.
    public var location: String?
    /// Its underlying errors, outermost first, at most ``RecordedError/maxCauses``.
    public var causes: [RecordedError]
    /// How many calls failed with it, weighted.
    public var count: Double
    /// When it was first seen, in nanoseconds since the Unix epoch.
    public var firstSeenNanoseconds: Int64
    /// When it was last seen.
    public var lastSeenNanoseconds: Int64

    /// Creates a group.
    ///
    /// - Parameters:
    ///   - method: the request method.
    ///   - route: the route template.
    ///   - type: the error's type, such as `DatabaseError`.
    ///   - message: the error's message.
    ///   - location: where it was raised (`file:line`); `nil` when unknown.
    ///   - causes: its underlying errors, outermost first; none by default.
    ///   - count: how many calls failed with it, weighted.
    ///   - firstSeenNanoseconds: when it was first seen, in nanoseconds since
    ///     the Unix epoch.
    ///   - lastSeenNanoseconds: when it was last seen, in nanoseconds since
    ///     the Unix epoch.
    public init(
        method: String, route: String, type: String, message: String, location: String? = nil,
        causes: [RecordedError] = [], count: Double, firstSeenNanoseconds: Int64, lastSeenNanoseconds: Int64
    ) {
        self.method = method
        self.route = route
        self.type = type
        self.message = message
        self.location = location
        self.causes = causes
        self.count = count
        self.firstSeenNanoseconds = firstSeenNanoseconds
        self.lastSeenNanoseconds = lastSeenNanoseconds
    }

    /// What groups errors: route, type and message.
    var groupKey: [String] { [method, route, type, message] }

    /// Adds another sighting of the same error.
    public mutating func merge(_ other: ServerErrorGroup) {
        count += other.count
        if other.firstSeenNanoseconds < firstSeenNanoseconds { firstSeenNanoseconds = other.firstSeenNanoseconds }
        if other.lastSeenNanoseconds >= lastSeenNanoseconds {
            lastSeenNanoseconds = other.lastSeenNanoseconds
            if other.location != nil { location = other.location }
            if !other.causes.isEmpty { causes = other.causes }
        }
    }
}
