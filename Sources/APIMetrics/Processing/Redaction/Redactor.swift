/// Applies ``RedactionOptions`` to a record, in the background sender.
///
/// Work is bounded: bodies are at most the capture limit, JSON nesting is
/// cut at ``JSONParser/defaultMaxDepth`` (a deeper body is unparseable and
/// replaced by the marker), and each rule walks the tree once. A class: the
/// closures that check names refer to it instead of copying its sets.
final class Redactor: Sendable {
    private let headers: NameSet
    private let query: NameSet
    private let requestFields: NameSet
    private let responseFields: NameSet
    private let requestPaths: [JSONPath]
    private let responsePaths: [JSONPath]
    private let allowlist: NameSet?
    private let replacement: String
    /// ``replacement`` as a JSON string, quotes included.
    private let replacementJSON: [UInt8]
    private let marker: [UInt8]

    init(options: RedactionOptions) {
        headers = NameSet(options.headers)
        query = NameSet(options.queryParameters)
        requestFields = NameSet(options.requestBody.fields)
        responseFields = NameSet(options.responseBody.fields)
        requestPaths = options.requestBody.paths
        responsePaths = options.responseBody.paths
        allowlist = options.allowlist.map { NameSet(names: $0) }
        replacement = options.replacement
        var writer = JSONWriter(capacity: options.replacement.utf8.count + 8)
        writer.string(options.replacement)
        replacementJSON = writer.bytes
        marker = Array(options.unparseableBodyMarker.utf8)
    }

    func redact(_ record: inout ExchangeRecord) {
        // Body kinds are read before the headers are redacted (a rule may
        // hide Content-Type itself), and only when a body rule could apply.
        let requestKind = hasBodyRules(requestFields, requestPaths)
            ? Self.kind(of: record.request.headers, bytes: record.requestBody.bytes) : .other
        redactHeaders(&record.request.headers)
        record.request.target = redactTarget(record.request.target)
        redactBody(&record.requestBody, kind: requestKind, fields: requestFields, paths: requestPaths)
        if var response = record.response {
            let responseKind = hasBodyRules(responseFields, responsePaths)
                ? Self.kind(of: response.headers, bytes: record.responseBody.bytes) : .other
            redactHeaders(&response.headers)
            record.response = response
            redactBody(&record.responseBody, kind: responseKind, fields: responseFields, paths: responsePaths)
        }
    }

    /// Whether a name's value is hidden under the deny list `names`, or under
    /// the allowlist when one is set.
    private func hides(_ name: String, deny names: NameSet) -> Bool {
        if let allowlist { return !allowlist.contains(name) }
        return names.contains(name)
    }

    func redactHeaders(_ fields: inout HeaderFields) {
        guard allowlist != nil || !headers.isEmpty else { return }
        // Names are looked up by their bytes; the list is rebuilt only when
        // a value is hidden.
        fields = fields.replacingValues(where: { name in
            if let allowlist { return !allowlist.contains(bytes: name) }
            return headers.contains(bytes: name)
        }, with: replacement)
    }

    /// Hides query values inside the target, keeping its shape and every
    /// name as written, so that `url` and the `query` derived from it agree.
    func redactTarget(_ target: String) -> String {
        guard allowlist != nil || !query.isEmpty,
              let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        var queryPart = target[target.index(after: question)...]
        var fragment: Substring = ""
        if let hash = queryPart.firstIndex(of: "#") {
            fragment = queryPart[hash...]
            queryPart = queryPart[..<hash]
        }
        return String(target[...question]) + redactPairs(queryPart, deny: query) + fragment
    }

