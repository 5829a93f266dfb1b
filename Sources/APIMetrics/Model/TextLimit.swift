/// Cuts text a client controls to a byte budget before it reaches memory
/// that outlives the call: one place, so that every stage cuts alike.
///
/// A cut never splits a UTF-8 sequence, and keeps whole characters
/// (grapheme clusters) when it can: only a single character larger than the
/// whole budget (a letter carrying thousands of combining marks) is cut
/// between its scalars, so that a value is shortened, never emptied.
package enum TextLimit {
    /// What a cut value ends with, so that a reader sees it was cut.
    package static let marker = "…"

    /// `text` when it has at most `maxBytes` UTF-8 bytes; else its longest
    /// prefix within the budget, followed by ``marker`` when `marked` (the
    /// marker counts in the budget).
    @inline(__always)
    package static func cut(_ text: String, maxBytes: Int, marked: Bool = true) -> String {
        if text.utf8.count <= maxBytes { return text }
        return slowCut(text, maxBytes: maxBytes, marked: marked)
    }

    /// `text` within `maxCharacters` characters and `maxBytes` UTF-8 bytes,
    /// unmarked: the limits of stored identifiers.
    package static func cut(_ text: String, maxCharacters: Int, maxBytes: Int) -> String {
        let utf8 = text.utf8.count
        if utf8 <= maxCharacters && utf8 <= maxBytes { return text }
        var bytes = 0, characters = 0
        var end = text.startIndex
        while end < text.endIndex, characters < maxCharacters {
            let next = text.index(after: end)
            let size = text.utf8.distance(from: end, to: next)
            guard bytes + size <= maxBytes else { break }
            bytes += size
            characters += 1
            end = next
        }
        if end == text.endIndex { return text }
        if characters == 0 { return scalarPrefix(text, maxBytes: maxBytes) }
        return String(text[..<end])
    }

    @inline(never)
    private static func slowCut(_ text: String, maxBytes: Int, marked: Bool) -> String {
        let budget = marked ? max(0, maxBytes - marker.utf8.count) : maxBytes
        let kept = cut(text, maxCharacters: .max, maxBytes: budget)
        return marked ? kept + marker : kept
    }

    /// The longest prefix of whole scalars within `maxBytes`.
    private static func scalarPrefix(_ text: String, maxBytes: Int) -> String {
        var result = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let size = UTF8.width(scalar)
            guard bytes + size <= maxBytes else { break }
            bytes += size
            result.append(scalar)
        }
        return String(result)
    }
}
