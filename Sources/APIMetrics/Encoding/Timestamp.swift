/// Formats instants as RFC 3339 UTC with milliseconds
/// (`2026-11-21T10:00:00.123Z`) by arithmetic alone: no formatter, no locale,
/// no time zone database.
package enum Timestamp {
    package static func rfc3339(nanosecondsSinceEpoch nanoseconds: Int64) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        append(nanosecondsSinceEpoch: nanoseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An instant's calendar fields in UTC.
    struct Fields {
        var year: Int64
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        var millisecond: Int

        init(nanosecondsSinceEpoch nanoseconds: Int64) {
            let millis = floorDivide(nanoseconds, 1_000_000)
            let seconds = floorDivide(millis, 1000)
            millisecond = Int(millis - seconds * 1000)
            let days = floorDivide(seconds, 86_400)
            let secondOfDay = Int(seconds - days * 86_400)
            (year, month, day) = civil(fromDays: days)
            hour = secondOfDay / 3600
            minute = secondOfDay / 60 % 60
            second = secondOfDay % 60
        }
    }

    static func append(nanosecondsSinceEpoch nanoseconds: Int64, to bytes: inout [UInt8]) {
        withRFC3339Bytes(nanosecondsSinceEpoch: nanoseconds) { bytes.append(contentsOf: $0) }
    }

    /// Formats the instant into a buffer on the stack and hands its bytes
    /// to `body`: what the JSON writer and `append` both use.
    static func withRFC3339Bytes<Result>(
        nanosecondsSinceEpoch nanoseconds: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        let time = Fields(nanosecondsSinceEpoch: nanoseconds)
        // Int64 nanoseconds span the years 1677 to 2262: always four digits.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var position = 0
            func digits(_ value: Int64, _ width: Int) {
                var remaining = value
                for index in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                position += width
            }
            func byte(_ value: UInt8) {
                buffer[position] = value
                position += 1
            }
            digits(time.year, 4)
            byte(UInt8(ascii: "-"))
            digits(Int64(time.month), 2)
            byte(UInt8(ascii: "-"))
            digits(Int64(time.day), 2)
            byte(UInt8(ascii: "T"))
            digits(Int64(time.hour), 2)
            byte(UInt8(ascii: ":"))
            digits(Int64(time.minute), 2)
            byte(UInt8(ascii: ":"))
            digits(Int64(time.second), 2)
            byte(UInt8(ascii: "."))
            digits(Int64(time.millisecond), 3)
            byte(UInt8(ascii: "Z"))
            return body(UnsafeBufferPointer(rebasing: buffer[..<position]))
        }
    }

    /// Howard Hinnant's days-to-civil algorithm for the proleptic Gregorian calendar.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        let month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
