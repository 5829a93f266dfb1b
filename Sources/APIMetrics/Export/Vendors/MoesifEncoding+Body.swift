/// Bodies as Moesif reads them: a JSON document as itself, anything else
/// as base64, and a compressed body inflated first, as its SDKs do.
extension MoesifEncoding {
    /// Writes `body` and its `transfer_encoding`, nothing when it is empty.
    ///
    /// A body whose content coding the redactor did not undo (no redaction
    /// rule applied, so it was left as sent) is inflated here, to at most
    /// `maxInflatedBytes` (the capture limit, at most ``maxBodyBytes``):
    /// Moesif shows and searches what the client read, not the compressed
    /// bytes, and a few hundred compressed bytes from a client must not
    /// grow past what a plain body could be. Only an object or an array goes as
    /// `json` (Moesif's docs: "If set to json then the body must be a JSON
    /// object"; moesifdjango's `start_with_json`); a scalar, text, binary
    /// or a body cut at the capture limit goes as base64.
    static func writeBody(
        _ body: CapturedBody, headers: HeaderFields, bodies: Bodies, maxInflatedBytes: Int, into writer: inout JSONWriter
    ) {
        guard !body.bytes.isEmpty else { return }
        guard bodies == .sent else {
            writeNote(
                "body of \(body.size) bytes left out: the event passed Moesif's limit of \(maxEventBytes) bytes", into: &writer)
            return
        }
        var bytes = body.bytes
        var isTruncated = body.isTruncated
        if body.decodedFrom == nil {
            let codings = BodyDecoding.contentCodings(of: headers)
            if !codings.isEmpty {
                do {
                    let decoded = try BodyDecoding.removeContentCodings(codings, from: bytes, maxOutput: maxInflatedBytes)
                    bytes = decoded.bytes
                    if !decoded.isComplete { isTruncated = true }
                } catch .tooLarge {
                    writeNote(
                        "body left out: it inflates past \(maxInflatedBytes) bytes (\(codings.joined(separator: ", ")))",
                        into: &writer)
                    return
                } catch {
                    // A coding that cannot be undone (br, zstd) or bytes that
                    // are not what it says: sent as they are, in base64, as
                    // moesifdjango does when gzip.decompress fails.
                }
                guard !bytes.isEmpty else { return }
            }
        }
        var content = bytes[...]
        if content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }
        writer.key("body")
        if !isTruncated && isJSONDocument(content) {
            writer.embeddedJSON(content)
            writer.field("transfer_encoding", "json")
        } else {
            writer.string(Base64.encode(bytes))
            writer.field("transfer_encoding", "base64")
        }
    }

    /// Whether `bytes` are one valid JSON object or array.
    static func isJSONDocument(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            JSONFieldScanner.valuesToHide(in: buffer, named: NameSet(names: [])) != nil
        }
    }

    /// A body Moesif is not sent, replaced by a JSON object saying why (the
    /// form moesif-nodejs uses for a body over its size limit: `{"msg": ...}`).
    private static func writeNote(_ note: String, into writer: inout JSONWriter) {
        writer.key("body")
        writer.beginObject()
        writer.field("msg", note)
        writer.endObject()
        writer.field("transfer_encoding", "json")
    }
}
