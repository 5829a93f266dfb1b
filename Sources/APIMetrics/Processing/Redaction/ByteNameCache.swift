import Synchronization

/// Remembered answers keyed by a name's bytes, ignoring ASCII case: an
/// open-addressing table over FNV-1a hashes of the lowercased bytes, bounded
/// at 1,024 names (past that it starts over).
final class ByteNameCache: Sendable {
    private struct Table {
        static let slotCount = 2048
        static let maxEntries = 1024
        /// Index into `entries` plus one; 0 is an empty slot.
        var slots = [Int32](repeating: 0, count: slotCount)
        var entries: [(hash: UInt64, name: [UInt8], answer: Bool)] = []
    }

    private let table = Mutex(Table())
    /// Whether names differing only in ASCII case share an answer; not when
    /// a matcher splits names into words at their case changes.
    let foldsCase: Bool

    init(foldsCase: Bool = true) {
        self.foldsCase = foldsCase
    }

    @inline(__always)
    private func fold(_ byte: UInt8) -> UInt8 {
        foldsCase ? ASCII.lowercased(byte) : byte
    }

    private func hash(_ bytes: some Collection<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(fold(byte))) &* 0x0100_0000_01b3
        }
        return hash
    }

    private func equal(_ stored: [UInt8], _ bytes: some Collection<UInt8>) -> Bool {
        guard stored.count == bytes.count else { return false }
        for (byte, other) in zip(stored, bytes) where byte != fold(other) { return false }
        return true
    }

    func answer(for bytes: some Collection<UInt8>) -> Bool? {
        let hash = self.hash(bytes)
        return table.withLock { table -> Bool? in
            var slot = Int(truncatingIfNeeded: hash) & (Table.slotCount - 1)
            while true {
                let entry = Int(table.slots[slot])
                if entry == 0 { return nil }
                let candidate = table.entries[entry - 1]
                if candidate.hash == hash && equal(candidate.name, bytes) { return candidate.answer }
                slot = (slot + 1) & (Table.slotCount - 1)
            }
        }
    }

    func remember(_ answer: Bool, for bytes: some Collection<UInt8>) {
        let hash = self.hash(bytes)
        let lowered = bytes.map(fold)
        table.withLock { table in
            if table.entries.count >= Table.maxEntries {
                table = Table()
            }
            var slot = Int(truncatingIfNeeded: hash) & (Table.slotCount - 1)
            while table.slots[slot] != 0 {
                let existing = table.entries[Int(table.slots[slot]) - 1]
                if existing.hash == hash && existing.name == lowered { return }
                slot = (slot + 1) & (Table.slotCount - 1)
            }
            table.entries.append((hash, lowered, answer))
            table.slots[slot] = Int32(table.entries.count)
        }
    }
}
