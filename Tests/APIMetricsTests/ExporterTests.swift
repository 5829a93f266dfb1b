import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Exporters")
struct ExporterTests {
    private let identity = ServiceIdentity(service: "svc", environment: "test")

    private func batch(_ count: Int, targetPrefix: String = "/e/", dropped: Int = 0) -> ExportBatch {
        let records = (0..<count).map { n in
            ExchangeRecord(
                id: EventID(high: 0, low: UInt64(n)), direction: .incoming,
                startTimeNanoseconds: 0, durationNanoseconds: 1_000_000,
                request: RequestHead(method: "GET", target: "\(targetPrefix)\(n)"),
                response: ResponseHead(status: 200))
        }
        return ExportBatch(identity: identity, records: records, dropped: dropped, sentAtNanoseconds: 0)
    }

    @Test func theFileExporterAppendsOneValidLinePerEvent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let exporter = try FileExporter(path: path)
        try await exporter.export(batch(3))
        try await exporter.export(batch(2, targetPrefix: "/f/"))
        await exporter.shutdown()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)
        let urls = lines.compactMap { (jsonObject(Array($0.utf8))?["request"] as? [String: Any])?["url"] as? String }
        #expect(urls == ["/e/0", "/e/1", "/e/2", "/f/0", "/f/1"])
    }

    @Test func theFileExporterRotatesBySizeAndKeepsNFiles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let exporter = try FileExporter(path: path, rotation: .init(maxBytes: 2048, maxFiles: 2))
        for _ in 0..<20 { try await exporter.export(batch(3)) }
        await exporter.shutdown()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["events.ndjson", "events.ndjson.1", "events.ndjson.2"])
        for name in names {
            let size = try FileManager.default.attributesOfItem(atPath: directory.file(name))[.size] as? Int ?? 0
            #expect(size <= 2048)
            let text = try String(contentsOfFile: directory.file(name), encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            #expect(text.split(separator: "\n").allSatisfy { jsonObject(Array($0.utf8)) != nil })
        }
    }

    @Test func aFileThatCannotBeOpenedIsAConfigurationErrorAtStartup() throws {
        let config = testConfiguration([.file(path: "/nonexistent-directory/for/sure/events.ndjson")])
        #expect {
            try APIMetricsService(configuration: config)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "exporters[0].path" && error.reason.contains("cannot open")
        }
    }

    @Test func theConsoleLineIsReadable() {
        let record = ExchangeRecord(
            id: EventID(high: 0, low: 1), direction: .incoming,
            startTimeNanoseconds: 1_795_255_200_123_000_000, durationNanoseconds: 3_214_000,
            request: RequestHead(method: "POST", target: "/orders\nX", route: "/orders"),
            requestBody: CapturedBody(size: 120), response: ResponseHead(status: 201),
            responseBody: CapturedBody(size: 88), consumer: Consumer(id: "acme"))
        #expect(
            ConsoleExporter.line(for: record)
                == "2026-11-21T10:00:00.123Z POST /ordersX [/orders] → 201 3.214 ms req=120B res=88B consumer=acme")
    }

    @Test func theHTTPExporterPostsTheBatchWithItsHeaders() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        let exporter = try HTTPExporter(
            options: .init(
                endpoint: collector.url, apiKey: "secret-key", headers: ["X-Team": "core"]))
        try await exporter.export(batch(4, dropped: 2))
        let request = try #require(collector.requests.first)
        #expect(request.header("authorization") == "Bearer secret-key")
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("x-team") == "core")
        #expect(request.header("content-encoding") == nil)
        #expect(request.batch["dropped"] as? Int == 2)
        #expect((request.batch["events"] as? [Any])?.count == 4)
    }

    @Test func theHTTPExporterCanGzipAndTheSystemGzipReadsIt() async throws {
        let collector = try TestCollector()
        defer { collector.stop() }
        let exporter = try HTTPExporter(options: .init(endpoint: collector.url, compression: .gzip))
        try await exporter.export(batch(50))
        let request = try #require(collector.requests.first)
        #expect(request.header("content-encoding") == "gzip")
        #expect(request.rawBody.count < request.body.count)
        #expect((request.batch["events"] as? [Any])?.count == 50)
        // A real peer: the gzip program must read what we wrote.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("batch.json.gz")
        try Data(request.rawBody).write(to: URL(fileURLWithPath: file))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc '\(file)'"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(Array(output) == request.body)
    }

    @Test(
        arguments: [
            (200, nil), (204, nil), (400, false), (401, false), (404, false), (413, false),
            (408, true), (429, true), (500, true), (502, true), (503, true),
        ] as [(Int, Bool?)])
    func statusesMapToRetryDecisions(status: Int, retryable: Bool?) {
        do {
            try HTTPExporter.check(TransportResponse(status: status), endpoint: "http://x")
            #expect(retryable == nil)
        } catch {
            #expect(error.isRetryable == retryable)
            // The status travels with the error, and its code says what the sender does.
            #expect(error.httpStatus == status)
            #expect(error.code == (status == 413 ? .tooLarge : retryable == true ? .retryable : .rejected))
        }
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse(" 0 ") == .seconds(0))
        #expect(RetryAfter.parse("-1") == nil)
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT") == .seconds(0))
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        let future = RetryAfter.parse("Fri, 01 Jan 2100 00:00:00 GMT")
        #expect((future ?? .zero) > .seconds(60 * 60 * 24 * 365))
    }

    @Test func aConnectionRefusedIsRetryable() async throws {
        // Bind a port, then close it: nothing listens there any more.
        let collector = try TestCollector()
        let url = collector.url
        collector.stop()
        let exporter = try HTTPExporter(options: .init(endpoint: url, timeout: .seconds(2)))
        await #expect {
            try await exporter.export(batch(1))
        } throws: { error in
            (error as? ExportError)?.isRetryable == true
        }
    }
}
