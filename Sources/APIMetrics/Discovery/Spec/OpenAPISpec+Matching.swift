extension OpenAPISpec {
    /// The operation for `method` and a route template (`/pets/:id`,
    /// `/pets/{id}`) or a path; literal segments beat templated ones.
    func operationIndex(method: String, route: String) -> Int? {
        bestOperation(among: operations.indices.filter { operations[$0].method == method }, route: route, isPath: false)
            ?? (method == "HEAD" ? operationIndex(method: "GET", route: route) : nil)
    }

    /// The best of `candidates` for a route template or (`isPath`) a
    /// request's path, as written or under one of the ``basePaths``
    /// (`/v1/pets` is `/pets` of a spec served at `https://host/v1`).
    func bestOperation(among candidates: [Int], route: String, isPath: Bool) -> Int? {
        func segments(_ text: Substring) -> [RouteSegment] {
            isPath
                ? text.split(separator: "/").map { .literal(SpecSchemaCompiler.percentDecoded($0)) }
                : Self.routeSegments(String(text))
        }
        if let found = bestOperation(among: candidates, segments: segments(Substring(route))) { return found }
        for base in basePaths where route.hasPrefix(base + "/") || route == base {
            if let found = bestOperation(among: candidates, segments: segments(route.dropFirst(base.count))) { return found }
        }
        return nil
    }

    enum RouteSegment {
        case literal(String)
        /// A template's parameter (`:id`, `{id}`, `*`).
        case parameter
        /// `**`: any number of segments.
        case rest

        var text: Substring {
            if case let .literal(text) = self { Substring(text) } else { "" }
        }
    }

    static func routeSegments(_ route: String) -> [RouteSegment] {
        route.split(separator: "/").map { segment in
            if segment == "**" { return .rest }
            if segment.first == ":" || segment.first == "*" || (segment.first == "{" && segment.last == "}") { return .parameter }
            return .literal(String(segment))
        }
    }

    func bestOperation(among candidates: [Int], segments: [RouteSegment]) -> Int? {
        var best: (index: Int, literals: Int)?
        for index in candidates {
            let specSegments = operations[index].segments
            guard specSegments.count == segments.count else { continue }
            var literals = 0
            var matches = true
            for (specSegment, segment) in zip(specSegments, segments) {
                switch (specSegment, segment) {
                case let (.literal(expected), .literal(text)):
                    if expected == text { literals += 1 } else { matches = false }
                case let (.parameter(prefix, suffix, _), .literal(text)):
                    // A literal segment (of a path, or of a route: `/users/me`) fills a template's, as a URL would.
                    matches = text.count > prefix.count + suffix.count && text.hasPrefix(prefix) && text.hasSuffix(suffix)
                case (.parameter, .parameter):
                    break
                case (.literal, _), (.parameter, .rest):
                    matches = false
                }
                if !matches { break }
            }
            if matches, best.map({ literals > $0.literals }) ?? true { best = (index, literals) }
        }
        return best?.index
    }
}
