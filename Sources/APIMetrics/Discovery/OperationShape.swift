/// What the calls of one operation (method and route template) taught:
/// its parameters, request bodies and responses per status and media
/// type, how it was authenticated, how often; shapes and counts only.
struct OperationShape: Sendable, Hashable {
    var method: String
    var route: String
    /// Calls seen (learnt from or sampled out).
    var calls = 0
    /// Calls folded into the shapes.
    var learnt = 0
    /// Calls learnt from since the shapes last changed.
    var sinceChange = 0
    /// Changes this run logged of it (at most ``APIDiscovery/maxChangesPerOperation``).
    var changesReported = 0
    var firstSeen: Int64
    var lastSeen: Int64
    /// The first call, an example of the operation.
    var firstCall: EventID
    /// The template's parameters, in order, with the types their segments had.
    var pathParameters: [Parameter] = []
    var query: [Parameter] = []
    /// Whether query parameters past the limit, or with names that read as data, were seen.
    var hasOtherQuery = false
    /// Request headers that are not standard ones (names and value types).
    var headers: [Parameter] = []
    var hasOtherHeaders = false
    var requestBodies: [Body] = []
    var responses: [Response] = []
    /// Calls with `Authorization: Bearer`, `Basic`, and the configured API key headers.
    var bearer = 0
    var basic = 0
    /// Calls that carried any of them.
    var authenticated = 0
    /// Credentials seen, all kinds (to tell whether a call carried one).
    var credentials = 0
    var apiKeys: [Parameter] = []

    /// A named parameter: how many calls had it, and its values' shape
    /// (types and formats, never a value).
    struct Parameter: Sendable, Hashable {
        var name: String
        var count = 0
        var shape = JSONShape()

        /// Seen in two calls or more: described. A name seen once may be
        /// a value a client made up (`?<token>=1`); it is kept, not
        /// written, and gives its place up when the list is full.
        var isConfirmed: Bool { count >= 2 }
    }

    /// Where a new parameter goes: at the end, or in the place of one seen
    /// once when the list is full; `nil` when every place is confirmed.
    static func place(in parameters: [Parameter]) -> Int? {
        parameters.count < maxParameters ? parameters.count : parameters.firstIndex { !$0.isConfirmed }
    }

    static func put(_ parameter: Parameter, at index: Int, in parameters: inout [Parameter]) {
        if index == parameters.count { parameters.append(parameter) } else { parameters[index] = parameter }
    }

    /// The bodies of one media type: how many, how many were not JSON (or
    /// not kept whole), and the JSON ones' shape.
    struct Body: Sendable, Hashable {
        var mediaType: String
        var count = 0
        var unread = 0
        var shape = JSONShape()
        /// The places its shape holds (``JSONShape/nodeCount``), kept as it grows.
        var nodes = 0

        /// Seen in two calls or more: described (a media type is a name a
        /// client chooses).
        var isConfirmed: Bool { count >= 2 }
    }

    /// The responses of one status.
    struct Response: Sendable, Hashable {
        var status: Int
        var count = 0
        var bodies: [Body] = []
    }

    /// The most query parameters, headers, media types and statuses kept per operation.
    static let maxParameters = 32
    /// The most places (members and items) one body's shape holds.
    static let maxNodesPerBody = 1_000
    static let maxMediaTypes = 4
    static let maxStatuses = 32

    init(method: String, route: String, time: Int64, call: EventID) {
        self.method = method
        self.route = route
        firstSeen = time
        lastSeen = time
        firstCall = call
        pathParameters = Self.templateParameters(route).map { Parameter(name: $0) }
    }

    /// The names of a template's parameters: `{id}`, `:id`, and `*`/`**` as
    /// `wildcard`, `wildcard2`… (OpenAPI names every path parameter).
    static func templateParameters(_ route: String) -> [String] {
        var names: [String] = []
        for segment in route.split(separator: "/", omittingEmptySubsequences: true) {
            if let name = parameterName(segment, index: names.count) { names.append(name) }
        }
        return names
    }

    /// The parameter a template segment names, if it is one.
    static func parameterName(_ segment: Substring, index: Int) -> String? {
        if segment.hasPrefix("{"), segment.hasSuffix("}"), segment.count > 2 {
            return String(segment.dropFirst().dropLast())
        }
        if segment.hasPrefix(":"), segment.count > 1 { return String(segment.dropFirst()) }
        if segment == "*" || segment == "**" { return index == 0 ? "wildcard" : "wildcard\(index + 1)" }
        return nil
    }

    /// Merges what `other` (another instance, an earlier run) learnt of
    /// the same operation.
    mutating func merge(_ other: OperationShape, limits: JSONShapeLimits) {
        calls += other.calls
        learnt += other.learnt
        if other.firstSeen < firstSeen {
            firstSeen = other.firstSeen
            firstCall = other.firstCall
        }
        lastSeen = max(lastSeen, other.lastSeen)
        for (index, parameter) in other.pathParameters.enumerated() where index < pathParameters.count {
            pathParameters[index].count += parameter.count
            pathParameters[index].shape.merge(parameter.shape, limits: limits)
        }
        Self.merge(other.query, into: &query, limits: limits, overflow: &hasOtherQuery)
        hasOtherQuery = hasOtherQuery || other.hasOtherQuery
        Self.merge(other.headers, into: &headers, limits: limits, overflow: &hasOtherHeaders)
        hasOtherHeaders = hasOtherHeaders || other.hasOtherHeaders
        var ignored = false
        Self.merge(other.apiKeys, into: &apiKeys, limits: limits, overflow: &ignored)
        Self.merge(other.requestBodies, into: &requestBodies, limits: limits)
        for response in other.responses {
            if let index = responses.firstIndex(where: { $0.status == response.status }) {
                responses[index].count += response.count
                Self.merge(response.bodies, into: &responses[index].bodies, limits: limits)
            } else if responses.count < Self.maxStatuses {
                responses.append(response)
            }
        }
        bearer += other.bearer
        basic += other.basic
        authenticated += other.authenticated
    }

    private static func merge(
        _ other: [Parameter], into parameters: inout [Parameter], limits: JSONShapeLimits, overflow: inout Bool
    ) {
        for parameter in other {
            if let index = parameters.firstIndex(where: { $0.name == parameter.name }) {
                parameters[index].count += parameter.count
                parameters[index].shape.merge(parameter.shape, limits: limits)
            } else if let index = place(in: parameters) {
                put(parameter, at: index, in: &parameters)
            } else {
                overflow = true
            }
        }
    }

    private static func merge(_ other: [Body], into bodies: inout [Body], limits: JSONShapeLimits) {
        for body in other {
            if let index = bodies.firstIndex(where: { $0.mediaType == body.mediaType }) {
                bodies[index].count += body.count
                bodies[index].unread += body.unread
                bodies[index].shape.merge(body.shape, limits: limits)
                bodies[index].nodes = bodies[index].shape.nodeCount
            } else if bodies.count < maxMediaTypes {
                bodies.append(body)
            }
        }
    }

    /// The route as an OpenAPI path: every parameter in braces.
    var openAPIPath: String {
        var index = 0
        let segments = route.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard let name = Self.parameterName(segment, index: index) else { return String(segment) }
            index += 1
            return "{\(name)}"
        }
        let path = segments.joined(separator: "/")
        return path.hasPrefix("/") ? path : "/" + path
    }
}
