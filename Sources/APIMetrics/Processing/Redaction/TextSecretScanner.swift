/// Finds secrets in a body that has no structure the redactor can parse
/// (XML, GraphQL, CSV, plain text, JSON that does not parse): the value
/// after a secret name in the common textual forms, and card numbers.
///
/// The forms: `<name>v</name>` (and `<name attr="…">v</name>`,
/// `<ns:name>v</ns:name>`, `<name><![CDATA[v]]></name>`),
/// `name="v"`, `name='v'`, `name: "v"`, `"name": "v"`, `name=v` and
/// `name: v` (an unquoted value runs to blank space or one of `&;,<>"')}]`).
/// A name is a run of letters, digits, `_`, `-`, `.`, brackets and bytes
/// outside ASCII, matched by its words as any field name is. Only a name
/// followed by `=` or `:` or opening an element is looked up, so most of a
/// body is passed over byte by byte. Work is linear in the body.
struct TextSecretScanner {
    private let base: UnsafePointer<UInt8>
    private let count: Int
    private let fields: NameSet
    private let masksCards: Bool
    private(set) var ranges: [Range<Int>] = []
    /// The value of a secret element, kept until its start tag's
    /// attributes (before it) have been scanned: where the tag ends, the
    /// value's ranges, and where scanning goes on after them.
    private var pendingElement: (tagEnd: Int, ranges: [Range<Int>], resume: Int)?

    /// The byte ranges of the values to hide in `bytes`, in order.
    static func valuesToHide(in bytes: UnsafeBufferPointer<UInt8>, named fields: NameSet, masksCards: Bool) -> [Range<Int>] {
        guard let base = bytes.baseAddress else { return [] }
        var scanner = TextSecretScanner(base: base, count: bytes.count, fields: fields, masksCards: masksCards)
        scanner.scan()
        return scanner.ranges
    }

