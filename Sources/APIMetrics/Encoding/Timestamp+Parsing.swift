extension Timestamp {
    /// Reads an RFC 3339 date-time (`2026-12-06T15:04:05.123Z`,
    /// `…+01:00`; seconds and the fraction optional, `Z` assumed when the
    /// offset is missing) as nanoseconds since the epoch; `nil` when it is
    /// not one, or out of the years 1970 to 2261 (nanoseconds since the
    /// epoch in 64 bits end in 2262).
    package static func parseRFC3339(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 16, bytes.count <= 40 else { return nil }
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
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2)
        else { return nil }
        var second: Int64 = 0
        var fraction: Int64 = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ":") {
            position += 1
            guard let value = number(2) else { return nil }
            second = value
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                var digits = 0
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                    if digits < 9 { fraction = fraction * 10 + Int64(bytes[position] - 0x30) }
                    digits += 1
                    position += 1
                }
                guard digits > 0 else { return nil }
                if digits < 9 { for _ in digits..<9 { fraction *= 10 } }
            }
        }
        var offset: Int64 = 0
        if position < bytes.count {
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
            hour < 24, minute < 60, second < 61
        else { return nil }
        let days = Self.days(fromYear: year, month: Int(month), day: Int(day))
        guard Self.civil(fromDays: days) == (year, Int(month), Int(day)) else { return nil }
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
        guard seconds >= 0 else { return nil }
        return seconds * 1_000_000_000 + fraction
    }

    /// Howard Hinnant's civil-to-days algorithm, the inverse of ``civil(fromDays:)``.
    static func days(fromYear year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let monthPrime = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthPrime + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
