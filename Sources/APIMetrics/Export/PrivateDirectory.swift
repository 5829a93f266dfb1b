#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of this process's user's alone, for the files APIMetrics
/// keeps (the spool's segments, Apitally's instance slots): whoever can
/// write in it could steer what is read from it and written to it.
enum PrivateDirectory {
    /// Creates `path` (0700; missing parents 0755) or opens the one there,
    /// and checks it on the open descriptor, which every later file
    /// operation goes through: a real directory, not a link, owned by this
    /// process's user and writable by no one else. Read bits for others are
    /// taken away. Returns the descriptor.
    ///
    /// - Parameters:
    ///   - field: the setting named in errors, such as `spool.directory`.
    ///   - purpose: what it holds, for the advice in errors (`the spool`).
    static func opened(_ path: String, field: String, purpose: String) throws(ConfigurationError) -> Int32 {
        guard !path.isEmpty else { throw ConfigurationError(field: field, reason: "must not be empty") }
        var prefix = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            let mode: mode_t = index == components.count - 1 ? 0o700 : 0o755
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw ConfigurationError(field: field, reason: "cannot create \(prefix): \(errorText(errno))")
            }
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            var info = stat()
            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                throw ConfigurationError(
                    field: field, reason: "\(path) is a symbolic link; give \(purpose) a directory of its own")
            }
            if code == ENOTDIR {
                throw ConfigurationError(field: field, reason: "\(path) is not a directory")
            }
            throw ConfigurationError(field: field, reason: "cannot open \(path): \(errorText(code))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let text = errorText(errno)
            _ = close(descriptor)
            throw ConfigurationError(field: field, reason: "cannot read \(path)'s status: \(text)")
        }
        guard info.st_uid == geteuid() else {
            _ = close(descriptor)
            throw ConfigurationError(
                field: field,
                reason:
                    "\(path) belongs to user \(info.st_uid), not to this process's user \(geteuid()); give \(purpose) a directory of its own"
            )
        }
        guard info.st_mode & 0o022 == 0 else {
            _ = close(descriptor)
            throw ConfigurationError(
                field: field,
                reason: "\(path) is writable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); make it 0700")
        }
        if info.st_mode & 0o077 != 0 {
            // What is kept there (redacted bodies, instance ids) is still for this user's eyes only.
            _ = fchmod(descriptor, 0o700)
        }
        return descriptor
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
