/// Reads the token of `Authorization: Bearer <token>`.
enum BearerToken {
    /// The longest opaque token identified, in bytes; a longer one
    /// identifies no one. Real tokens are well under a kilobyte; the bound
    /// keeps a client from making the sender hash megabytes per call.
    static let maxOpaqueBytes = 4_096

    /// The token of the request's one `Authorization` field; `nil` when
    /// there is none, when it is not a bearer credential, or when the
    /// request carries more than one `Authorization` field (which one the
    /// server authenticated is not known, so none is believed).
    static func extract(from headers: HeaderFields) -> String? {
        guard headers.count(named: "authorization") == 1 else { return nil }
        return extract(from: headers["authorization"])
    }

    private static func extract(from header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.trimmingOptionalWhitespace.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingOptionalWhitespace
        return token.isEmpty ? nil : token
    }

    /// Whether `token` can stand for its caller as an opaque token: at most
    /// ``maxOpaqueBytes`` bytes of RFC 6750's `b64token` (letters, digits,
    /// `-._~+/`, then any `=`). Anything else, control characters and
    /// spaces included, is no token a server issued.
    static func isOpaqueToken(_ token: String) -> Bool {
        let bytes = token.utf8
        guard !bytes.isEmpty, bytes.count <= maxOpaqueBytes else { return false }
        var padding = false
        for byte in bytes {
            if byte == UInt8(ascii: "=") {
                padding = true
                continue
            }
            guard !padding, isTokenByte(byte) else { return false }
        }
        // A token of padding alone says nothing.
        return bytes.first != UInt8(ascii: "=")
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
