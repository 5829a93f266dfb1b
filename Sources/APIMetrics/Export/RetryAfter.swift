/// Reads a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110).
enum RetryAfter {
    static func parse(_ value: String) -> Duration? {
        let trimmed = value.trimmingOptionalWhitespace
        if let seconds = Int(trimmed), seconds >= 0 {
            return .seconds(seconds)
        }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        let now = CaptureClock.wallNanoseconds() / 1_000_000_000
        return .seconds(max(0, date - now))
    }
}
