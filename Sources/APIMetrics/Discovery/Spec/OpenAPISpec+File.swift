#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension OpenAPISpec {
    /// Reads and compiles the document at `path` (a regular file of at most ``maxBytes``).
    static func load(path: String) throws(LoadError) -> OpenAPISpec {
        try load(readFile(path))
    }

    /// The bytes of a regular file, at most ``maxBytes`` of them.
    static func readFile(_ path: String) throws(LoadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw LoadError(reason: "cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var information = stat()
        guard fstat(descriptor, &information) == 0 else {
            throw LoadError(reason: "cannot read it: \(String(cString: strerror(errno)))")
        }
        guard (information.st_mode & S_IFMT) == S_IFREG else { throw LoadError(reason: "it is not a regular file") }
        guard Int(information.st_size) <= maxBytes else {
            throw LoadError(reason: "it has \(information.st_size) bytes; at most \(maxBytes) are read")
        }
        var bytes = [UInt8](repeating: 0, count: Int(information.st_size) + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress.map { $0 + filled }, buffer.count - filled)
            }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw LoadError(reason: "cannot read it: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            filled += count
        }
        // One byte past the size it had: a file that grew while read is refused rather than cut.
        guard filled <= maxBytes, filled < bytes.count else {
            throw LoadError(reason: "it grew past \(maxBytes) bytes while read")
        }
        return Array(bytes[..<filled])
    }
}
