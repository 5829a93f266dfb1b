import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// Apitally's instance UUID kept in a slot file (apitally-py
/// `client/instance.py`): kept over a restart, one per live process, and a
/// fresh one with a warning when the directory is not ours alone.
@Suite("Apitally instance")
struct ApitallyInstanceTests {
    private func options(_ directory: String) -> ApitallyExporter.Options {
        var options = ApitallyExporter.Options(
            clientID: "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f", environment: "prod", baseURL: "http://127.0.0.1:9")
        options.instanceDirectory = directory
        return options
    }

    @Test func theUUIDIsKeptOverARestartAndEachLiveExporterHasItsOwn() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apitally")
        var first: ApitallyExporter? = try ApitallyExporter(options: options(path))
        let kept = try #require(first?.instance)
        let second = try ApitallyExporter(options: options(path))
        #expect(second.instance != kept, "a second live process takes the next slot")
        first = nil
        let restarted = try ApitallyExporter(options: options(path))
        #expect(restarted.instance == kept, "the slot's UUID is taken again")
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("instance_") }
        #expect(files.count == 2)
        let text = try String(contentsOfFile: "\(path)/\(files.sorted()[0])", encoding: .utf8)
        #expect(text == kept)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func aDirectoryOthersCanWriteGivesAFreshUUIDAndAWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let shared = directory.file("shared")
        try FileManager.default.createDirectory(
            atPath: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        _ = chmod(shared, 0o777)
        let exporter = try ApitallyExporter(options: options(shared))
        #expect(ApitallyInstanceFile.isUUID(exporter.instance))
        let warning = try #require(exporter.state.withLock { $0.instanceWarning })
        #expect(warning.contains("apitally.instanceDirectory") && warning.contains("writable by other users"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: shared).isEmpty, "nothing is written there")
    }

    @Test func aLinkInPlaceOfTheDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createSymbolicLink(atPath: directory.file("link"), withDestinationPath: directory.path)
        let exporter = try ApitallyExporter(options: options(directory.file("link")))
        #expect(exporter.state.withLock { $0.instanceWarning }?.contains("symbolic link") == true)
    }
}
