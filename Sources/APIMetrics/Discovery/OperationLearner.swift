/// Folds one call into its operation's shapes (``APIDiscovery`` holds the
/// lock): statuses always, the rest when the call is learnt from.
enum OperationLearner {
    /// Where a fold notes the changes it finds, once an operation is past
    /// its first ``baselineCalls`` learnt calls.
    struct Reporter {
        var isOn: Bool
        let time: Int64
        let method: String
        let route: String
        let example: EventID
        /// The call's number, so that a member counts once per call.
        let call: UInt64
        /// Places the learner as a whole may still add (its budget over
        /// every operation), and what this call added.
        var nodeBudget = APIDiscovery.maxNodes
        var nodesAdded = 0
        var changes: [APIChange] = []

        mutating func add(_ kind: APIChange.Kind, _ location: String, _ detail: String = "") {
            guard isOn, changes.count < JSONShapeScanner.maxChanges else { return }
            changes.append(
                APIChange(
                    time: time, method: method, route: route, kind: kind, location: location, detail: detail, example: example))
        }
    }

    /// Calls an operation is learnt from before its changes are reported:
    /// until then everything about it is new.
    static let baselineCalls = 5

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
        limits: JSONShapeLimits, apiKeyHeaders: [String], reporter: inout Reporter
    ) -> Result {
        reporter.isOn = operation.learnt >= baselineCalls
        operation.calls += 1
        operation.lastSeen = max(operation.lastSeen, record.startTimeNanoseconds)
        let status = record.response?.status ?? 0
        var changed = false
        var responseIndex = operation.responses.firstIndex { $0.status == status }
        if responseIndex == nil, operation.responses.count < OperationShape.maxStatuses {
            operation.responses.append(OperationShape.Response(status: status))
            responseIndex = operation.responses.count - 1
            changed = true
            reporter.add(.newStatus, "response \(status)")
        }
        if let responseIndex { operation.responses[responseIndex].count += 1 }
        let isStable = operation.learnt > 0 && operation.sinceChange >= options.stableAfter
        guard !isStable || changed || operation.calls % options.sampleEvery == 0 else { return .sampledOut }
        operation.learnt += 1
        var unread = 0
        let request = record.request
        var target = request.target
        target.withUTF8 { bytes in
            let parts = URLTarget.parts(of: bytes)
            changed = foldPath(bytes, path: parts.path, route: operation.route, into: &operation) || changed
            if let query = parts.query {
                changed = foldQuery(bytes, query: query, into: &operation, reporter: &reporter) || changed
            }
        }
        let credentialsBefore = operation.credentials
        changed = foldHeaders(request.headers, into: &operation, apiKeyHeaders: apiKeyHeaders, reporter: &reporter) || changed
        if operation.credentials > credentialsBefore { operation.authenticated += 1 }
        if record.requestBody.size > 0 {
            changed =
                foldBody(
                    record.requestBody, headers: request.headers, into: &operation.requestBodies, limits: limits, unread: &unread,
                    place: "request", reporter: &reporter) || changed
        }
        if let responseIndex, let response = record.response, record.responseBody.size > 0 {
            changed =
                foldBody(
                    record.responseBody, headers: response.headers, into: &operation.responses[responseIndex].bodies,
                    limits: limits, unread: &unread, place: "response \(status)", reporter: &reporter) || changed
        }
        operation.sinceChange = changed ? 0 : operation.sinceChange + 1
        return .learnt(unreadBodies: unread)
    }

    // MARK: Parameters

    /// The path's segments where the template has parameters.
    private static func foldPath(
        _ target: UnsafeBufferPointer<UInt8>, path: Range<Int>, route: String, into operation: inout OperationShape
    ) -> Bool {
        guard !operation.pathParameters.isEmpty else { return false }
        var route = route
        return route.withUTF8 { template in
            var changed = false, parameter = 0
            var templateStart = 0, pathStart = path.lowerBound
            while true {
                // The next segment of each; empty ones (doubled or trailing slashes) are skipped.
                while templateStart < template.count, template[templateStart] == 0x2F { templateStart += 1 }
                while pathStart < path.upperBound, target[pathStart] == 0x2F { pathStart += 1 }
                guard templateStart < template.count, pathStart < path.upperBound else {
                    return templateStart >= template.count && pathStart >= path.upperBound ? changed : false
                }
                var templateEnd = templateStart, pathEnd = pathStart
                while templateEnd < template.count, template[templateEnd] != 0x2F { templateEnd += 1 }
                while pathEnd < path.upperBound, target[pathEnd] != 0x2F { pathEnd += 1 }
                let first = template[templateStart]
                // `**` takes any number of segments: the rest cannot be paired.
                if first == UInt8(ascii: "*"), templateEnd - templateStart == 2 { return changed }
                let isParameter = first == UInt8(ascii: "{") || first == UInt8(ascii: ":") || first == UInt8(ascii: "*")
                if isParameter, parameter < operation.pathParameters.count {
                    operation.pathParameters[parameter].count += 1
                    let segment = UnsafeBufferPointer(rebasing: target[pathStart..<pathEnd])
                    changed =
                        TextShape.fold(percentDecoding: segment, into: &operation.pathParameters[parameter].shape) || changed
                    parameter += 1
                }
                templateStart = templateEnd
                pathStart = pathEnd
            }
        }
    }

    private static func foldQuery(
        _ target: UnsafeBufferPointer<UInt8>, query: Range<Int>, into operation: inout OperationShape, reporter: inout Reporter
    ) -> Bool {
        var changed = false
        var seen: UInt64 = 0
        var start = query.lowerBound
        while start < query.upperBound {
            var end = start
            while end < query.upperBound, target[end] != UInt8(ascii: "&") { end += 1 }
            defer { start = end + 1 }
            guard end > start else { continue }
            var equals = start
            while equals < end, target[equals] != UInt8(ascii: "=") { equals += 1 }
            let rawName = UnsafeBufferPointer(rebasing: target[start..<equals])
            let value = UnsafeBufferPointer(rebasing: target[min(equals + 1, end)..<end])
            let name = decoded(rawName)
            // `page[size]`, `tags[]`: brackets belong to names.
            changed =
                foldParameter(
                    name, value: value, decoding: true, place: "query", into: &operation.query, other: &operation.hasOtherQuery,
                    seen: &seen, reporter: &reporter) || changed
        }
        return changed
    }

    /// A query component percent-decoded, `+` as space.
    private static func decoded(_ component: UnsafeBufferPointer<UInt8>) -> String {
        guard component.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: component, as: UTF8.self)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: component.count) { output in
            guard let base = output.baseAddress else { return "" }
            return String(
                decoding: UnsafeBufferPointer(start: base, count: URLTarget.decode(component, into: base)), as: UTF8.self)
        }
    }

    private static func foldHeaders(
        _ headers: HeaderFields, into operation: inout OperationShape, apiKeyHeaders: [String], reporter: inout Reporter
    ) -> Bool {
        var changed = false
        var seen: UInt64 = 0
        headers.storage.withUnsafeBufferPointer { storage in
            for span in headers.spans {
                let nameBytes = UnsafeBufferPointer(rebasing: storage[span.nameRange])
                let value = UnsafeBufferPointer(rebasing: storage[span.valueRange])
                guard nameBytes.count <= 64 else {
                    if !operation.hasOtherHeaders { operation.hasOtherHeaders = true; changed = true }
                    continue
                }
                // Lowercased; names of 15 bytes or fewer stay in the string's own storage.
                let name = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: nameBytes.count) { lowered in
                    for index in nameBytes.indices {
                        let byte = nameBytes[index]
                        lowered[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                    }
                    return String(decoding: lowered, as: UTF8.self)
                }
                if name == "authorization" {
                    let scheme = value.prefix { $0 != 0x20 }
                    func isScheme(_ name: StaticString) -> Bool {
                        scheme.count == name.utf8CodeUnitCount
                            && name.withUTF8Buffer { zip(scheme, $0).allSatisfy { $0 | 0x20 == $1 } }
                    }
                    if isScheme("bearer") {
                        if operation.bearer == 0 { changed = true }
                        operation.bearer += 1
                        operation.credentials += 1
                    } else if isScheme("basic") {
                        if operation.basic == 0 { changed = true }
                        operation.basic += 1
                        operation.credentials += 1
                    }
                    continue
                }
                if apiKeyHeaders.contains(name) {
                    operation.credentials += 1
                    if let index = operation.apiKeys.firstIndex(where: { $0.name == name }) {
                        operation.apiKeys[index].count += 1
                    } else {
                        operation.apiKeys.append(OperationShape.Parameter(name: name, count: 1))
                        changed = true
                    }
                    continue
                }
                guard !StandardHeaders.contains(name) else { continue }
                // A repeated field counts once per call.
                changed =
                    foldParameter(
                        name, value: value, decoding: false, place: "header", into: &operation.headers,
                        other: &operation.hasOtherHeaders, seen: &seen, reporter: &reporter) || changed
            }
        }
        return changed
    }

    /// One query parameter or header of this call: counted once a call
    /// (`seen`), its value's type folded in, a new name placed (in the place
    /// of one seen once when full) or counted among the others. Returns
    /// whether the operation changed.
    private static func foldParameter(
        _ name: String, value: UnsafeBufferPointer<UInt8>, decoding: Bool, place: String,
        into parameters: inout [OperationShape.Parameter], other: inout Bool, seen: inout UInt64, reporter: inout Reporter
    ) -> Bool {
        func fold(_ shape: inout JSONShape) -> Bool {
            decoding ? TextShape.fold(percentDecoding: value, into: &shape) : TextShape.fold(value, into: &shape)
        }
        if let index = parameters.firstIndex(where: { $0.name == name }) {
            guard index >= 64 || seen & (1 << UInt64(index)) == 0 else { return false }
            if index < 64 { seen |= 1 << UInt64(index) }
            var changed = false
            if parameters[index].count == 1 {
                changed = true
                reporter.add(.newParameter, "\(place) \(name)")
            }
            parameters[index].count += 1
            return fold(&parameters[index].shape) || changed
        }
        if isParameterName(name), let index = OperationShape.place(in: parameters) {
            var parameter = OperationShape.Parameter(name: name, count: 1)
            _ = fold(&parameter.shape)
            if index < 64 { seen |= 1 << UInt64(index) }
            OperationShape.put(parameter, at: index, in: &parameters)
            return false
        }
        guard !other else { return false }
        other = true
        return true
    }

    /// Whether a query parameter's or header's name reads as a name, not
    /// as data a client put there.
    static func isParameterName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= 40,
                bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
            else { return false }
            // Brackets and dots of `page[size]` or `filter.name` aside, it must read as a name.
            let stripped = bytes.filter { $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: ".") }
            return stripped.isEmpty || stripped.withUnsafeBufferPointer { JSONShapeScanner.isName($0, maxBytes: 40) }
        }
    }

    // MARK: Bodies

    private static func foldBody(
        _ body: CapturedBody, headers: HeaderFields, into bodies: inout [OperationShape.Body],
        limits: JSONShapeLimits, unread: inout Int, place: String, reporter: inout Reporter
    ) -> Bool {
        var changed = false
        var index: Int?
        var isJSON = false
        MediaType.withEssence(of: headers, named: "content-type") { essence in
            isJSON = MediaType.isJSON(essence)
            index = bodies.firstIndex { $0.mediaType.utf8.elementsEqual(essence) }
            if let found = index, bodies[found].count == 1 {
                // Its second call: described from now on; a change beside others
                // (the first of a new status is part of that status).
                changed = true
                if bodies.count > 1 || place == "request" {
                    reporter.add(.newMediaType, "\(place) \(bodies[found].mediaType)")
                }
            }
            if index == nil {
                // At the end, or in the place of one seen in one call only.
                let slot = bodies.count < OperationShape.maxMediaTypes ? bodies.count : bodies.firstIndex { !$0.isConfirmed }
                if let slot {
                    let body = OperationShape.Body(mediaType: String(decoding: essence, as: UTF8.self))
                    if slot == bodies.count { bodies.append(body) } else { bodies[slot] = body }
                    index = slot
                    changed = true
                }
            }
        }
        guard let index else { return changed }
        bodies[index].count += 1
        guard isJSON else { return changed }
        let encoding = headers["content-encoding"]
        guard !body.bytes.isEmpty, !body.isTruncated, body.bytes.count == body.size,
            encoding == nil || encoding?.lowercased() == "identity"
        else {
            // Not kept (capture off), cut short or still compressed: counted, not read.
            if !body.bytes.isEmpty || body.isTruncated { bodies[index].unread += 1; unread += 1 }
            return changed
        }
        // A body's own first instances set its baseline too (the fields of a new status are part of that status).
        let reports = reporter.isOn && bodies[index].count > baselineCalls
        let budget = min(reporter.nodeBudget - reporter.nodesAdded, OperationShape.maxNodesPerBody - bodies[index].nodes)
        let folded = JSONShapeScanner.fold(
            body.bytes, into: &bodies[index].shape, limits: limits, call: reporter.call, budget: budget, reportingChanges: reports
        )
        bodies[index].nodes += folded.added
        reporter.nodesAdded += folded.added
        for change in folded.changes {
            guard let location = bodies[index].shape.location(of: change.path) else { continue }
            reporter.add(change.kind, "\(place) \(bodies[index].mediaType) \(location)", change.detail)
        }
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
    static func fold(percentDecoding bytes: UnsafeBufferPointer<UInt8>, into shape: inout JSONShape) -> Bool {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return fold(bytes, into: &shape)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { output in
            guard let base = output.baseAddress else { return false }
            return fold(UnsafeBufferPointer(start: base, count: URLTarget.decode(bytes, into: base)), into: &shape)
        }
    }

    static func fold(_ bytes: UnsafeBufferPointer<UInt8>, into shape: inout JSONShape) -> Bool {
        let before = (shape.types, shape.formats, shape.isWide)
        shape.count += 1
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
            if shape.formats != [] { shape.formats.formIntersection(StringFormats.of(bytes)) }
        }
        return before != (shape.types, shape.formats, shape.isWide)
    }
}

