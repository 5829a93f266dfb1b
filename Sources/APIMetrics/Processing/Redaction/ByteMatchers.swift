/// ``FieldMatcher``s over ASCII bytes, their text lowercase, flattened into
/// three arrays so that matching a name is integer work on one buffer: no
/// enum payload copied, no reference counted, per matcher. The answers are
/// the string matchers' for an ASCII name, with ASCII case folded.
struct ByteMatchers: Sendable {
    private enum Kind: UInt8, Sendable {
        case exact, contains, glob
    }

    private struct Entry: Sendable {
        var kind: Kind
        var firstPart: Int32
        var partCount: Int32
    }

    private struct Part: Sendable {
        var start: Int32
        var count: Int32
    }

    private let text: [UInt8]
    /// The exact names first (``exactCount`` of them), then the others.
    private let entries: [Entry]
    private let exactCount: Int
    /// A bit per length of exact name (the top bit for 63 and longer): a
    /// name of no such length skips every exact compare.
    private let exactLengths: UInt64
    private let parts: [Part]
    /// The first bytes the matchers need, a bit per byte, when every one of
    /// them needs a given ASCII first byte: then most names (a browser's
    /// user agent against probes' names) are answered from their first byte.
    let firstBytes: (low: UInt64, high: UInt64)?
    /// The first two bytes each matcher needs (lowercase ASCII, the first in
    /// the low byte), when every one of them needs two known bytes: paths
    /// all start with `/`, and it is their second byte that tells them apart.
    let prefixes: [UInt16]?

    /// `nil` when a matcher is not ASCII: names are then matched as strings.
    init?(_ matchers: [FieldMatcher]) {
        // Word matching needs the name's case changes: it is done on strings.
        if matchers.contains(where: \.isCredential) { return nil }
        var text: [UInt8] = []
        var entries: [Entry] = []
        var parts: [Part] = []
        var low: UInt64 = 0, high: UInt64 = 0
        var everyFirstKnown = true
        var prefixes: [UInt16]? = []
        var exactLengths: UInt64 = 0
        // Exact names first, so that one length check can skip them all.
        let ordered = matchers.filter(\.isExact) + matchers.filter { !$0.isExact }
        for matcher in ordered {
            let kind: Kind
            let pieces: [[UInt8]]
            switch matcher.kind {
            case let .exact(name): (kind, pieces) = (.exact, [Array(name.utf8)])
            case let .contains(fragment): (kind, pieces) = (.contains, [Array(fragment.utf8)])
            case let .glob(globParts): (kind, pieces) = (.glob, globParts.map { Array($0.utf8) })
            case .credential: return nil
            }
            entries.append(Entry(kind: kind, firstPart: Int32(parts.count), partCount: Int32(pieces.count)))
            if kind == .exact { exactLengths |= 1 << UInt64(min(pieces[0].count, 63)) }
            for piece in pieces {
                parts.append(Part(start: Int32(text.count), count: Int32(piece.count)))
                text.append(contentsOf: piece)
            }
            // A matcher that can start anywhere, or matches only the empty name.
            if kind == .contains || (pieces.first?.isEmpty ?? true) {
                everyFirstKnown = false
                prefixes = nil
            } else if let firstPart = pieces.first, let first = firstPart.first, first < 0x80 {
                if first < 64 { low |= 1 << UInt64(first) } else { high |= 1 << UInt64(first - 64) }
                if firstPart.count >= 2 {
                    let prefix = UInt16(first) | UInt16(firstPart[1]) << 8
                    if prefixes?.contains(prefix) == false { prefixes?.append(prefix) }
                } else {
                    prefixes = nil
                }
            }
        }
        guard text.allSatisfy({ $0 < 0x80 }) else { return nil }
        self.text = text
        self.entries = entries
        self.exactCount = entries.prefix { $0.kind == .exact }.count
        self.exactLengths = exactLengths
        self.parts = parts
        self.firstBytes = everyFirstKnown ? (low, high) : nil
        self.prefixes = prefixes
    }

    /// Whether any matcher matches `name`, which must be ASCII.
    func matchAny(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        text.withUnsafeBufferPointer { text in
            parts.withUnsafeBufferPointer { parts in
                entries.withUnsafeBufferPointer { entries in
                    let start = exactLengths >> UInt64(min(name.count, 63)) & 1 == 0 ? exactCount : 0
                    for index in start..<entries.count where Self.matches(entries[index], name, text, parts) { return true }
                    return false
                }
            }
        }
    }

    private static func matches(
        _ entry: Entry, _ name: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, _ parts: UnsafeBufferPointer<Part>
    ) -> Bool {
        let first = parts[Int(entry.firstPart)]
        switch entry.kind {
        case .exact:
            return Int(first.count) == name.count && equal(name, from: 0, text, first)
        case .contains:
            return firstEnd(of: first, in: name, from: 0, text) != nil
        case .glob:
            guard equal(name, from: 0, text, first) else { return false }
            let count = Int(entry.partCount)
            if count == 1 { return name.count == Int(first.count) }
            var rest = Int(first.count)
            for index in 1..<count {
                let part = parts[Int(entry.firstPart) + index]
                if index == count - 1 {
                    return name.count - rest >= Int(part.count) && equal(name, from: name.count - Int(part.count), text, part)
                }
                // As the string matcher: an empty part between two stars is never found.
                guard part.count > 0, let end = firstEnd(of: part, in: name, from: rest, text) else { return false }
                rest = end
            }
            return true
        }
    }

    /// Whether `name[start...]` begins with the part, ignoring ASCII case.
    @inline(__always)
    private static func equal(
        _ name: UnsafeBufferPointer<UInt8>, from start: Int, _ text: UnsafeBufferPointer<UInt8>, _ part: Part
    ) -> Bool {
        let count = Int(part.count)
        guard name.count - start >= count else { return false }
        let offset = Int(part.start)
        for index in 0..<count where ASCII.lowercased(name[start + index]) != text[offset + index] {
            return false
        }
        return true
    }

    /// Where the first occurrence of the part at or after `start` ends.
    private static func firstEnd(
        of part: Part, in name: UnsafeBufferPointer<UInt8>, from start: Int, _ text: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        let count = Int(part.count)
        guard name.count - start >= count else { return nil }
        for offset in start...(name.count - count) where equal(name, from: offset, text, part) {
            return offset + count
        }
        return nil
    }
}
