/// Sent once per start: what is running, where, and which routes it serves.
public struct StartupRecord: Sendable, Hashable {
    /// When recording started, in nanoseconds since the Unix epoch.
    public var startedAtNanoseconds: Int64
    /// The routes declared in ``MetricsOptions/routes`` and those the
    /// server had named by the time this was sent, as `METHOD route`
    /// when the method is known.
    public var routes: [String]
    /// The Swift compiler the library was built with, such as `6.3`.
    public var swiftVersion: String
    /// This library's version.
    public var libraryVersion: String
    /// The operating system, such as `Linux`.
    public var platform: String

    /// Creates a startup record.
    ///
    /// - Parameters:
    ///   - startedAtNanoseconds: when recording started, in nanoseconds since
    ///     the Unix epoch.
    ///   - routes: the routes served, as `METHOD route` when the method is
    ///     known.
    ///   - swiftVersion: the Swift compiler the library was built with, such
    ///     as `6.3`.
    ///   - libraryVersion: this library's version.
    ///   - platform: the operating system, such as `Linux`.
    public init(startedAtNanoseconds: Int64, routes: [String], swiftVersion: String, libraryVersion: String, platform: String) {
        self.startedAtNanoseconds = startedAtNanoseconds
        self.routes = routes
        self.swiftVersion = swiftVersion
        self.libraryVersion = libraryVersion
        self.platform = platform
    }

    /// The compiler this library was built with.
    static var compilerVersion: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }

    /// The operating system this library was built for.
    static var platformName: String {
        #if os(Linux)
        "Linux"
        #elseif os(macOS)
        "macOS"
        #elseif os(iOS)
        "iOS"
        #elseif os(Windows)
        "Windows"
        #else
        "other"
        #endif
    }
}
