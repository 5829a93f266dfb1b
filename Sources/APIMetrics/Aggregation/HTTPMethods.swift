/// The request methods the metrics keep by name: those of RFC 9110 and
/// RFC 5789 (`PATCH`), and the others in the IANA HTTP Method Registry
/// (WebDAV, DeltaV, CalDAV, `QUERY`…). Any other token a client sends as a
/// method is counted as ``SeriesKey/otherMethod``, as OpenTelemetry's HTTP
/// conventions do for `http.request.method`: a client cannot make a series
/// per method. Methods are case-sensitive (RFC 9110 §9.1): `get` is `_OTHER`.
/// The event keeps the method as sent, cut to ``maxRecordedBytes``.
enum HTTPMethods {
    /// The most bytes of a method kept on an event (the longest registered
    /// method, `UPDATEREDIRECTREF`, has 17).
    static let maxRecordedBytes = 64

    /// Whether `method` is a registered method, by exact bytes.
    @inline(__always)
    static func isRegistered(_ method: String) -> Bool {
        // The common ones first: a switch compares in order, and a small
        // string compares by its bits.
        switch method {
        case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS": return true
        default: return isRareRegistered(method)
        }
    }

    /// `method` when registered, else ``SeriesKey/otherMethod``.
    @inline(__always)
    static func seriesMethod(_ method: String) -> String {
        isRegistered(method) ? method : SeriesKey.otherMethod
    }

    @inline(never)
    private static func isRareRegistered(_ method: String) -> Bool {
        guard method.utf8.count <= 17 else { return false }
        return rare.contains(method)
    }

    private static let rare: Set<String> = [
        "CONNECT", "TRACE", "QUERY",
        // The IANA registry's others (WebDAV, DeltaV, CalDAV, binding, ordering, redirects, search).
        "ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT", "COPY", "LABEL", "LINK", "LOCK", "MERGE",
        "MKACTIVITY", "MKCALENDAR", "MKCOL", "MKREDIRECTREF", "MKWORKSPACE", "MOVE", "ORDERPATCH", "PRI",
        "PROPFIND", "PROPPATCH", "REBIND", "REPORT", "SEARCH", "UNBIND", "UNCHECKOUT", "UNLINK", "UNLOCK",
        "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL",
    ]
}
