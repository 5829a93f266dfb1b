/// Recognises values that look like payment card numbers: 13 to 19 digits
/// passing the Luhn check, either run together or grouped by single spaces
/// or single dashes (`4111 1111 1111 1111`, `4111-1111-1111-1111`), and
/// nothing else in the value but blank space at either end.
///
/// About one random digit string in ten passes the Luhn check, so a long
/// numeric id of that length may be hidden too: the price of hiding every
/// card number whatever it is called.
enum CardNumber {
    static let digitCounts = 13...19
    /// The longest value looked at: 19 digits and 18 separators.
    static let maxLength = 37

    /// Whether the whole of `bytes` is a card number, blank space at
    /// either end aside (`" 4111 1111 1111 1111 "`).
    static func matches(_ untrimmed: UnsafeBufferPointer<UInt8>) -> Bool {
        var lower = 0
        var upper = untrimmed.count
        while lower < upper, isBlank(untrimmed[lower]) { lower += 1 }
        while upper > lower, isBlank(untrimmed[upper - 1]) { upper -= 1 }
        let bytes = UnsafeBufferPointer(rebasing: untrimmed[lower..<upper])
        guard bytes.count >= digitCounts.lowerBound, bytes.count <= maxLength else { return false }
        var digits = 0
        var sum = 0
        var separator: UInt8 = 0
        var previousWasDigit = false
        // Luhn from the right: every second digit from the last is doubled.
        var index = bytes.count - 1
        while index >= 0 {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let digit = Int(byte - UInt8(ascii: "0"))
                if digits % 2 == 1 {
                    let doubled = digit * 2
                    sum += doubled > 9 ? doubled - 9 : doubled
                } else {
                    sum += digit
                }
                digits += 1
                previousWasDigit = true
            } else if (byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-")) && previousWasDigit
                && (separator == 0 || separator == byte) && index > 0
            {
                separator = byte
                previousWasDigit = false
            } else {
                return false
            }
            index -= 1
        }
        return previousWasDigit && digitCounts.contains(digits) && sum % 10 == 0
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Whether a value that is not a card number run together could still
    /// be one with blank space around it: it begins or ends with blank
    /// space. Checked before a long value is copied or walked.
    static func mayBePadded(first: UInt8, last: UInt8) -> Bool {
        isBlank(first) || isBlank(last)
    }

    static func matches(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count >= digitCounts.lowerBound, bytes.count <= maxLength else { return false }
        return Array(bytes).withUnsafeBufferPointer { matches($0) }
    }

    static func matches(_ text: Substring) -> Bool {
        var utf8 = text.utf8
        while let first = utf8.first, isBlank(first) { utf8 = utf8.dropFirst() }
        while let last = utf8.last, isBlank(last) { utf8 = utf8.dropLast() }
        guard utf8.count >= digitCounts.lowerBound, utf8.count <= maxLength else { return false }
        return matches(utf8)
    }
}
