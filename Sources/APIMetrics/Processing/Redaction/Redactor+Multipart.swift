extension Redactor {
    /// How many multipart bodies may be nested inside one another; a
    /// deeper one is the marker.
    static let maxMultipartDepth = 2

    /// A `multipart/*` body redacted part by part: the content of a part
    /// whose name (`Content-Disposition: form-data; name="password"`) is a
    /// secret is hidden, any other part's content goes through the rules
    /// of its own `Content-Type` (JSON, a form, text, a nested multipart),
    /// and the part headers, the preamble and the epilogue through the
    /// textual ones. A body that does not split at its boundary, has no
    /// boundary, or nests too deep is the marker.
    func redactMultipart(
        _ bytes: [UInt8], headers: HeaderFields, isTruncated: Bool, fields: NameSet, paths: [JSONPath], depth: Int
    ) -> [UInt8] {
        guard depth < Self.maxMultipartDepth, let boundary = MultipartBody.boundary(of: headers),
            let body = MultipartBody(bytes, boundary: boundary, isTruncated: isTruncated)
        else { return marker }
        var edits: [(range: Range<Int>, bytes: [UInt8])] = []
        func text(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let original = Array(bytes[range])
            let redacted = redactText(original, fields: fields)
            if redacted != original { edits.append((range, redacted)) }
        }
        text(body.preamble)
        for part in body.parts {
            text(part.headers)
            guard !part.content.isEmpty else { continue }
            let partHeaders = MultipartBody.headerFields(bytes[part.headers])
            if MultipartBody.names(in: partHeaders).contains(where: { hides($0, deny: fields) }) {
                edits.append((part.content, Array(replacement.utf8)))
                continue
            }
            // A part coded in a way the rules cannot read (`base64`,
            // `gzip`) is not read.
            let codings = partHeaders.values(for: "content-transfer-encoding") + partHeaders.values(for: "content-encoding")
            if codings.contains(where: {
                !["7bit", "8bit", "binary", "identity"].contains($0.trimmingOptionalWhitespace.lowercased())
            }) {
                edits.append((part.content, marker))
                continue
            }
            var content = Array(bytes[part.content])
            let original = content
            let cut = isTruncated && part.content.upperBound == bytes.count
            redactDecoded(
                &content, kind: Self.declaredKind(of: partHeaders), headers: partHeaders, isTruncated: cut,
                fields: fields, paths: paths, depth: depth + 1)
            if content != original { edits.append((part.content, content)) }
        }
        text(body.epilogue)
        guard !edits.isEmpty else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        for edit in edits {
            output.append(contentsOf: bytes[position..<edit.range.lowerBound])
            output.append(contentsOf: edit.bytes)
            position = edit.range.upperBound
        }
        output.append(contentsOf: bytes[position...])
        return output
    }
}
