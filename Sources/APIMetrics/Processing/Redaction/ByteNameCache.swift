import Synchronization

/// Remembered answers keyed by a name's bytes, ignoring ASCII case: an
/// open-addressing table over FNV-1a hashes of the lowercased bytes, bounded
/// at 1,024 names and 64 KiB of them (past either it starts over). Names
/// longer than 256 bytes are not remembered: no real name is that long, and
/// one that is would start the table over on every call.
///
/// The names are kept end to end in one byte buffer, so that a lookup
/// compares bytes in place: no entry is copied out of the table and no
/// array retained (every captured header's name is looked up, on every call).
final class ByteNameCache: Sendable {
    private struct Table {
        static let slotCount = 2048
        static let maxEntries = 1024
        static let maxNameBytes = 64 << 10
        /// The longest name remembered.
        static let maxNameLength = 256
        /// Index into the entries plus one; 0 is an empty slot.
        var slots = [Int32](repeating: 0, count: slotCount)
        var hashes: [UInt64] = []
        /// Where each entry's folded name starts in `names`, and its length.
        var starts: [Int32] = []
        var counts: [Int32] = []
        var answers: [Bool] = []
        var names: [UInt8] = []

        var count: Int { hashes.count }

        /// The entry of `name` (folded as the table's names are), or `nil`.
        func find(_ name: UnsafeBufferPointer<UInt8>, hash: UInt64, foldsCase: Bool) -> (slot: Int, entry: Int?) {
            var slot = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
            while true {
                let stored = Int(slots[slot])
                if stored == 0 { return (slot, nil) }
                let entry = stored - 1
                if hashes[entry] == hash, Int(counts[entry]) == name.count,
                    names.withUnsafeBufferPointer({ names in
                        ByteNameCache.equal(names, from: Int(starts[entry]), name, foldsCase: foldsCase)
                    })
                {
                    return (slot, entry)
                }
                slot = (slot + 1) & (Self.slotCount - 1)
            }
        }
    }

    private let table = Mutex(Table())
    /// Whether names differing only in ASCII case share an answer; not when
    /// a matcher splits names into words at their case changes.
    let foldsCase: Bool
    /// Every name hashes alike: for tests of names that share a hash.
    private let collides: Bool

    init(foldsCase: Bool = true) {
        self.foldsCase = foldsCase
        self.collides = false
    }

    /// A cache in which every name has the same hash, so that lookups must
    /// tell names apart by their bytes alone: for tests.
    init(foldsCase: Bool = true, everyNameCollidingForTesting: Void) {
        self.foldsCase = foldsCase
        self.collides = true
    }

    @inline(__always)
    private static func fold(_ byte: UInt8, _ foldsCase: Bool) -> UInt8 {
        foldsCase ? ASCII.lowercased(byte) : byte
    }

    private func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        if collides { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(Self.fold(byte, foldsCase))) &* 0x0100_0000_01b3
        }
        return hash
    }

    /// Whether the folded name stored at `start` of `stored` is `bytes`
    /// folded; the caller checked the lengths.
    fileprivate static func equal(
        _ stored: UnsafeBufferPointer<UInt8>, from start: Int, _ bytes: UnsafeBufferPointer<UInt8>, foldsCase: Bool
    ) -> Bool {
        for index in 0..<bytes.count where stored[start + index] != fold(bytes[index], foldsCase) { return false }
        return true
    }

    func answer(for bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        let hash = self.hash(bytes)
        return table.withLock { table -> Bool? in
            table.find(bytes, hash: hash, foldsCase: foldsCase).entry.map { table.answers[$0] }
        }
    }

    func answer(for bytes: ArraySlice<UInt8>) -> Bool? {
        bytes.withUnsafeBufferPointer { answer(for: $0) }
    }

    func remember(_ answer: Bool, for bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= Table.maxNameLength else { return }
        let hash = self.hash(bytes)
        let foldsCase = self.foldsCase
        table.withLock { table in
            var (slot, entry) = table.find(bytes, hash: hash, foldsCase: foldsCase)
            // Known already (another thread was first): nothing to add.
            guard entry == nil else { return }
            if table.count >= Table.maxEntries || table.names.count + bytes.count > Table.maxNameBytes {
                table = Table()
                slot = table.find(bytes, hash: hash, foldsCase: foldsCase).slot
            }
            table.hashes.append(hash)
            table.starts.append(Int32(truncatingIfNeeded: table.names.count))
            table.counts.append(Int32(truncatingIfNeeded: bytes.count))
            table.answers.append(answer)
            for byte in bytes { table.names.append(Self.fold(byte, foldsCase)) }
            table.slots[slot] = Int32(truncatingIfNeeded: table.count)
        }
    }

    func remember(_ answer: Bool, for bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { remember(answer, for: $0) }
    }
}
