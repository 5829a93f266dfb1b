/// The `partial_success` of an OTLP export response: how many items the
/// collector refused although it took the request, and why.
enum OTLPPartialSuccess {
    /// Reads a response body; `nil` when it holds no partial success (an
    /// empty body, as many collectors send, or one that cannot be read).
    static func parse(_ body: [UInt8], isJSON: Bool) -> (rejected: Int64, message: String)? {
        guard !body.isEmpty else { return nil }
        return isJSON ? parseJSON(body) : parseProtobuf(body)
    }

    /// `Export*ServiceResponse { partial_success = 1 { rejected_* = 1 (int64); error_message = 2 } }`.
    static func parseProtobuf(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        var reader = ProtobufReader(body[...])
        while let (field, value) = reader.next() {
            guard field == 1, case let .bytes(inner) = value else { continue }
            var rejected: Int64 = 0
            var message = ""
            var innerReader = ProtobufReader(inner)
            while let (innerField, innerValue) = innerReader.next() {
                switch (innerField, innerValue) {
                case let (1, .varint(count)): rejected = Int64(bitPattern: count)
                case let (2, .bytes(text)): message = String(decoding: text, as: UTF8.self)
                default: continue
                }
            }
            guard !innerReader.failed else { return nil }
            return (rejected, message)
        }
        return nil
    }

    /// `{"partialSuccess":{"rejectedSpans":"3","errorMessage":"…"}}`; the
    /// count may be a string (as the protocol writes 64-bit integers) or a number.
    static func parseJSON(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        guard case let .object(members)? = try? JSONParser.parse(body),
            case let .object(partial)? = members.first(where: { $0.key == "partialSuccess" || $0.key == "partial_success" })?
                .value
        else { return nil }
        var rejected: Int64 = 0
        var message = ""
        for member in partial {
            switch (member.key, member.value) {
            case let ("errorMessage", .string(text)), let ("error_message", .string(text)):
                message = text
            case let (key, .string(text)) where key.hasPrefix("rejected"):
                rejected = Int64(text) ?? 0
            case let (key, .number(text)) where key.hasPrefix("rejected"):
                rejected = Int64(text) ?? Int64(Double(text) ?? 0)
            default:
                continue
            }
        }
        return (rejected, message)
    }
}
