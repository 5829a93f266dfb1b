/// Finds whether any of a set of lowercase names occurs in a body, ignoring
/// ASCII case, in one pass over the body whatever the number of names.
///
/// Names that hold another of the set are left out (where `password`
/// occurs, `pass` does too), and the first two bytes of each name left are
/// marked in a table of ASCII pairs: a position whose two bytes are not
/// marked is passed over with one lookup, and only a marked one is compared
/// with the names. Names shorter than two bytes, or that start outside
/// ASCII, are looked for one by one.
struct BodyProbe: Sendable {
    /// The names with a marked pair, lowercase.
    private let paired: [[UInt8]]
    /// The names looked for one by one.
    private let others: [[UInt8]]
    /// A bit per pair of ASCII bytes (first × 128 + second), lowercase.
    private let pairs: [UInt64]

    init(names: Set<String>) {
        let all = names.map { Array($0.utf8) }.filter { !$0.isEmpty }
        let needed = all.filter { name in
            !all.contains { other in other.count < name.count && Self.contains(name, other) }
        }.sorted { $0.lexicographicallyPrecedes($1) }
        var pairs = [UInt64](repeating: 0, count: 128 * 128 / 64)
        var paired: [[UInt8]] = []
        var others: [[UInt8]] = []
        for name in needed {
            if name.count >= 2, name[0] < 0x80, name[1] < 0x80 {
                let index = Int(name[0]) << 7 | Int(name[1])
                pairs[index >> 6] |= 1 << UInt64(index & 63)
                paired.append(name)
            } else {
                others.append(name)
            }
        }
        self.paired = paired
        self.others = others
        self.pairs = pairs
    }

    /// Whether `other` occurs in `name`, both lowercase bytes.
    private static func contains(_ name: [UInt8], _ other: [UInt8]) -> Bool {
        guard other.count <= name.count else { return false }
        return (0...(name.count - other.count)).contains { start in name[start..<(start + other.count)].elementsEqual(other) }
    }

    /// Whether any of the names occurs in `haystack`, ignoring ASCII case.
    func occurs(in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        for name in others where NameSet.containsIgnoringCase(haystack, name) { return true }
        guard !paired.isEmpty, let base = haystack.baseAddress, haystack.count >= 2 else { return false }
        return pairs.withUnsafeBufferPointer { table -> Bool in
            var index = 0
            let last = haystack.count - 1
            var first = ASCII.lowercased(base[0])
            while index < last {
                let second = ASCII.lowercased(base[index + 1])
                if first < 0x80 && second < 0x80 {
                    let pair = Int(first) << 7 | Int(second)
                    if table[pair >> 6] >> UInt64(pair & 63) & 1 == 1, matchesAt(index, base, haystack.count) {
                        return true
                    }
                }
                first = second
                index += 1
            }
            return false
        }
    }

    /// Whether a paired name starts at `start` (its first two bytes are known to match one's).
    private func matchesAt(_ start: Int, _ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for name in paired where start + name.count <= count {
            let found = name.withUnsafeBufferPointer {
                ASCII.equalIgnoringCase(UnsafeBufferPointer(start: base + start, count: name.count), $0)
            }
            if found { return true }
        }
        return false
    }
}
