extension Redactor {
    /// What a message's `Content-Type` fields say its body is.
    enum DeclaredKind {
        case json, ndjson, form, multipart, csv, tsv, other
    }

    /// Redacts a captured body, read with the message's headers as captured.
    ///
    /// The body is first decoded (content codings, transfer codings other
    /// than `chunked`, UTF-16/UTF-32 text) and then kept decoded, as UTF-8,
    /// with ``CapturedBody/decodedFrom`` saying what was undone. A body
    /// that says it is JSON and is not, or whose coding cannot be undone,
    /// becomes the marker. A body that is JSON whatever its type says is
    /// redacted as JSON; NDJSON line by line; a form pair by pair; a
    /// multipart body part by part; anything else by ``TextSecretScanner``.
    func redactBody(_ body: inout CapturedBody, headers: HeaderFields, fields: NameSet, paths: [JSONPath]) {
        guard !body.bytes.isEmpty, allowlist != nil || !fields.isEmpty || !paths.isEmpty || masksCards else { return }
        var undone: [String] = []
        let codings = BodyDecoding.contentCodings(of: headers)
        if !codings.isEmpty {
            do {
                let decoded = try BodyDecoding.removeContentCodings(codings, from: body.bytes, maxOutput: maxDecodedBytes)
                // Compressed bytes that stop early are only expected when the
                // capture limit cut them.
                guard decoded.isComplete || body.isTruncated else {
                    body.bytes = marker
                    return
                }
                body.bytes = decoded.bytes
                undone = codings
            } catch {
                body.bytes = marker
                return
            }
            if body.bytes.isEmpty {
                body.decodedFrom = undone.joined(separator: ", ")
                return
            }
        }
        let kind = Self.declaredKind(of: headers)
        if let (form, markLength) = BodyDecoding.unicodeForm(of: body.bytes) {
            // A byte order mark, or zero bytes where ASCII text in UTF-16
            // or UTF-32 has them (RFC 8259 §8.1) in a body declared as text:
            // whatever the decoded text holds (JSON, a form, XML), it is
            // what the rules read, since read as UTF-8 every name in it has
            // zero bytes between its letters and nothing would match; bytes
            // that do not decode (a lone surrogate) are the marker, a cut
            // tail allowed for. Without a mark, a body that is untyped or
            // of a binary type is only taken for UTF-16/32 when it is JSON:
            // zero bytes are common in binary data.
            let utf8 = BodyDecoding.utf8(from: body.bytes, form: form, markLength: markLength, allowingCutTail: body.isTruncated)
            if markLength > 0 || Self.declaresText(headers, kind: kind) {
                guard let utf8 else {
                    body.bytes = marker
                    return
                }
                body.bytes = utf8
                undone.append(form.rawValue)
            } else if let utf8, Self.opensJSON(utf8) {
                body.bytes = utf8
                undone.append(form.rawValue)
            }
        }
        if !undone.isEmpty { body.decodedFrom = undone.joined(separator: ", ") }
        redactDecoded(
            &body.bytes, kind: kind, headers: headers, isTruncated: body.isTruncated,
            fields: fields, paths: paths, depth: 0)
    }

