import APIMetrics

/// RFC 3339 times in UTC as nanoseconds since the epoch, for the command's
/// arguments and output: the library's own reading and writing of them.
package enum TimeText {
    /// `2026-12-06T15:04:05.123Z`.
    package static func format(_ nanoseconds: Int64) -> String {
        Timestamp.rfc3339(nanosecondsSinceEpoch: nanoseconds)
    }

    /// Reads an RFC 3339 time as the library does (`2026-12-06T15:04:05Z`,
    /// a fraction and an offset optional), or a date alone (`2026-12-06`,
    /// its midnight UTC); `nil` when it is neither or out of 1970 to 2261.
    package static func parse(_ text: String) -> Int64? {
        Timestamp.parseRFC3339(text.utf8.count == 10 ? text + "T00:00:00Z" : text)
    }
}