/// Media types as the document lists them.
enum MediaType {
    /// Calls `body` with the essence of the field `name` (`type/subtype`,
    /// lowercased, without parameters), or `application/octet-stream`
    /// when the field is missing or not a media type.
    static func withEssence(of headers: HeaderFields, named name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var value = headers[name] ?? ""
        let handled: Bool = value.withUTF8 { bytes in
            var start = 0, end = 0
            while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            let length = end - start
            guard length >= 3, length <= 100 else { return false }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { lowered in
                var slashes = 0
                for index in 0..<length {
                    var byte = bytes[start + index]
                    if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
                    if byte == UInt8(ascii: "/") { slashes += 1 } else if !isTokenByte(byte) { return false }
                    lowered[index] = byte
                }
                guard slashes == 1, lowered[0] != UInt8(ascii: "/"), lowered[length - 1] != UInt8(ascii: "/"),
                    isKnown(UnsafeBufferPointer(lowered))
                else { return false }
                body(UnsafeBufferPointer(lowered))
                return true
            }
        }
        if !handled {
            var fallback = "application/octet-stream"
            fallback.withUTF8 { body($0) }
        }
    }

    /// Whether a media type is one a document lists as sent: a registered
    /// top-level type, and a subtype that reads as a name (a client's
    /// made-up `application/sk-live-…` is a value, listed as
    /// `application/octet-stream`).
    static func isKnown(_ essence: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let slash = essence.firstIndex(of: UInt8(ascii: "/")) else { return false }
        let type = UnsafeBufferPointer(rebasing: essence[..<slash])
        guard topLevelTypes.contains(where: { type.elementsEqual($0) }) else { return false }
        // `vnd.github+json`, `x-www-form-urlencoded`, `problem+json`: words
        // with dots, dashes and one `+`, few digits.
        var letters = 0, digits = 0, pluses = 0
        for byte in essence[(slash + 1)...] {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): letters += 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "+"): pluses += 1
            case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"): break
            default: return false
            }
        }
        let length = essence.count - slash - 1
        return length <= 64 && pluses <= 1 && letters > 0 && digits <= 4 && digits * 2 < length
    }

    private static let topLevelTypes: [[UInt8]] = [
        "application", "text", "image", "audio", "video", "multipart", "font", "model", "message",
    ]
    .map { Array($0.utf8) }

    static func isJSON(_ essence: UnsafeBufferPointer<UInt8>) -> Bool {
        essence.elementsEqual("application/json".utf8) || essence.reversed().starts(with: "nosj+".utf8)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "-"), UInt8(ascii: "^"),
            UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"):
            true
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
