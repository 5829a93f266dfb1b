/// The ASCII rules HTTP text follows, on bytes: case folding for names and
/// tokens, and the optional whitespace (space, tab) around values. One
/// place for every stage and adapter, so that they fold and trim alike.
package enum ASCII {
    /// `byte` with an ASCII capital letter made small; any other byte as it is.
    @inline(__always)
    package static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
    }

    /// Whether two byte runs are equal when ASCII letters ignore case.
    package static func equalIgnoringCase(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        for index in 0..<left.count {
            let a = left[index], b = right[index]
            if a != b && lowercased(a) != lowercased(b) { return false }
        }
        return true
    }

    /// Whether `byte` is HTTP's optional whitespace: a space or a tab.
    @inline(__always)
    package static func isOptionalWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }

    /// `range` of `bytes` without the optional whitespace at either end.
    @inline(__always)
    package static func trimmingOptionalWhitespace(_ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = range.lowerBound, end = range.upperBound
        while start < end, isOptionalWhitespace(bytes[start]) { start += 1 }
        while end > start, isOptionalWhitespace(bytes[end - 1]) { end -= 1 }
        return start..<end
    }

    /// The media type of a `Content-Type` value, such as `application/json`
    /// in `application/json; charset=utf-8`: what comes before any `;`,
    /// without the whitespace around it, in its own case.
    @inline(__always)
    package static func mediaType(of value: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        let end = value.firstIndex(of: UInt8(ascii: ";")) ?? value.count
        return UnsafeBufferPointer(rebasing: value[trimmingOptionalWhitespace(0..<end, of: value)])
    }
}

extension String {
    /// The string without the spaces and tabs (HTTP's optional whitespace)
    /// at either end.
    package var trimmingOptionalWhitespace: String {
        var slice = Substring(self)
        while let first = slice.utf8.first, ASCII.isOptionalWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.utf8.last, ASCII.isOptionalWhitespace(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
