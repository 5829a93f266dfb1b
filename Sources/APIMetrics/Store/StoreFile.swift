#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The store's file on disk before SQLite opens it: ours alone, and an
/// APIMetrics store (or nothing yet).
enum StoreFile {
    /// The first 16 bytes of every SQLite 3 file.
    static let header: [UInt8] = Array("SQLite format 3\0".utf8)

    /// Checks `path` and creates it (0600, never through a link) when
    /// missing: its directory is writable by this user alone (SQLite creates
    /// `-wal` and `-shm` files there), and a file already there is a regular
    /// file of this user's that is empty or an APIMetrics store.
    static func check(_ path: String, field: String) throws(ConfigurationError) {
        let directory = Self.directory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw ConfigurationError(field: field, reason: "cannot use the directory \(directory): \(errorText(errno))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ConfigurationError(field: field, reason: "\(directory) is not a directory")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw ConfigurationError(
                field: field,
                reason: "\(directory) is writable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "the store and its -wal and -shm files need a directory of this user's alone")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == ELOOP {
                throw ConfigurationError(
                    field: field, reason: "\(path) is a symbolic link; the store is never opened through one")
            }
            throw ConfigurationError(field: field, reason: "cannot open \(path): \(errorText(code))")
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else {
            throw ConfigurationError(field: field, reason: "cannot read \(path)'s status: \(errorText(errno))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ConfigurationError(field: field, reason: "\(path) is not a regular file")
        }
        guard info.st_uid == geteuid() else {
            throw ConfigurationError(
                field: field, reason: "\(path) belongs to user \(info.st_uid), not to this process's user \(geteuid())")
        }
        if info.st_mode & 0o077 != 0 { _ = fchmod(descriptor, 0o600) }
        guard info.st_size > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: 100)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 100, 0) }
        guard count == 100, Array(bytes[0..<16]) == header else {
            throw ConfigurationError(
                field: field,
                reason: "\(path) is not an APIMetrics store (it is no SQLite file); name another path, or move it away")
        }
        let applicationID = Int32(
            bitPattern: UInt32(bytes[68]) << 24 | UInt32(bytes[69]) << 16 | UInt32(bytes[70]) << 8 | UInt32(bytes[71]))
        guard applicationID == StoreSchema.applicationID || applicationID == 0 else {
            throw ConfigurationError(
                field: field,
                reason: "\(path) is not an APIMetrics store (a SQLite database of another program); name another path")
        }
    }

    /// Opens a descriptor on `path` and takes the writer's lock on it: one
    /// process writes a store at a time. Returns `nil` when another holds
    /// it. The descriptor stays open while the writer's connection is
    /// (closing any descriptor of the file drops SQLite's own locks).
    static func lock(_ path: String) -> Result<Int32, StoreFailure> {
        let descriptor = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(.sqlite(SQLiteError(code: -1, message: "cannot open \(path): \(errorText(errno))")))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            return .failure(
                code == EWOULDBLOCK ? .locked : .sqlite(SQLiteError(code: -1, message: "cannot lock \(path): \(errorText(code))"))
            )
        }
        return .success(descriptor)
    }

    /// Moves a corrupt store and its `-wal` and `-shm` files aside, as
    /// `PATH.corrupt-20261206T150405Z` (with `-1`, `-2`… when that name is
    /// taken), and creates an empty file in its place. Returns the name it
    /// was moved to.
    static func moveAside(_ path: String, nowNanoseconds: Int64) -> String? {
        let stamp =
            Timestamp.rfc3339(nanosecondsSinceEpoch: nowNanoseconds)
            .filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
        // rename replaces what is at the new name: a second corruption in the
        // same second would lose the first file moved aside.
        var aside = "\(path).corrupt-\(stamp)"
        var info = stat()
        var attempt = 0
        while ["", "-wal", "-shm"].contains(where: { lstat(aside + $0, &info) == 0 }) {
            attempt += 1
            guard attempt < 1_000 else { return nil }
            aside = "\(path).corrupt-\(stamp)-\(attempt)"
        }
        guard rename(path, aside) == 0 else { return nil }
        for suffix in ["-wal", "-shm"] { _ = rename(path + suffix, aside + suffix) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
        return aside
    }

    /// The file's size with its write-ahead log, in bytes.
    static func bytesOnDisk(_ path: String) -> Int {
        var total = 0
        var info = stat()
        for name in [path, path + "-wal"] where lstat(name, &info) == 0 {
            total += Int(info.st_size)
        }
        return total
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// Closes a descriptor the store opened.
    static func release(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
