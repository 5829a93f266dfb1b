#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Batches kept on disk until their exporter takes them: segment files of
/// checksummed records (``SpoolRecord``) in one directory, bounded in
/// bytes, oldest first, surviving a crash or `kill -9`.
///
/// Each record is one batch for one exporter. A record is acknowledged when
/// that exporter took it; acknowledgements are appended to a small file per
/// segment (`.acked`), so that a restart does not send them again, and a
/// segment is deleted once every record in it was acknowledged. The
/// directory is locked (`flock`) for as long as the spool is open: a second
/// process pointed at it is refused at startup.
final class DiskSpool: Sendable {
    /// A spooled batch: where it lies, for whom, how many events and alert transitions.
    struct Entry: Sendable, Hashable {
        var segment: UInt64
        var offset: Int
        var length: Int
        var exporterName: String
        var events: Int
        var alerts: Int = 0
    }

    /// What became of an append.
    struct AppendOutcome: Sendable {
        /// Whether the batch is on disk now.
        var isSpooled: Bool
        /// Events of older segments deleted to make room.
        var evictedEvents: Int
        /// Alert transitions of older segments deleted to make room.
        var evictedAlerts = 0
    }

    /// Totals for statistics.
    struct Counts: Sendable, Hashable {
        var pendingEvents = 0
        var pendingBatches = 0
        var bytes = 0
        /// Records skipped as torn or corrupted, since this spool opened.
        var corruptRecords = 0
    }

    private struct Segment {
        var number: UInt64
        var size: Int
        var entries: [Entry]
        var acked: Set<Int> = []

        var isDone: Bool { entries.allSatisfy { acked.contains($0.offset) } }
        var pendingEvents: Int { entries.reduce(0) { $0 + (acked.contains($1.offset) ? 0 : $1.events) } }
        var pendingAlerts: Int { entries.reduce(0) { $0 + (acked.contains($1.offset) ? 0 : $1.alerts) } }
    }

    private struct State {
        var segments: [Segment] = []
        var activeDescriptor: Int32 = -1
        var lastSync: Int64 = 0
        var isDirty = false
        var corruptRecords = 0
        var isClosed = false
    }

    let directory: String
    let maxBytes: Int
    let segmentBytes: Int
    private let syncNanoseconds: Int64
    private let lockDescriptor: Int32
    /// The directory, opened once: every file in it is opened, read and
    /// removed relative to this descriptor, so that renaming the directory
    /// or putting a link in its place after the checks steers nothing.
    private let directoryDescriptor: Int32
    private let state: Mutex<State>

