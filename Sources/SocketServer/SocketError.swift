#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket call that failed, with its errno text.
public struct SocketError: Error, CustomStringConvertible {
    /// What was attempted and why it failed.
    public let description: String

    init(_ operation: String, _ code: Int32) {
        description = "\(operation): \(String(cString: strerror(code)))"
    }
}
