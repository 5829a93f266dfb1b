/// Folds one call into its operation's shapes (``APIDiscovery`` holds the
/// lock): statuses always, the rest when the call is learnt from.
enum OperationLearner {
    enum Result {
        case learnt(unreadBodies: Int)
        case sampledOut

        var unreadBodies: Int {
            if case let .learnt(count) = self { return count }
            return 0
        }
    }

    static func fold(
        _ record: ExchangeRecord, into operation: inout OperationShape, options: DiscoveryOptions,
        limits: JSONShapeLimits, apiKeyHeaders: [String]
    ) -> Result {
        operation.calls += 1
        operation.lastSeen = max(operation.lastSeen, record.startTimeNanoseconds)
        let status = record.response?.status ?? 0
        var changed = false
        var responseIndex = operation.responses.firstIndex { $0.status == status }
        if responseIndex == nil, operation.responses.count < OperationShape.maxStatuses {
            operation.responses.append(OperationShape.Response(status: status))
            responseIndex = operation.responses.count - 1
            changed = true
        }
        if let responseIndex { operation.responses[responseIndex].count += 1 }
        let isStable = operation.learnt > 0 && operation.sinceChange >= options.stableAfter
        guard !isStable || changed || operation.calls % options.sampleEvery == 0 else { return .sampledOut }
        operation.learnt += 1
        var unread = 0
        let request = record.request
        let target = URLTarget(request.target)
        changed = foldPath(target.path, route: operation.route, into: &operation) || changed
        changed = foldQuery(target.queryItems, into: &operation) || changed
        changed = foldHeaders(request.headers, into: &operation, apiKeyHeaders: apiKeyHeaders) || changed
        if record.requestBody.size > 0 {
            changed = foldBody(record.requestBody, headers: request.headers, into: &operation.requestBodies, limits: limits, unread: &unread) || changed
        }
        if let responseIndex, let response = record.response, record.responseBody.size > 0 {
            changed = foldBody(
                record.responseBody, headers: response.headers, into: &operation.responses[responseIndex].bodies,
                limits: limits, unread: &unread) || changed
        }
        operation.sinceChange = changed ? 0 : operation.sinceChange + 1
        return .learnt(unreadBodies: unread)
    }

    // MARK: Parameters

    /// The path's segments where the template has parameters.
    private static func foldPath(_ path: String, route: String, into operation: inout OperationShape) -> Bool {
        guard !operation.pathParameters.isEmpty, !route.contains("**") else { return false }
        let template = route.split(separator: "/", omittingEmptySubsequences: true)
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard template.count == segments.count else { return false }
        var changed = false, index = 0
        for (part, segment) in zip(template, segments) {
            guard OperationShape.parameterName(part, index: index) != nil else { continue }
            guard index < operation.pathParameters.count else { break }
            operation.pathParameters[index].count += 1
            changed = TextShape.fold(URLTarget.decode(segment), into: &operation.pathParameters[index].shape) || changed
            index += 1
        }
        return changed
    }

    private static func foldQuery(_ items: [(name: String, value: String)], into operation: inout OperationShape) -> Bool {
        var changed = false
        var seen = Set<Int>()
        for (name, value) in items {
            // `page[size]`, `tags[]`: brackets belong to names.
            if let index = operation.query.firstIndex(where: { $0.name == name }) {
                guard seen.insert(index).inserted else { continue }
                if operation.query[index].count == 1 { changed = true }
                operation.query[index].count += 1
                changed = TextShape.fold(value, into: &operation.query[index].shape) || changed
            } else if isParameterName(name), let index = OperationShape.place(in: operation.query) {
                var parameter = OperationShape.Parameter(name: name, count: 1)
                _ = TextShape.fold(value, into: &parameter.shape)
                seen.insert(index)
                OperationShape.put(parameter, at: index, in: &operation.query)
            } else if !operation.hasOtherQuery {
                operation.hasOtherQuery = true
                changed = true
            }
        }
        return changed
    }

    private static func foldHeaders(_ headers: HeaderFields, into operation: inout OperationShape, apiKeyHeaders: [String]) -> Bool {
        var changed = false
        var seen = Set<String>()
        for field in headers.fields {
            let name = field.name.lowercased()
            guard seen.insert(name).inserted else { continue }
            if name == "authorization" {
                let scheme = field.value.prefix { $0 != " " }.lowercased()
                if scheme == "bearer" {
                    if operation.bearer == 0 { changed = true }
                    operation.bearer += 1
                } else if scheme == "basic" {
                    if operation.basic == 0 { changed = true }
                    operation.basic += 1
                }
                continue
            }
            if apiKeyHeaders.contains(name) {
                if let index = operation.apiKeys.firstIndex(where: { $0.name == name }) {
                    operation.apiKeys[index].count += 1
                } else {
                    operation.apiKeys.append(OperationShape.Parameter(name: name, count: 1))
                    changed = true
                }
                continue
            }
            guard !StandardHeaders.contains(name) else { continue }
            if let index = operation.headers.firstIndex(where: { $0.name == name }) {
                if operation.headers[index].count == 1 { changed = true }
                operation.headers[index].count += 1
                changed = TextShape.fold(field.value, into: &operation.headers[index].shape) || changed
            } else if isParameterName(name), let index = OperationShape.place(in: operation.headers) {
                var parameter = OperationShape.Parameter(name: name, count: 1)
                _ = TextShape.fold(field.value, into: &parameter.shape)
                OperationShape.put(parameter, at: index, in: &operation.headers)
            } else if !operation.hasOtherHeaders {
                operation.hasOtherHeaders = true
                changed = true
            }
        }
        return changed
    }

