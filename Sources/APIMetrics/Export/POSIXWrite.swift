#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)` until every byte is written, for the file exporter and the spool.
enum POSIXWrite {
    /// Writes all of `bytes`; returns 0, or the `errno` that stopped it
    /// (`EIO` for a write that wrote nothing, such as on a full disk).
    static func all(_ bytes: [UInt8], to descriptor: Int32) -> Int32 {
        bytes.withUnsafeBytes { raw -> Int32 in
            var written = 0
            while written < raw.count {
                let count = write(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if count == 0 { return EIO }
                written += count
            }
            return 0
        }
    }
}
