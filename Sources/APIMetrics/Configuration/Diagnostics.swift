#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where APIMetrics reports its own troubles (a collector refusing batches,
/// a file it cannot write, an identify closure that throws) and, once at
/// start, where calls go and where the view is.
///
/// By default, the start line and warnings and errors go to standard error
/// (``standardError``); route them to your logger with
/// ``custom(minimumLevel:_:)``, or silence them with ``silent``
/// (`APIMETRICS_LOG_LEVEL=off`).
///
/// ```swift
/// config.diagnostics = .custom(minimumLevel: .info) { message in logger.info("\(message)") }
/// ```
public struct Diagnostics: Sendable {
    /// How serious a diagnostic message is.
    public struct Level: Sendable, Hashable, Comparable, CustomStringConvertible {
        private let rank: Int
        private let name: String

        /// Detail useful while setting things up.
        public static let debug = Level(rank: 0, name: "debug")
        /// What a person starting the server wants to read once: where calls
        /// go, where the view is.
        public static let info = Level(rank: 1, name: "info")
        /// Something went wrong and was handled, such as a retried batch, or
        /// something is on without protection.
        public static let warning = Level(rank: 2, name: "warning")
        /// Something was lost, such as a batch given up.
        public static let error = Level(rank: 3, name: "error")

        /// The level's name.
        public var description: String { name }

        /// Orders levels by seriousness.
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    /// One diagnostic message.
    public struct Message: Sendable, CustomStringConvertible {
        /// How serious it is.
        public var level: Level
        /// What happened.
        public var text: String

        /// `apimetrics LEVEL: TEXT`.
        public var description: String { "apimetrics \(level): \(text)" }
    }

    private let handler: (@Sendable (Message) -> Void)?
    private let minimumLevel: Level

    /// Says nothing.
    public static let silent = Diagnostics(handler: nil, minimumLevel: .error)

    /// Writes the start line, warnings and errors to standard error, one
    /// line each: the default.
    public static let standardError = Diagnostics.standardError(minimumLevel: .info)

    /// Writes messages at `minimumLevel` or above to standard error.
    public static func standardError(minimumLevel: Level) -> Diagnostics {
        Diagnostics(
            handler: { message in
                let line = Array("\(message)\n".utf8)
                line.withUnsafeBytes { buffer in
                    _ = write(2, buffer.baseAddress, buffer.count)
                }
            }, minimumLevel: minimumLevel)
    }

    /// Hands every message at `minimumLevel` or above to `handler`.
    public static func custom(minimumLevel: Level = .debug, _ handler: @escaping @Sendable (Message) -> Void) -> Diagnostics {
        Diagnostics(handler: handler, minimumLevel: minimumLevel)
    }

    /// The same, with the configuration's secrets replaced in every message.
    func scrubbing(_ secrets: ConfiguredSecrets) -> Diagnostics {
        guard let handler else { return self }
        return Diagnostics(
            handler: { message in
                handler(Message(level: message.level, text: secrets.scrub(message.text)))
            }, minimumLevel: minimumLevel)
    }

    func log(_ level: Level, _ text: @autoclosure () -> String) {
        guard let handler, level >= minimumLevel else { return }
        handler(Message(level: level, text: text()))
    }
}