    /// Whether a query parameter's or header's name reads as a name, not
    /// as data a client put there.
    static func isParameterName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= 40,
                  bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return false }
            // Brackets and dots of `page[size]` or `filter.name` aside, it must read as a name.
            let stripped = bytes.filter { $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: ".") }
            return stripped.isEmpty || stripped.withUnsafeBufferPointer { JSONShapeScanner.isName($0, maxBytes: 40) }
        }
    }

    // MARK: Bodies

    private static func foldBody(
        _ body: CapturedBody, headers: HeaderFields, into bodies: inout [OperationShape.Body],
        limits: JSONShapeLimits, unread: inout Int
    ) -> Bool {
        let mediaType = MediaType.essence(headers["content-type"]) ?? "application/octet-stream"
        var changed = false
        var index = bodies.firstIndex { $0.mediaType == mediaType }
        if index == nil, bodies.count < OperationShape.maxMediaTypes {
            bodies.append(OperationShape.Body(mediaType: mediaType))
            index = bodies.count - 1
            changed = true
        }
        guard let index else { return changed }
        bodies[index].count += 1
        guard MediaType.isJSON(mediaType) else { return changed }
        let encoding = headers["content-encoding"]?.lowercased()
        guard !body.bytes.isEmpty, !body.isTruncated, body.bytes.count == body.size, encoding == nil || encoding == "identity" else {
            // Not kept (capture off), cut short or still compressed: counted, not read.
            if !body.bytes.isEmpty || body.isTruncated { bodies[index].unread += 1; unread += 1 }
            return changed
        }
        let folded = JSONShapeScanner.fold(body.bytes, into: &bodies[index].shape, limits: limits)
        if !folded.isJSON {
            bodies[index].unread += 1
            unread += 1
        }
        return changed || folded.changed
    }
}

/// The shape of a text value (a path segment, a query parameter, a
/// header): `true`/`false` as a boolean, integers and numbers as such,
/// anything else as a string with the formats it matches.
enum TextShape {
    static func fold(_ text: String, into shape: inout JSONShape) -> Bool {
        let before = (shape.types, shape.formats, shape.isWide)
        shape.count += 1
        var text = text
        text.withUTF8 { bytes in
            if bytes.elementsEqual("true".utf8) || bytes.elementsEqual("false".utf8) {
                shape.types.insert(.boolean)
            } else if let end = JSONGrammar.numberEnd(bytes, from: 0), end == bytes.count {
                if bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
                    shape.types.insert(.number)
                } else {
                    shape.types.insert(.integer)
                    if bytes.count >= 10, Int32(String(decoding: bytes, as: UTF8.self)) == nil { shape.isWide = true }
                }
            } else {
                shape.types.insert(.string)
                shape.formats.formIntersection(StringFormats.of(bytes))
            }
        }
        return before != (shape.types, shape.formats, shape.isWide)
    }
}

/// Media types as the document lists them.
enum MediaType {
    /// `type/subtype`, lowercased, without parameters; `nil` when the
    /// value is not one.
    static func essence(_ value: String?) -> String? {
        guard let value else { return nil }
        let essence = value.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard essence.utf8.count <= 100, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              essence.utf8.allSatisfy({ isTokenByte($0) || $0 == UInt8(ascii: "/") }) else { return nil }
        return essence
    }

    static func isJSON(_ essence: String) -> Bool {
        essence == "application/json" || essence.hasSuffix("+json")
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "-"), UInt8(ascii: "^"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"): true
        default: false
        }
    }
}

/// Request headers every HTTP client may send, which say nothing of the API.
enum StandardHeaders {
    static func contains(_ name: String) -> Bool {
        names.contains(name) || name.hasPrefix("sec-") || name.hasPrefix("x-forwarded-") || name.hasPrefix("if-")
            || name.hasPrefix("accept") || name.hasPrefix("content-") || name.hasPrefix("access-control-") || name.hasPrefix(":")
    }

    private static let names: Set<String> = [
        "authorization", "cache-control", "connection", "cookie", "date", "dnt", "expect", "forwarded", "from", "host",
        "keep-alive", "max-forwards", "origin", "pragma", "priority", "proxy-authorization", "range", "referer",
        "te", "trailer", "transfer-encoding", "upgrade", "upgrade-insecure-requests", "user-agent", "via", "warning",
        "x-real-ip", "x-request-id", "x-correlation-id", "traceparent", "tracestate", "baggage", "b3", "x-b3-traceid",
        "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-amzn-trace-id", "cf-connecting-ip", "true-client-ip",
        "cdn-loop", "x-cloud-trace-context", "purpose", "save-data", "x-requested-with", "x-http-method-override",
        "proxy-connection", "http2-settings", "alt-used", "early-data", "x-client-ip",
    ]
}
