#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's CPU time and resident memory, for the heartbeat.
struct ProcessUsage: Sendable {
    /// User and system CPU time so far, in nanoseconds.
    var cpuNanoseconds: Int64
    /// Resident memory in bytes: the current size on Linux (from
    /// `/proc/self/statm`), the peak elsewhere (`getrusage`).
    var residentBytes: Int?

    static func now() -> ProcessUsage {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return ProcessUsage(cpuNanoseconds: 0, residentBytes: nil) }
        func nanoseconds(_ time: timeval) -> Int64 {
            Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1_000
        }
        let cpu = nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
        #if os(Linux)
        return ProcessUsage(cpuNanoseconds: cpu, residentBytes: linuxResidentBytes())
        #elseif canImport(Darwin)
        return ProcessUsage(cpuNanoseconds: cpu, residentBytes: Int(usage.ru_maxrss))
        #else
        return ProcessUsage(cpuNanoseconds: cpu, residentBytes: nil)
        #endif
    }

    #if os(Linux)
    /// The second field of `/proc/self/statm`: resident pages.
    private static func linuxResidentBytes() -> Int? {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
    #endif
}
