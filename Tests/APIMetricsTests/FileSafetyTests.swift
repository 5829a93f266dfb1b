import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files APIMetrics writes are its user's alone: made 0600 in 0700
/// directories, never opened through a link another user planted, never in a
/// directory someone else can write.
@Suite("File safety")
struct FileSafetyTests {
    private static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    private static func contents(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file only "root" may read, standing for /etc/shadow.
    private static func victim(in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("victim")
        try "secret lines\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    private static func batch(_ count: Int) -> UndeliveredBatch {
        UndeliveredBatch(
            exporterName: "http(x)", reason: .retriesExhausted, message: "down",
            identity: ServiceIdentity(service: "files", environment: "test"),
            records: (0..<count).map { index in
                ExchangeRecord(
                    id: EventID(high: 1, low: UInt64(index + 1)), direction: .incoming,
                    startTimeNanoseconds: 1_700_000_000_000_000_000, durationNanoseconds: 1000,
                    request: RequestHead(method: "GET", target: "/x"), response: ResponseHead(status: 200))
            },
            abandonedAtNanoseconds: 1)
    }

    @Test func aNewSpoolIsADirectoryOfMode0700WithFilesOf0600() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("spool/nested")
        let spool = try DiskSpool(options: SpoolOptions(directory: path, syncInterval: .zero))
        #expect(spool.append(Self.batch(3)).isSpooled)
        spool.close()
        #expect(Self.mode(path) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(files.contains("lock") && files.count >= 2)
        for file in files { #expect(Self.mode("\(path)/\(file)") == 0o600, "\(file)") }
    }

    @Test func aLockPlantedAsALinkIsNeverFollowed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let victim = try Self.victim(in: directory)
        let path = directory.file("spool")
        mkdir(path, 0o700)
        symlink(victim, "\(path)/lock")
        #expect(throws: ConfigurationError.self) { try DiskSpool(options: SpoolOptions(directory: path)) }
        #expect(Self.contents(victim) == "secret lines\n")
    }

    @Test func aSpoolDirectoryOthersCanWriteOrThatIsALinkIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let open = directory.file("open")
        mkdir(open, 0o700)
        chmod(open, 0o777)
        do {
            _ = try DiskSpool(options: SpoolOptions(directory: open))
            Issue.record("a world-writable spool directory was taken")
        } catch {
            #expect(error.field == "spool.directory" && error.reason.contains("writable by other users"))
        }
        let real = directory.file("real")
        mkdir(real, 0o700)
        let link = directory.file("link")
        symlink(real, link)
        do {
            _ = try DiskSpool(options: SpoolOptions(directory: link))
            Issue.record("a spool directory given as a link was taken")
        } catch {
            #expect(error.reason.contains("symbolic link"))
        }
        // An existing directory of ours readable by others is taken and closed to them.
        let readable = directory.file("readable")
        mkdir(readable, 0o755)
        chmod(readable, 0o755)
        _ = try DiskSpool(options: SpoolOptions(directory: readable))
        #expect(Self.mode(readable) == 0o700)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give a directory to another user"))
    func aSpoolDirectoryOfAnotherUserIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let theirs = directory.file("theirs")
        mkdir(theirs, 0o700)
        // nobody: the user another local account stands for.
        #expect(chown(theirs, 65534, 65534) == 0)
        do {
            _ = try DiskSpool(options: SpoolOptions(directory: theirs))
            Issue.record("another user's spool directory was taken")
        } catch {
            #expect(error.reason.contains("belongs to user 65534"))
        }
    }

    @Test func theEventFileIsNeverWrittenThroughALink() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let victim = try Self.victim(in: directory)
        let path = directory.file("events.ndjson")
        symlink(victim, path)
        do {
            _ = try FileExporter(path: path)
            Issue.record("the event file was opened through a link")
        } catch {
            #expect(error.reason.contains("symbolic link"))
        }
        #expect(Self.contents(victim) == "secret lines\n")
        // Nor a FIFO or a directory in its place (a FIFO would block the opener).
        let fifo = directory.file("fifo.ndjson")
        mkfifo(fifo, 0o600)
        #expect(throws: ConfigurationError.self) { try FileExporter(path: fifo) }
        #expect(throws: ConfigurationError.self) { try FileExporter(path: directory.path) }
    }

    @Test func aNewEventFileIsMode0600() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let exporter = try FileExporter(path: path)
        await exporter.shutdown()
        #expect(Self.mode(path) == 0o600)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give a file to another user"))
    func anEventFileOfAnotherUserIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("theirs.ndjson")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(chown(path, 65534, 65534) == 0)
        do {
            _ = try FileExporter(path: path)
            Issue.record("another user's event file was appended to")
        } catch {
            #expect(error.reason.contains("belongs to user 65534"))
        }
    }
}
