/// The semantic conventions' `exception.*` attributes of a recorded error,
/// as a span's `exception` event and a log record carry them.
enum OTLPException {
    /// `exception.stacktrace`: the error's line (`Type: message`), a line
    /// per cause (`caused by Type: message`, outermost first), and where it
    /// was reported (`at File.swift:42`) last, as a trace ends with the frame
    /// nearest the error. `nil` when the place is unknown: Monoscope (and
    /// other backends) group errors by a trace's last line, and a last line
    /// holding a message (ids, addresses) would split one error into many
    /// groups, where without a trace they group by type and message with
    /// the variable parts masked.
    static func stacktrace(_ error: RecordedError) -> String? {
        guard let location = error.location, !location.isEmpty else { return nil }
        var text = error.type + ": " + error.message
        for cause in error.causes {
            text += "\ncaused by " + cause.type + ": " + cause.message
        }
        text += "\nat " + location
        return text
    }

    /// `exception.type`, `exception.message` and, when known,
    /// `exception.stacktrace`, as elements of the attribute field `field`.
    static func writeAttributes<W: OTLPWriter & ~Copyable>(_ error: RecordedError, into list: inout W, field: Int) {
        OTLPAttributes.string("exception.type", error.type, into: &list, field: field)
        OTLPAttributes.string("exception.message", error.message, into: &list, field: field)
        if let stacktrace = stacktrace(error) {
            OTLPAttributes.string("exception.stacktrace", stacktrace, into: &list, field: field)
        }
    }
}
