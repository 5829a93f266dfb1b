#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Apitally's instance UUID, kept in a file so that a restarted process
/// keeps it, as Apitally's SDKs keep it (`apitally/client/instance.py`):
/// in `$TMPDIR/apitally`, slot files `instance_{hash}_{slot}.lock` (the hash
/// is the first 8 hex digits of SHA-256 of `client_id:env`), each held by
/// one process with an exclusive `flock`, so that workers on one host get
/// one UUID each and a restart takes its slot's UUID again. A slot file not
/// held and older than 24 hours, or not holding a UUID, is removed first;
/// the holder refreshes its file's modification time when it takes it and
/// at each sync (``touch()``), so the age counts from the last use.
///
/// The directory must be ours alone (created 0700; a link, another user's
/// directory, or one others can write is refused), and the slot files are
/// opened relative to it, never through a link.
final class ApitallyInstanceFile: Sendable {
    /// The UUID this process holds.
    let uuid: String
    /// The slot file's descriptor, held open (and locked) while the process runs.
    private let descriptor: Int32

    static let maxSlots = 100
    static let maxAgeSeconds = 24 * 60 * 60

    private init(uuid: String, descriptor: Int32) {
        self.uuid = uuid
        self.descriptor = descriptor
    }

    deinit { Self.closeDescriptor(descriptor) }

    /// `$TMPDIR/apitally` (`/tmp/apitally` without `TMPDIR`), the SDKs' place.
    static func defaultDirectory() -> String {
        var base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return base + "/apitally"
    }

    /// Takes a free slot in `directory` and its UUID (a new one written
    /// when the slot holds none).
    ///
    /// - Throws: ``ConfigurationError`` naming `field` when the directory
    ///   cannot be used or all ``maxSlots`` slots are held.
    static func acquire(
        directory: String, clientID: String, environment: String, field: String
    ) throws(ConfigurationError) -> ApitallyInstanceFile {
        let directoryDescriptor = try PrivateDirectory.opened(directory, field: field, purpose: "the instance files")
        defer { closeDescriptor(directoryDescriptor) }
        let digest = SHA256.hash(Array("\(clientID):\(environment)".utf8))
        let hash = String(
            digest.prefix(4).map { byte in
                let text = String(byte, radix: 16)
                return byte < 16 ? "0" + text : text
            }.joined())
        removeStale(in: directoryDescriptor, prefix: "instance_\(hash)_")
        for slot in 0..<maxSlots {
            let name = "instance_\(hash)_\(slot).lock"
            let descriptor = openat(directoryDescriptor, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else {
                if errno == ELOOP {
                    throw ConfigurationError(field: field, reason: "\(directory)/\(name) is a symbolic link")
                }
                continue
            }
            guard DiskSpool.isOurs(descriptor), flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                closeDescriptor(descriptor)
                continue
            }
            if let uuid = readUUID(descriptor) {
                let file = ApitallyInstanceFile(uuid: uuid, descriptor: descriptor)
                file.touch()
                return file
            }
            let uuid = ApitallyExporter.randomUUID()
            let bytes = Array(uuid.utf8)
            let written =
                ftruncate(descriptor, 0) == 0 ? bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } : -1
            guard written == bytes.count else {
                let reason = String(cString: strerror(errno))
                closeDescriptor(descriptor)
                throw ConfigurationError(field: field, reason: "cannot write \(directory)/\(name): \(reason)")
            }
            return ApitallyInstanceFile(uuid: uuid, descriptor: descriptor)
        }
        throw ConfigurationError(
            field: field, reason: "all \(maxSlots) instance slots in \(directory) are held by other processes")
    }

    /// Sets the slot file's modification time to now: the age the stale
    /// rule reads is then the time since a process last used the slot, not
    /// since its UUID was made (a kept UUID is never written again).
    func touch() {
        _ = futimens(descriptor, nil)
    }

    /// The UUID in a slot file, lower-cased, if it holds one.
    private static func readUUID(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count].filter { $0 != 0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return isUUID(text) ? text : nil
    }

    /// 8-4-4-4-12 hex digits.
    static func isUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12]
            && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) && $0.allSatisfy(\.isASCII) }
    }

    /// Removes this client's slot files no process holds that are older
    /// than ``maxAgeSeconds`` or hold no UUID, or the UUID of another.
    private static func removeStale(in directory: Int32, prefix: String) {
        let copy = dup(directory)
        guard copy >= 0, let handle = fdopendir(copy) else {
            closeDescriptor(copy)
            return
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle), names.count < maxSlots * 4 {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(prefix) && name.hasSuffix(".lock") { names.append(name) }
        }
        var seen: Set<String> = []
        let now = time(nil)
        for name in names.sorted() {
            let descriptor = openat(directory, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard descriptor >= 0 else { continue }
            defer { closeDescriptor(descriptor) }
            guard DiskSpool.isOurs(descriptor), flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { continue }
            let uuid = readUUID(descriptor)
            let isOld = Int(now) - Int(info.st_mtime_seconds) > maxAgeSeconds
            if isOld || uuid == nil || seen.contains(uuid ?? "") {
                _ = unlinkat(directory, name, 0)
            } else if let uuid {
                seen.insert(uuid)
            }
        }
    }

    private static func closeDescriptor(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        #if canImport(Darwin)
        _ = Darwin.close(descriptor)
        #elseif canImport(Musl)
        _ = Musl.close(descriptor)
        #else
        _ = Glibc.close(descriptor)
        #endif
    }
}

private extension stat {
    /// The modification time's seconds, on Linux and Darwin alike.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var st_mtime_seconds: Int {
        #if canImport(Darwin)
        Int(st_mtimespec.tv_sec)
        #else
        Int(st_mtim.tv_sec)
        #endif
    }
}
