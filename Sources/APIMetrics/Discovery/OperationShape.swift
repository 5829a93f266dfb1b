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
    }

    /// The responses of one status.
    struct Response: Sendable, Hashable {
        var status: Int
        var count = 0
        var bodies: [Body] = []
    }

    /// The most query parameters, headers, media types and statuses kept per operation.
    static let maxParameters = 32
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
