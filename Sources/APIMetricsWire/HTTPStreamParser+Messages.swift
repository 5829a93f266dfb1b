import APIMetrics

/// The values the parser reads and reports.
extension HTTPStreamParser {
    enum Role {
        case request
        case response
    }

    /// What a response's framing needs to know of the request it answers.
    enum MethodKind {
        case other
        /// `HEAD`: the response has no body, whatever its fields say.
        case head
        /// `CONNECT`: a 2xx response switches the connection to a tunnel.
        case connect
    }

    struct Head {
        /// Request: the method as sent (the common ones are literals).
        var method = ""
        /// Request: whether the method is one that changes how the response
        /// is framed, decided once as the start line is read.
        var methodKind = MethodKind.other
        /// Response: the status code, read once from its three digits.
        var status = 0
        /// The protocol version of the start line, such as `1.1`.
        var version = "1.1"
        /// The head's fields as read, valid only while its event is handled
        /// (the parser reuses the memory for the next message): the list is
        /// made from them only when asked, so that a head whose exchange is
        /// shed (the queue is full) costs no copy of its fields.
        var fields: HeadScratch?

        /// The fields that decide framing, counted as the head is read.
        var counts = FieldCounts()

        /// Request: the target as sent, made into a string only when asked
        /// (a shed exchange never asks); only while the event is handled.
        func makeTarget() -> String {
            fields?.makeTarget() ?? ""
        }

        /// The fields as the core's list, made in one go (two allocations of
        /// exactly the size needed); only while the event is handled.
        func makeHeaders() -> HeaderFields {
            fields?.makeHeaderFields() ?? HeaderFields()
        }

        /// Every value of the field named `name`; for the rare heads that
        /// need one read (framing past the usual cases, upgrades).
        func values(_ name: String) -> [String] {
            makeHeaders().values(for: name)
        }

        /// Response: whether the server closes the connection after this
        /// response (RFC 9112 §9.3): `close` named, or HTTP/1.0 without
        /// `keep-alive`. It then reads no further request.
        var closesConnection: Bool {
            counts.closes || (version == "1.0" && !counts.keepsAlive)
        }
    }

    /// What the start line says: the method (requests) or the status
    /// (responses).
    struct StartLine {
        var method: String
        var methodKind: MethodKind
        var status: Int
        /// `1.0` or `1.1` (literals, no allocation); `1.x` for another minor digit.
        var version: String = "1.1"
    }

    /// The fields that decide framing, counted as a head is read, so that
    /// the usual head (none of them, or one plain Content-Length) is framed
    /// without looking anything up. Kept by the parser while the head is
    /// read (plain integers, not fields of the optional head, whose every
    /// change would copy it) and handed over with the head.
    struct FieldCounts {
        /// Every field read, kept or not.
        var fields = 0
        var contentLength = 0
        var transferEncoding = 0
        var upgrade = 0
        /// The first Content-Length, when it is plain digits.
        var plainContentLength: Int?
        /// Whether every field was kept; `false` when the parser was told
        /// not to collect them (the exchange is being shed) and kept only
        /// those that decide framing.
        var hasAllFields = true
        /// Whether a Connection field names `close`.
        var closes = false
        /// Whether a Connection field names `keep-alive`.
        var keepsAlive = false
    }

    /// How the body of the message whose head was just read is framed.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
        /// No body, as for a HEAD request's response; but when the next
        /// byte does not start a response, the server sent this many bytes
        /// of body after all (it did not read the request as HEAD), and
        /// they are passed over.
        case noneUnlessSent(Int)
        /// The connection leaves HTTP after this head (101, CONNECT 2xx).
        case switched
        /// The head cannot be framed (bad Content-Length, unknown coding).
        case invalid(String)
    }

    /// What the parser reports; the answer matters only for `.head`, where
    /// it is how the message's body is framed (the caller knows, for a
    /// response, the request's method). Events are handed over as they
    /// happen, so a caller can act on each one without keeping it.
    typealias Emit = (Event) -> Framing

    enum Event {
        /// The first byte of a new message arrived.
        case messageStart
        case head(Head)
        case body(ArraySlice<UInt8>)
        case end
        /// The stream cannot be read further; `partial` is the start line
        /// when it was read before the failure.
        case failure(String, partial: Head?)
    }

    struct Limits {
        var startLine = 8 * 1024
        var headerSection = 64 * 1024
        var headerCount = 100
    }
}