    /// Redacts decoded bytes of the declared kind; `depth` counts the
    /// multipart bodies they are inside.
    func redactDecoded(
        _ bytes: inout [UInt8], kind: DeclaredKind, headers: HeaderFields, isTruncated: Bool,
        fields: NameSet, paths: [JSONPath], depth: Int
    ) {
        if kind == .multipart {
            bytes = redactMultipart(bytes, headers: headers, isTruncated: isTruncated, fields: fields, paths: paths, depth: depth)
            return
        }
        let opensJSON = Self.opensJSON(bytes)
        // Whatever the type says, a body that is a JSON document is redacted
        // as one (a bare scalar too, so that a body redacted once reads the
        // same when its Content-Type was hidden). Text fails at its first
        // bytes, so trying costs little.
        if kind != .form {
            if let redacted = redactJSON(bytes, fields: fields, paths: paths) {
                bytes = redacted
                return
            }
            if kind == .json {
                bytes = marker
                return
            }
        }
        if kind == .ndjson || (opensJSON && bytes.contains(0x0A)) {
            bytes = redactLines(bytes, declared: kind, fields: fields, paths: paths)
            return
        }
        if kind == .form {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                bytes = marker
                return
            }
            let redacted = redactPairs(Substring(text), deny: fields)
            if redacted != text { bytes = Array(redacted.utf8) }
            return
        }
        if kind == .csv || kind == .tsv, allowlist == nil {
            let delimited = redactDelimited(bytes, separator: kind == .csv ? UInt8(ascii: ",") : 0x09, fields: fields)
            bytes = redactText(delimited, fields: fields)
            return
        }
        bytes = redactText(bytes, fields: fields)
    }

    /// Whether a `Content-Type` field declares text: a kind with rules of
    /// its own, or a type kept by default (``BodyContentTypes/textual``).
    static func declaresText(_ headers: HeaderFields, kind: DeclaredKind) -> Bool {
        if kind != .other && kind != .multipart { return true }
        return headers.values(for: "content-type").contains { BodyContentTypes.textual.allows($0) }
    }

    /// Whether the bytes open as a JSON document would: after an optional
    /// UTF-8 byte order mark and blank space, `{` or `[`.
    static func opensJSON(_ bytes: [UInt8]) -> Bool {
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D {
            index += 1
        }
        return index < bytes.count && (bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "["))
    }

    /// The kind every `Content-Type` field together declares: JSON if any
    /// says JSON, then NDJSON, then a form.
    static func declaredKind(of headers: HeaderFields) -> DeclaredKind {
        if headers.count(named: "content-type") > 1 {
            let kinds = headers.values(for: "content-type").map { value -> DeclaredKind in
                var value = value
                return value.withUTF8 { kind(ofMediaType: ASCII.mediaType(of: $0)) }
            }
            for candidate in [DeclaredKind.json, .ndjson, .form, .multipart, .csv, .tsv] where kinds.contains(candidate) {
                return candidate
            }
            return .other
        }
        return headers.withFirstValue(named: "content-type") { value in
            guard let value else { return .other }
            return kind(ofMediaType: ASCII.mediaType(of: value))
        }
    }

    private static func kind(ofMediaType mediaType: UnsafeBufferPointer<UInt8>) -> DeclaredKind {
        // Compared in place, ignoring case: no lowercased copy.
        func isType(_ literal: StaticString, suffix: Bool = false) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard suffix ? mediaType.count > count : mediaType.count == count else { return false }
            return literal.withUTF8Buffer {
                ASCII.equalIgnoringCase(UnsafeBufferPointer(rebasing: mediaType[(mediaType.count - count)...]), $0)
            }
        }
        if isType("application/json") || isType("text/json") || isType("+json", suffix: true) { return .json }
        if isType("application/x-ndjson") || isType("application/ndjson") || isType("application/jsonl")
            || isType("application/x-jsonlines") || isType("application/jsonlines") || isType("application/json-seq")
        {
            return .ndjson
        }
        if isType("application/x-www-form-urlencoded") { return .form }
        let multipart: StaticString = "multipart/"
        if mediaType.count > multipart.utf8CodeUnitCount,
            multipart.withUTF8Buffer({
                ASCII.equalIgnoringCase(UnsafeBufferPointer(rebasing: mediaType[..<$0.count]), $0)
            })
        {
            return .multipart
        }
        if isType("text/csv") { return .csv }
        if isType("text/tab-separated-values") { return .tsv }
        return .other
    }

    /// The document redacted, or `nil` when it is not JSON.
    func redactJSON(_ bytes: [UInt8], fields: NameSet, paths: [JSONPath]) -> [UInt8]? {
        if paths.isEmpty, allowlist == nil {
            // With only exact field names to look for and no card numbers, no
            // escape in the body and none of the names in its bytes, no member
            // a rule could reach is there: whether it parses or not, nothing
            // in it is hidden.
            if !masksCards, !bytes.contains(UInt8(ascii: "\\")), !fields.mightOccur(in: bytes) { return bytes }
            // Names only: one pass finds the values to hide, and the body is
            // copied with them replaced; no tree is built.
            let found = bytes.withUnsafeBufferPointer {
                JSONFieldScanner.valuesToHide(in: $0, named: fields, masksCards: masksCards)
            }
            guard let ranges = found else { return nil }
            return Self.replacing(ranges, in: bytes, with: replacementJSON)
        }
        guard let tree = try? JSONParser.parse(bytes) else { return nil }
        var redacted = redactTree(tree, fields: fields)
        for path in paths {
            redacted = path.redact(redacted, with: .string(replacement))
        }
        return redacted == tree ? bytes : redacted.serialized
    }

    /// NDJSON: each line that is JSON redacted as JSON; any other line is
    /// the marker when the type says NDJSON, and read as text otherwise.
    private func redactLines(_ bytes: [UInt8], declared: DeclaredKind, fields: NameSet, paths: [JSONPath]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if index > 0 { output.append(0x0A) }
            let lineBytes = Array(line)
            if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                output.append(contentsOf: lineBytes)
            } else if let redacted = redactJSON(lineBytes, fields: fields, paths: paths) {
                output.append(contentsOf: redacted)
            } else if declared == .ndjson {
                output.append(contentsOf: marker)
            } else {
                output.append(contentsOf: redactText(lineBytes, fields: fields))
            }
        }
        return output
    }

    /// A body with no structure: values after secret names and card
    /// numbers hidden. Under an allowlist nothing can be shown, so the body
    /// is the marker.
    func redactText(_ bytes: [UInt8], fields: NameSet) -> [UInt8] {
        if allowlist != nil { return marker }
        let ranges = bytes.withUnsafeBufferPointer {
            TextSecretScanner.valuesToHide(in: $0, named: fields, masksCards: masksCards)
        }
        return Self.replacing(ranges, in: bytes, with: Array(replacement.utf8))
    }

    /// `bytes` with each range (in order; one overlapping an earlier one is
    /// passed over) replaced by `replacement`.
    static func replacing(_ ranges: [Range<Int>], in bytes: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        guard !ranges.isEmpty else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + ranges.count * replacement.count)
        var position = 0
        for range in ranges where range.lowerBound >= position {
            output.append(contentsOf: bytes[position..<range.lowerBound])
            output.append(contentsOf: replacement)
            position = range.upperBound
        }
        output.append(contentsOf: bytes[position...])
        return output
    }

    /// Hides members named by `fields` at any depth, or, with an allowlist,
    /// every scalar not under an allowed member; card numbers anywhere.
    private func redactTree(_ value: JSONValue, fields: NameSet) -> JSONValue {
        guard allowlist != nil || !fields.isEmpty || masksCards else { return value }
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
                    members[index].value = redactTree(members[index].value, fields: fields)
                }
            }
            return .object(members)
        case let .array(elements):
            return .array(elements.map { redactTree($0, fields: fields) })
        case let .string(text) where masksCards && CardNumber.matches(Substring(text)),
            let .number(text) where masksCards && CardNumber.matches(Substring(text)):
            return .string(replacement)
        default:
            return allowlist == nil ? value : .string(replacement)
        }
    }

    /// Under an allowlist: a disallowed member's scalar is hidden; inside a
    /// disallowed container, allowed members still keep their values.
    private func hideScalars(_ value: JSONValue, fields: NameSet) -> JSONValue {
        switch value {
        case .object, .array:
            return redactTree(value, fields: fields)
        default:
            return .string(replacement)
        }
    }
}