    /// Opens the spool: creates and locks the directory, and reads the
    /// segments a previous process left (skipping and counting what is torn).
    ///
    /// - Throws: ``ConfigurationError`` naming `field` when the directory
    ///   cannot be created or is in use by another process.
    init(options: SpoolOptions, field: String = "spool") throws(ConfigurationError) {
        guard let directory = options.directory else {
            throw ConfigurationError(field: "\(field).directory", reason: "must be set for a spool")
        }
        self.directory = directory
        self.maxBytes = options.maxBytes
        self.segmentBytes = min(16 << 20, max(16 << 10, options.maxBytes / 8))
        self.syncNanoseconds = options.syncInterval.nanosecondsClamped
        let directoryDescriptor = try PrivateDirectory.opened(directory, field: "\(field).directory", purpose: "the spool")
        let lockPath = directory + "/lock"
        let descriptor = openat(directoryDescriptor, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "is a symbolic link" : Self.errorText()
            closeDescriptor(directoryDescriptor)
            throw ConfigurationError(field: "\(field).directory", reason: "cannot open \(lockPath): \(reason)")
        }
        guard Self.isOurs(descriptor) else {
            closeDescriptor(descriptor)
            closeDescriptor(directoryDescriptor)
            throw ConfigurationError(
                field: "\(field).directory", reason: "\(lockPath) is not a regular file of this process's user")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readAll(descriptor).flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").first }
            closeDescriptor(descriptor)
            closeDescriptor(directoryDescriptor)
            throw ConfigurationError(
                field: "\(field).directory",
                reason:
                    "\(directory) is in use by another process\(holder.map { " (pid \($0))" } ?? ""); give each process a spool directory of its own"
            )
        }
        _ = ftruncate(descriptor, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.lockDescriptor = descriptor
        self.directoryDescriptor = directoryDescriptor
        var initial = State()
        initial.segments = Self.loadSegments(in: directoryDescriptor, corrupt: &initial.corruptRecords)
        self.state = Mutex(initial)
    }

    deinit {
        close()
        closeDescriptor(lockDescriptor)
        closeDescriptor(directoryDescriptor)
    }

    // MARK: - Reading

    /// The oldest batch not yet taken by `exporterName`, if any.
    func oldest(for exporterName: String) -> Entry? {
        state.withLock { state in
            for segment in state.segments {
                for entry in segment.entries where entry.exporterName == exporterName && !segment.acked.contains(entry.offset) {
                    return entry
                }
            }
            return nil
        }
    }

    /// Whether any batch waits for `exporterName`.
    func hasPending(for exporterName: String) -> Bool {
        oldest(for: exporterName) != nil
    }

    /// Reads a spooled batch back; `nil` when its bytes no longer read as
    /// one (the entry is then acknowledged, counted as corrupt).
    func read(_ entry: Entry) -> UndeliveredBatch? {
        let descriptor = Self.openFile(Self.segmentName(entry.segment), in: directoryDescriptor, O_RDONLY)
        var bytes = [UInt8](repeating: 0, count: entry.length)
        var readCount = -1
        if descriptor >= 0 {
            readCount = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, entry.length, off_t(entry.offset)) }
            closeDescriptor(descriptor)
        }
        if readCount == entry.length, let (payload, _) = SpoolRecord.record(in: bytes, at: 0),
            let batch = try? UndeliveredBatch(serialized: Array(payload))
        {
            return batch
        }
        state.withLock { $0.corruptRecords += 1 }
        acknowledge(entry)
        return nil
    }

    // MARK: - Writing

    /// Appends one batch as one record, deleting the oldest segments first
    /// when it would not fit.
    func append(_ batch: UndeliveredBatch) -> AppendOutcome {
        let payload = batch.serialized()
        let record = SpoolRecord.encode(payload)
        return state.withLock { state -> AppendOutcome in
            guard !state.isClosed, record.count + SpoolRecord.fileHeader.count <= maxBytes else {
                return AppendOutcome(isSpooled: false, evictedEvents: 0)
            }
            var evicted = AppendOutcome(isSpooled: false, evictedEvents: 0)
            while Self.totalBytes(state) + record.count > maxBytes, let oldest = state.segments.first {
                evicted.evictedEvents += oldest.pendingEvents
                evicted.evictedAlerts += oldest.pendingAlerts
                removeSegment(at: 0, in: &state)
            }
            if state.activeDescriptor < 0 || (state.segments.last?.size ?? 0) + record.count > segmentBytes {
                guard openNewSegment(in: &state) else { return evicted }
            }
            guard let last = state.segments.indices.last else { return evicted }
            let offset = state.segments[last].size
            guard Self.writeAll(state.activeDescriptor, record) else {
                // A short write (a full disk) leaves a torn record that readers skip.
                _ = ftruncate(state.activeDescriptor, off_t(offset))
                return evicted
            }
            // In place: a copy of the segment would share its entries, and
            // the append would copy every one of them.
            state.segments[last].size += record.count
            state.segments[last].entries.append(
                Entry(
                    segment: state.segments[last].number, offset: offset, length: record.count,
                    exporterName: batch.exporterName, events: batch.count, alerts: batch.alerts.count))
            state.isDirty = true
            syncIfDue(&state)
            evicted.isSpooled = true
            return evicted
        }
    }

    /// Marks a batch as taken; deletes its segment once all of it was.
    func acknowledge(_ entry: Entry) {
        state.withLock { state in
            guard let index = state.segments.firstIndex(where: { $0.number == entry.segment }) else { return }
            guard state.segments[index].acked.insert(entry.offset).inserted else { return }
            let isActive = index == state.segments.count - 1 && state.activeDescriptor >= 0
            if state.segments[index].isDone && !isActive {
                removeSegment(at: index, in: &state)
                return
            }
            if state.segments[index].isDone && isActive {
                // The active segment, all taken: close it, and the next append opens another.
                closeDescriptor(state.activeDescriptor)
                state.activeDescriptor = -1
                removeSegment(at: index, in: &state)
                return
            }
            var word = [UInt8]()
            for shift in stride(from: 0, to: 64, by: 8) {
                word.append(UInt8(truncatingIfNeeded: UInt64(entry.offset) >> UInt64(shift)))
            }
            let descriptor = Self.openFile(
                Self.segmentName(entry.segment) + ".acked", in: directoryDescriptor, O_WRONLY | O_CREAT | O_APPEND)
            if descriptor >= 0 {
                _ = Self.writeAll(descriptor, word)
                closeDescriptor(descriptor)
            }
        }
    }

    /// Forces what was appended to the disk when the interval has passed.
    func syncIfDue() {
        state.withLock { syncIfDue(&$0) }
    }

    /// Forces everything to the disk and closes the active segment.
    func close() {
        state.withLock { state in
            guard !state.isClosed else { return }
            if state.activeDescriptor >= 0 {
                _ = fsync(state.activeDescriptor)
                closeDescriptor(state.activeDescriptor)
                state.activeDescriptor = -1
            }
            state.isClosed = true
        }
    }

    /// Pending events and batches, bytes on disk, records skipped.
    var counts: Counts {
        state.withLock { state in
            var counts = Counts()
            for segment in state.segments {
                counts.bytes += segment.size
                counts.pendingEvents += segment.pendingEvents
                counts.pendingBatches += segment.entries.count - segment.acked.count
            }
            counts.corruptRecords = state.corruptRecords
            return counts
        }
    }

    // MARK: - Segments

    private func syncIfDue(_ state: inout State) {
        guard state.isDirty, state.activeDescriptor >= 0 else { return }
        let now = CaptureClock.monotonicNanoseconds()
        guard now - state.lastSync >= syncNanoseconds else { return }
        _ = fsync(state.activeDescriptor)
        state.lastSync = now
        state.isDirty = false
    }

    private func openNewSegment(in state: inout State) -> Bool {
        if state.activeDescriptor >= 0 {
            _ = fsync(state.activeDescriptor)
            closeDescriptor(state.activeDescriptor)
            state.activeDescriptor = -1
            // A finished segment whose every record was already taken goes now.
            if let last = state.segments.last, last.isDone { removeSegment(at: state.segments.count - 1, in: &state) }
        }
        let number = (state.segments.map(\.number).max() ?? Self.highestSegmentNumber(in: directoryDescriptor)) + 1
        let name = Self.segmentName(number)
        // A new name, never an existing file or a link.
        let descriptor = Self.openFile(name, in: directoryDescriptor, O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        guard descriptor >= 0 else { return false }
        guard Self.writeAll(descriptor, SpoolRecord.fileHeader) else {
            closeDescriptor(descriptor)
            unlinkat(directoryDescriptor, name, 0)
            return false
        }
        state.activeDescriptor = descriptor
        state.segments.append(Segment(number: number, size: SpoolRecord.fileHeader.count, entries: []))
        return true
    }

    private func removeSegment(at index: Int, in state: inout State) {
        let number = state.segments[index].number
        if index == state.segments.count - 1, state.activeDescriptor >= 0 {
            closeDescriptor(state.activeDescriptor)
            state.activeDescriptor = -1
        }
        unlinkat(directoryDescriptor, Self.segmentName(number), 0)
        unlinkat(directoryDescriptor, Self.segmentName(number) + ".acked", 0)
        state.segments.remove(at: index)
    }

    private static func totalBytes(_ state: State) -> Int {
        state.segments.reduce(0) { $0 + $1.size }
    }

    static func segmentPath(_ directory: String, _ number: UInt64) -> String {
        "\(directory)/\(segmentName(number))"
    }

    static func segmentName(_ number: UInt64) -> String {
        let hex = String(number, radix: 16)
        return "segment-\(String(repeating: "0", count: max(0, 16 - hex.count)))\(hex).spool"
    }

    /// Opens a file of the directory, never through a link, created 0600;
    /// one that is not a regular file of this process's user is refused.
    static func openFile(_ name: String, in directory: Int32, _ flags: Int32) -> Int32 {
        let descriptor = openat(directory, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else { return -1 }
        guard isOurs(descriptor) else {
            closeDescriptor(descriptor)
            return -1
        }
        return descriptor
    }

    /// Whether an open file is a regular file of this process's user.
    static func isOurs(_ descriptor: Int32) -> Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_uid == geteuid()
    }

    /// The segment numbers in the directory, ascending.
    static func segmentNumbers(in directory: Int32) -> [UInt64] {
        let copy = dup(directory)
        guard copy >= 0, let handle = fdopendir(copy) else {
            closeDescriptor(copy)
            return []
        }
        defer { closedir(handle) }
        rewinddir(handle)
        var numbers: [UInt64] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix("segment-"), name.hasSuffix(".spool") else { continue }
            let digits = name.dropFirst("segment-".count).dropLast(".spool".count)
            if digits.count == 16, let number = UInt64(digits, radix: 16) { numbers.append(number) }
        }
        return numbers.sorted()
    }

    private static func highestSegmentNumber(in directory: Int32) -> UInt64 {
        segmentNumbers(in: directory).last ?? 0
    }

    /// Reads every segment: its intact records, the ones already taken.
    private static func loadSegments(in directory: Int32, corrupt: inout Int) -> [Segment] {
        var segments: [Segment] = []
        for number in segmentNumbers(in: directory) {
            let name = segmentName(number)
            let descriptor = openFile(name, in: directory, O_RDONLY)
            guard descriptor >= 0 else { continue }
            let bytes = readAll(descriptor) ?? []
            closeDescriptor(descriptor)
            let scan = SpoolRecord.scan(bytes)
            corrupt += scan.skipped
            var segment = Segment(number: number, size: bytes.count, entries: [])
            for (offset, payload) in scan.records {
                guard let batch = try? UndeliveredBatch(serialized: Array(payload)) else {
                    corrupt += 1
                    continue
                }
                segment.entries.append(
                    Entry(
                        segment: number, offset: offset, length: SpoolRecord.headerSize + payload.count,
                        exporterName: batch.exporterName, events: batch.count, alerts: batch.alerts.count))
            }
            let ackDescriptor = openFile(name + ".acked", in: directory, O_RDONLY)
            if ackDescriptor >= 0 {
                let acks = readAll(ackDescriptor) ?? []
                closeDescriptor(ackDescriptor)
                var position = 0
                while position + 8 <= acks.count {
                    var offset: UInt64 = 0
                    for index in 0..<8 { offset |= UInt64(acks[position + index]) << UInt64(8 * index) }
                    segment.acked.insert(Int(truncatingIfNeeded: offset))
                    position += 8
                }
            }
            // Nothing left to send from it: gone.
            if segment.isDone {
                unlinkat(directory, name, 0)
                unlinkat(directory, name + ".acked", 0)
                continue
            }
            segments.append(segment)
        }
        return segments
    }

    // MARK: - POSIX

    static func readAll(_ descriptor: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 { return nil }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
        }
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        POSIXWrite.all(bytes, to: descriptor) == 0
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

/// `close(2)`, named apart from ``DiskSpool/close()``.
@inline(__always)
private func closeDescriptor(_ descriptor: Int32) {
    guard descriptor >= 0 else { return }
    #if canImport(Glibc)
    _ = Glibc.close(descriptor)
    #elseif canImport(Musl)
    _ = Musl.close(descriptor)
    #elseif canImport(Darwin)
    _ = Darwin.close(descriptor)
    #endif
}