    /// Redacts `name=value` pairs joined by `&`, as in a query or a form body.
    private func redactPairs(_ text: Substring, deny names: NameSet) -> String {
        var parts: [String] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "=") else {
                parts.append(String(part))
                continue
            }
            let rawName = part[..<equals]
            if hides(URLTarget.decode(rawName), deny: names) {
                parts.append("\(rawName)=\(replacement)")
            } else {
                parts.append(String(part))
            }
        }
        return parts.joined(separator: "&")
    }

    private enum BodyKind {
        case json, form, other
    }

    /// What kind of body a message with these headers carries, read from
    /// the captured bytes of its `Content-Type`; nothing is read for an
    /// empty body.
    private static func kind(of headers: HeaderFields, bytes: [UInt8]) -> BodyKind {
        guard !bytes.isEmpty else { return .other }
        return headers.withFirstValue(named: "content-type") { value in
            guard let value else {
                // No type given: a body that looks like JSON is treated as JSON,
                // so that rules cannot be dodged by leaving the header out.
                // A UTF-8 byte order mark before it is passed over, as the
                // parser passes over it.
                let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
                let first = bytes[start...].first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
                return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .json : .other
            }
            // Compared in place, ignoring case: no lowercased copy.
            let mediaType = ASCII.mediaType(of: value)
            func isType(_ literal: StaticString, suffix: Bool = false) -> Bool {
                let count = literal.utf8CodeUnitCount
                guard suffix ? mediaType.count > count : mediaType.count == count else { return false }
                return literal.withUTF8Buffer {
                    ASCII.equalIgnoringCase(UnsafeBufferPointer(rebasing: mediaType[(mediaType.count - count)...]), $0)
                }
            }
            if isType("application/json") || isType("text/json") || isType("+json", suffix: true) { return .json }
            if isType("application/x-www-form-urlencoded") { return .form }
            return .other
        }
    }

    private func hasBodyRules(_ fields: NameSet, _ paths: [JSONPath]) -> Bool {
        allowlist != nil || !fields.isEmpty || !paths.isEmpty
    }

    /// `kind` is `.other` when no body rule applies (see ``redact(_:)``).
    private func redactBody(_ body: inout CapturedBody, kind: BodyKind, fields: NameSet, paths: [JSONPath]) {
        guard !body.bytes.isEmpty else { return }
        switch kind {
        case .json:
            // With only exact field names to look for, no path, no allowlist,
            // and no escape in the body, a body whose bytes hold none of the
            // names has no member a rule could reach: leave it unparsed.
            if paths.isEmpty, allowlist == nil, !body.bytes.contains(UInt8(ascii: "\\")),
               !fields.mightOccur(in: body.bytes) {
                return
            }
            if paths.isEmpty, allowlist == nil {
                // Names only: one pass finds the values to hide, and the
                // body is copied with them replaced; no tree is built.
                redactNamedFields(&body, fields: fields)
                return
            }
            guard let tree = try? JSONParser.parse(body.bytes) else {
                body.bytes = marker
                return
            }
            var redacted = redactJSON(tree, fields: fields)
            for path in paths {
                redacted = path.redact(redacted, with: .string(replacement))
            }
            if redacted != tree {
                body.bytes = redacted.serialized
            }
        case .form:
            guard let text = String(validating: body.bytes, as: UTF8.self) else {
                body.bytes = marker
                return
            }
            let redacted = redactPairs(Substring(text), deny: fields)
            if redacted != text { body.bytes = Array(redacted.utf8) }
        case .other:
            return
        }
    }

    /// The body with the value of every member `fields` names replaced, at
    /// any depth; the marker when it is not JSON.
    private func redactNamedFields(_ body: inout CapturedBody, fields: NameSet) {
        let found = body.bytes.withUnsafeBufferPointer { bytes in
            JSONFieldScanner.valuesToHide(in: bytes, named: fields)
        }
        guard let ranges = found else {
            body.bytes = marker
            return
        }
        guard !ranges.isEmpty else { return }
        var output: [UInt8] = []
        output.reserveCapacity(body.bytes.count + ranges.count * replacementJSON.count)
        var position = 0
        for range in ranges {
            output.append(contentsOf: body.bytes[position..<range.lowerBound])
            output.append(contentsOf: replacementJSON)
            position = range.upperBound
        }
        output.append(contentsOf: body.bytes[position...])
        body.bytes = output
    }

    /// Hides members named by `fields` at any depth, or, with an allowlist,
    /// every scalar not under an allowed member.
    private func redactJSON(_ value: JSONValue, fields: NameSet) -> JSONValue {
        guard allowlist != nil || !fields.isEmpty else { return value }
        switch value {
        case var .object(members):
            for index in members.indices {
                let key = members[index].key
                if let allowlist {
                    if !allowlist.contains(key) {
                        members[index].value = hideScalars(members[index].value, fields: fields)
                    }
                } else if fields.contains(key) {
                    members[index].value = .string(replacement)
                } else {
                    members[index].value = redactJSON(members[index].value, fields: fields)
                }
            }
            return .object(members)
        case let .array(elements):
            return .array(elements.map { redactJSON($0, fields: fields) })
        default:
            return allowlist == nil ? value : .string(replacement)
        }
    }

    /// Under an allowlist: a disallowed member's scalar is hidden; inside a
    /// disallowed container, allowed members still keep their values.
    private func hideScalars(_ value: JSONValue, fields: NameSet) -> JSONValue {
        switch value {
        case .object, .array:
            return redactJSON(value, fields: fields)
        default:
            return .string(replacement)
        }
    }
}
