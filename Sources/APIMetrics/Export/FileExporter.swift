#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Appends events to a local NDJSON file, one schema-v1 event (or profile
/// update, which carries a `kind`) per line,
/// rotating it by size: `events.ndjson` becomes `events.ndjson.1`, and so on,
/// keeping ``Rotation-swift.struct/maxFiles`` old files.
public final class FileExporter: EventExporter {
    /// When the file is rotated.
    public struct Rotation: Sendable, Hashable {
        /// The size at which the file is rotated before the next write.
        public var maxBytes: Int
        /// How many rotated files are kept besides the current one.
        public var maxFiles: Int

        /// Creates a rotation rule.
        public init(maxBytes: Int = 100 * 1024 * 1024, maxFiles: Int = 5) {
            self.maxBytes = maxBytes
            self.maxFiles = maxFiles
        }

        /// 100 MiB, five old files.
        public static let `default` = Rotation()

        /// Never rotate.
        public static let never = Rotation(maxBytes: .max, maxFiles: 0)
    }

    /// The file's path.
    public let path: String
    /// The rotation rule.
    public let rotation: Rotation

    private let state: Mutex<State>

    private struct State {
        var descriptor: Int32
        var size: Int
    }

    /// Opens (creating if needed) the file for appending.
    ///
    /// - Throws: ``ConfigurationError`` naming `path` when it cannot be opened.
    public init(path: String, rotation: Rotation = .default) throws(ConfigurationError) {
        self.path = path
        self.rotation = rotation
        let (descriptor, size) = try Self.openFile(path)
        self.state = Mutex(State(descriptor: descriptor, size: size))
    }

    deinit {
        state.withLock { state in
            if state.descriptor >= 0 { close(state.descriptor) }
        }
    }

    /// `file(PATH)`.
    public var name: String { "file(\(path))" }

    /// The schema-v1 lines.
    public var encodings: ExportEncodings { .schemaV1JSON }

    /// Appends the batch's events, one line each, rotating first when due.
    public func export(_ batch: ExportBatch) async throws {
        guard batch.count > 0 || batch.hasMetrics else { return }
        var buffer = [UInt8]()
        let lines = batch.count > 0 ? batch.schemaV1Lines : SchemaV1Lines(events: [], entities: [])
        buffer.reserveCapacity(lines.byteCount + lines.events.count + lines.entities.count)
        for line in lines.events {
            buffer.append(contentsOf: line)
            buffer.append(UInt8(ascii: "\n"))
        }
        for line in lines.entities {
            buffer.append(contentsOf: line)
            buffer.append(UInt8(ascii: "\n"))
        }
        for line in batch.metricsLines {
            buffer.append(contentsOf: line)
            buffer.append(UInt8(ascii: "\n"))
        }
        try state.withLock { state throws(ExportError) in
            if state.descriptor < 0 {
                switch Self.reopen(path) {
                case let .success(opened): (state.descriptor, state.size) = opened
                case let .failure(error): throw ExportError.retryable("cannot open \(path): \(error.reason)")
                }
            }
            if state.size > 0, state.size + buffer.count > rotation.maxBytes {
                try rotate(&state)
            }
            try Self.writeAll(buffer, to: state.descriptor, path: path)
            state.size += buffer.count
        }
    }

    /// Closes the file.
    public func shutdown() async {
        state.withLock { state in
            if state.descriptor >= 0 {
                fsync(state.descriptor)
                close(state.descriptor)
                state.descriptor = -1
            }
        }
    }

    private func rotate(_ state: inout State) throws(ExportError) {
        close(state.descriptor)
        state.descriptor = -1
        if rotation.maxFiles <= 0 {
            unlink(path)
        } else {
            unlink("\(path).\(rotation.maxFiles)")
            var index = rotation.maxFiles - 1
            while index >= 1 {
                rename("\(path).\(index)", "\(path).\(index + 1)")
                index -= 1
            }
            rename(path, "\(path).1")
        }
        switch Self.reopen(path) {
        case let .success(opened): (state.descriptor, state.size) = opened
        case let .failure(error): throw ExportError.retryable("cannot reopen \(path) after rotation: \(error.reason)")
        }
    }

    private static func reopen(_ path: String) -> Result<(Int32, Int), ConfigurationError> {
        do {
            return .success(try openFile(path))
        } catch {
            return .failure(error)
        }
    }

    private static func openFile(_ path: String) throws(ConfigurationError) -> (Int32, Int) {
        guard !path.isEmpty else {
            throw ConfigurationError(field: "path", reason: "must not be empty")
        }
        // Never through a link (another user may plant one where the file
        // will be), created readable by this user only; O_NONBLOCK so that
        // a FIFO in its place fails instead of blocking (no effect on a
        // regular file).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            let reason =
                code == ELOOP
                ? "is a symbolic link; the event file is never written through one" : String(cString: strerror(code))
            throw ConfigurationError(field: "path", reason: "cannot open \(path) for appending: \(reason)")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            close(descriptor)
            throw ConfigurationError(field: "path", reason: "cannot read \(path)'s status: \(String(cString: strerror(code)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw ConfigurationError(field: "path", reason: "\(path) is not a regular file")
        }
        guard info.st_uid == geteuid() else {
            close(descriptor)
            throw ConfigurationError(
                field: "path", reason: "\(path) belongs to user \(info.st_uid), not to this process's user \(geteuid())")
        }
        return (descriptor, Int(info.st_size))
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(ExportError) {
        let failure = POSIXWrite.all(bytes, to: descriptor)
        if failure != 0 {
            throw ExportError.retryable("cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}
