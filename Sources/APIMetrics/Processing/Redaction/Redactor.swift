/// Applies ``RedactionOptions`` to a record, in the background sender.
///
/// Work is bounded: bodies are at most the capture limit (decoded ones
/// too), JSON nesting is cut at ``JSONParser/defaultMaxDepth`` (a deeper
/// body is unparseable and replaced by the marker), and each rule walks the
/// tree once. A class: the closures that check names refer to it instead of
/// copying its sets.
///
/// Redaction fails closed: a body a rule could apply to is redacted by its
/// structure (JSON, NDJSON, form), by the textual forms of
/// ``TextSecretScanner``, or replaced by the marker; it is never kept as
/// sent because it could not be read (compressed, in UTF-16, mislabelled).
final class Redactor: Sendable {
    let headers: NameSet
    let query: NameSet
    let requestFields: NameSet
    let responseFields: NameSet
    let requestPaths: [JSONPath]
    let responsePaths: [JSONPath]
    let allowlist: NameSet?
    let replacement: String
    /// ``replacement`` as a JSON string, quotes included.
    let replacementJSON: [UInt8]
    let marker: [UInt8]
    let masksCards: Bool
    /// The most a body may decode to (content codings undone); past it the
    /// body is the marker.
    let maxDecodedBytes: Int

    /// Headers whose values are URLs: the query rules apply inside them.
    static let urlHeaders = [
        "referer", "origin", "location", "content-location", "x-original-url", "x-rewrite-url", "x-original-uri",
        "x-forwarded-uri", "x-envoy-original-path",
    ]

    init(options: RedactionOptions, maxDecodedBytes: Int = 1024 * 1024) {
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
        masksCards = options.masksCardNumbers
        self.maxDecodedBytes = max(0, maxDecodedBytes)
    }

    func redact(_ record: inout ExchangeRecord) {
        // Bodies are read with the headers as captured (a rule may hide
        // Content-Type or Content-Encoding itself).
        redactBody(&record.requestBody, headers: record.request.headers, fields: requestFields, paths: requestPaths)
        redactHeaders(&record.request.headers)
        record.request.target = redactTarget(record.request.target)
        if var response = record.response {
            redactBody(&record.responseBody, headers: response.headers, fields: responseFields, paths: responsePaths)
            redactHeaders(&response.headers)
            record.response = response
        }
    }

    /// Whether a name's value is hidden under the deny list `names`, or under
    /// the allowlist when one is set.
    func hides(_ name: String, deny names: NameSet) -> Bool {
        if let allowlist { return !allowlist.contains(name) }
        return names.contains(name)
    }

    func redactHeaders(_ fields: inout HeaderFields) {
        if allowlist != nil || !headers.isEmpty {
            // Names are looked up by their bytes; the list is rebuilt only when
            // a value is hidden.
            fields = fields.replacingValues(
                where: { name in
                    if let allowlist { return !allowlist.contains(bytes: name) }
                    return headers.contains(bytes: name)
                }, with: replacement)
        }
        redactURLHeaders(&fields)
    }

    /// ``urlHeaders`` as bytes, for the one pass over a call's fields.
    static let urlHeaderBytes = urlHeaders.map { Array($0.utf8) }

    /// Whether a field is one of ``urlHeaders``, or a `Host` (any of them)
    /// holds an `@`: one pass over the fields' bytes, since every call asks
    /// (searching them as `String`s cost about a microsecond a call).
    static func holdsURLsOrUserInformation(_ fields: HeaderFields) -> Bool {
        var found = false
        fields.forEachRaw { name, value in
            guard !found else { return }
            if name.count == 4, ASCII.lowercased(name[0]) == UInt8(ascii: "h"), ASCII.lowercased(name[1]) == UInt8(ascii: "o"),
                ASCII.lowercased(name[2]) == UInt8(ascii: "s"), ASCII.lowercased(name[3]) == UInt8(ascii: "t")
            {
                found = value.contains(UInt8(ascii: "@"))
                return
            }
            found = urlHeaderBytes.contains { wanted in
                wanted.withUnsafeBufferPointer { ASCII.equalIgnoringCase($0, name) }
            }
        }
        return found
    }

    /// Applies the query rules inside the values of ``urlHeaders``, and
    /// hides user information in `Host` (a client given an absolute URL
    /// with `user:pass@` may copy it there).
    private func redactURLHeaders(_ fields: inout HeaderFields) {
        guard allowlist != nil || !query.isEmpty || masksCards, Self.holdsURLsOrUserInformation(fields) else { return }
        var changed = false
        var result = fields
        result.mapValues { name, value in
            // The byte, as the check finds it: `@` followed by a combining
            // mark is another Character, not another byte.
            if HeaderFields.namesEqual(name, "host"), let at = value.utf8.lastIndex(of: UInt8(ascii: "@")) {
                changed = true
                return replacement + value[at...]
            }
            guard Self.urlHeaders.contains(where: { HeaderFields.namesEqual($0, name) }) else { return value }
            let redacted = redactTarget(value)
            if redacted != value { changed = true }
            return redacted
        }
        if changed { fields = result }
    }
}