    private init(base: UnsafePointer<UInt8>, count: Int, fields: NameSet, masksCards: Bool) {
        self.base = base
        self.count = count
        self.fields = fields
        self.masksCards = masksCards
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "["), UInt8(ascii: "]"), 0x80...:
            return true
        default:
            return false
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func endsUnquotedValue(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "&"), UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "<"),
            UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: ")"), UInt8(ascii: "}"),
            UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }

    private mutating func scan() {
        var index = 0
        while index < count {
            if let pending = pendingElement, index >= pending.tagEnd {
                index = max(index, flushPendingElement())
                continue
            }
            let byte = base[index]
            guard Self.isNameByte(byte) else {
                index += 1
                continue
            }
            if masksCards, Self.isDigit(byte), let end = cardRun(from: index) {
                ranges.append(index..<end)
                index = end
                continue
            }
            let start = index
            while index < count && Self.isNameByte(base[index]) { index += 1 }
            index = name(start..<index)
        }
        if pendingElement != nil { _ = flushPendingElement() }
    }

    /// Adds the pending element's value ranges after those found in its
    /// attributes (a quoted attribute value may run past the tag: only the
    /// part of a value range past the last range is added). Returns where
    /// scanning goes on.
    private mutating func flushPendingElement() -> Int {
        guard let pending = pendingElement else { return 0 }
        pendingElement = nil
        for range in pending.ranges {
            let start = max(range.lowerBound, ranges.last?.upperBound ?? 0)
            if start < range.upperBound { ranges.append(start..<range.upperBound) }
        }
        return pending.resume
    }

    /// Where the card number starting at `start` ends, if one does: a run
    /// of digits grouped by spaces or dashes, tried whole and then cut at
    /// each earlier group (`4111 1111 1111 1111 12/29`).
    private func cardRun(from start: Int) -> Int? {
        var index = start
        var groupEnds: [Int] = []
        while index < count, index - start <= CardNumber.maxLength {
            if Self.isDigit(base[index]) {
                index += 1
            } else if base[index] == 0x20 || base[index] == UInt8(ascii: "-"), index + 1 < count, Self.isDigit(base[index + 1]) {
                groupEnds.append(index)
                index += 1
            } else {
                break
            }
        }
        // A run glued to a letter or digit is part of something else.
        if index < count, Self.isNameByte(base[index]), base[index] != UInt8(ascii: "-"), base[index] != UInt8(ascii: ".") {
            return nil
        }
        groupEnds.append(index)
        for end in groupEnds.reversed() where end - start >= CardNumber.digitCounts.lowerBound {
            if CardNumber.matches(UnsafeBufferPointer(start: base + start, count: end - start)) { return end }
        }
        return nil
    }

    /// Handles the name at `range`: returns where scanning goes on.
    private mutating func name(_ range: Range<Int>) -> Int {
        var index = range.upperBound
        let before: UInt8 = range.lowerBound > 0 ? base[range.lowerBound - 1] : 0
        if before == UInt8(ascii: "<") {
            return element(range)
        }
        // `"name": …` and `'name'=…`: the closing quote of a quoted name.
        if index < count, base[index] == UInt8(ascii: "\"") || base[index] == UInt8(ascii: "'"), before == base[index] {
            index += 1
        }
        while index < count, base[index] == 0x20 || base[index] == 0x09 { index += 1 }
        guard index < count, base[index] == UInt8(ascii: "=") || base[index] == UInt8(ascii: ":") else {
            return range.upperBound
        }
        index += 1
        while index < count, base[index] == 0x20 || base[index] == 0x09 { index += 1 }
        guard index < count, isHidden(range) else { return range.upperBound }
        let quote = base[index]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            let valueStart = index + 1
            var end = valueStart
            while end < count, base[end] != quote, base[end] != 0x0A {
                end += base[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end, count)
            if end > valueStart { ranges.append(valueStart..<end) }
            return end
        }
        var end = index
        while end < count, !Self.endsUnquotedValue(base[end]) { end += 1 }
        if end > index { ranges.append(index..<end) }
        return end
    }

    /// `<name …>value</…`: the text up to the next `<` is the value, and
    /// so is the inside of any `<![CDATA[…]]>` section in it. A qualified
    /// name (`wsse:Password`) is matched by its local part, after the last
    /// `:`. The value is kept pending while the attributes are scanned as
    /// any other text (`<Auth ApiKey="…">`); returns where they start.
    private mutating func element(_ range: Range<Int>) -> Int {
        var local = range
        var index = range.upperBound
        while index + 1 < count, base[index] == UInt8(ascii: ":"), Self.isNameByte(base[index + 1]) {
            index += 1
            let start = index
            while index < count, Self.isNameByte(base[index]) { index += 1 }
            local = start..<index
        }
        let nameEnd = index
        while index < count, base[index] != UInt8(ascii: ">"), base[index] != UInt8(ascii: "<") { index += 1 }
        guard index < count, base[index] == UInt8(ascii: ">"), base[index - 1] != UInt8(ascii: "/"), isHidden(local) else {
            return nameEnd
        }
        let tagEnd = index
        var valueRanges: [Range<Int>] = []
        var position = index + 1
        let cdataOpen: [UInt8] = Array("<![CDATA[".utf8)
        var afterSection = false
        while position < count {
            var end = position
            while end < count, base[end] != UInt8(ascii: "<") { end += 1 }
            let isBlank = (position..<end).allSatisfy {
                base[$0] == 0x20 || base[$0] == 0x09 || base[$0] == 0x0A || base[$0] == 0x0D
            }
            // Blank space beside a section is layout, not the value.
            if end > position, !isBlank || !(afterSection || opens(cdataOpen, at: end)) { valueRanges.append(position..<end) }
            guard end < count, opens(cdataOpen, at: end) else {
                position = end
                break
            }
            // The section runs to `]]>`, or to the end of a body cut inside it.
            let inner = end + cdataOpen.count
            var close = inner
            while close < count, !opens([0x5D, 0x5D, 0x3E], at: close) { close += 1 }
            if close > inner { valueRanges.append(inner..<close) }
            position = min(close + 3, count)
            afterSection = true
        }
        pendingElement = (tagEnd, valueRanges, position)
        return nameEnd
    }

    private func opens(_ literal: [UInt8], at index: Int) -> Bool {
        guard index + literal.count <= count else { return false }
        for offset in literal.indices where base[index + offset] != literal[offset] { return false }
        return true
    }

    private func isHidden(_ range: Range<Int>) -> Bool {
        fields.contains(bytes: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
    }
}
