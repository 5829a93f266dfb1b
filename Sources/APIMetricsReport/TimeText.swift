/// RFC 3339 times in UTC, read and written by arithmetic (no formatter, no
/// locale, no time zone database), as nanoseconds since the epoch.
package enum TimeText {
    /// `2026-12-06T15:04:05.123Z`.
    package static func format(_ nanoseconds: Int64) -> String {
        let seconds = floorDivide(nanoseconds, 1_000_000_000)
        let milliseconds = (nanoseconds - seconds * 1_000_000_000) / 1_000_000
        let days = floorDivide(seconds, 86_400)
        let second = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        return "\(pad(year, 4))-\(pad(Int64(month), 2))-\(pad(Int64(day), 2))T\(pad(second / 3_600, 2)):\(pad(second / 60 % 60, 2)):"
            + "\(pad(second % 60, 2)).\(pad(milliseconds, 3))Z"
    }

    /// Reads `2026-12-06T15:04:05Z`, with an optional fraction and an offset
    /// (`+01:00`) instead of `Z`, or a date alone (`2026-12-06`, its
    /// midnight UTC); `nil` when it is neither or out of 1970 to 2261.
    package static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, bytes.count <= 40 else { return nil }
        var position = 0
        func number(_ width: Int) -> Int64? {
            guard position + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[position..<(position + width)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            position += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, fraction: Int64 = 0, offset: Int64 = 0
        if position < bytes.count {
            guard expect("Tt "), let h = number(2), expect(":"), let m = number(2), expect(":"), let s = number(2) else { return nil }
            (hour, minute, second) = (h, m, s)
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                var digits = 0
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                    if digits < 9 { fraction = fraction * 10 + Int64(bytes[position] - 0x30) }
                    digits += 1
                    position += 1
                }
                guard digits > 0 else { return nil }
                for _ in min(digits, 9)..<9 { fraction *= 10 }
            }
            if expect("Zz") {
            } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                let sign: Int64 = bytes[position] == UInt8(ascii: "-") ? -1 : 1
                position += 1
                guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
                offset = sign * (hours * 3_600 + minutes * 60)
            } else {
                return nil
            }
        }
        guard position == bytes.count, (1970...2261).contains(year), (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 61 else { return nil }
        let days = Self.days(fromYear: year, month: Int(month), day: Int(day))
        guard civil(fromDays: days) == (year, Int(month), Int(day)) else { return nil }
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
        guard seconds >= 0, seconds < 9_223_372_036 else { return nil }
        return seconds * 1_000_000_000 + fraction
    }

    /// Howard Hinnant's days-from-civil.
    static func days(fromYear year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let monthPrime = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthPrime + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's civil-from-days.
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        let month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
