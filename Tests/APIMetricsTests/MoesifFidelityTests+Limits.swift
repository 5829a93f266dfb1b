import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// What a hostile client's bytes can cost the Moesif exporter, and how often
/// it reads Moesif's configuration.
extension MoesifFidelityTests {
    // MARK: - inflated bodies

    /// A compressed body the redactor left as sent is inflated to at most
    /// the capture limit (and Moesif's 450 KB): a few hundred gzip'd bytes
    /// cannot become a body larger than a plain one could be captured.
    /// Past the limit, the `{"msg": ...}` note says why.
    @Test(
        arguments: [
            (64 * 1024, 200_000, "65536"),
            (1024 * 1024, 500_000, "450000"),
            (1024 * 1024, 300_000, nil),
        ] as [(Int, Int, String?)])
    func aCompressedBodyInflatesToAtMostTheCaptureLimit(captureLimit: Int, inflated: Int, note: String?) async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let metrics = try service(
            ingest,
            configure: { config in
                config.capture.maxBodyBytes = captureLimit
                config.redaction.requestBody = .init(fields: [])
                config.redaction.responseBody = .init(fields: [])
                config.redaction.masksCardNumbers = false
            })
        let json = Array("{\"blob\":\"\(String(repeating: "z", count: inflated - 11))\"}".utf8)
        let compressed = try Gzip.compress(json)
        #expect(compressed.count < 2_000)
        recordExchange(
            metrics.recorder, method: "POST", target: "/upload",
            headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"], requestBody: compressed)
        await metrics.shutdown(timeout: .seconds(30))
        let event = try #require(events(ingest).first)
        let request = try #require(event["request"] as? [String: Any])
        let body = try #require(request["body"] as? [String: Any])
        #expect(request["transfer_encoding"] as? String == "json")
        let post = try #require(ingest.requests.first { $0.target == "/v1/events/batch" })
        if let note {
            #expect((body["msg"] as? String)?.contains("inflates past \(note) bytes") == true, "\(body)")
            #expect(post.body.count < 10_000)
        } else {
            #expect((body["blob"] as? String)?.utf8.count == inflated - 11)
        }
    }

    /// An exporter made outside a service inflates to the capture's default
    /// limit, not to Moesif's 450 KB.
    @Test func anExporterMadeAloneInflatesToTheDefaultCaptureLimit() throws {
        let exporter = try MoesifExporter(options: .init(applicationID: Self.applicationID))
        let compressed = try Gzip.compress([UInt8](repeating: 0x41, count: 100_000))
        let record = ExchangeRecord(
            id: EventID(high: 1, low: 1), direction: .incoming,
            startTimeNanoseconds: Int64(Date().timeIntervalSince1970 * 1e9), durationNanoseconds: 1_000_000,
            request: RequestHead(method: "POST", target: "/upload", headers: ["Content-Encoding": "gzip"]),
            requestBody: CapturedBody(bytes: compressed, size: compressed.count))
        let batch = ExportBatch(
            identity: ServiceIdentity(service: "s", environment: "e"), records: [record],
            sentAtNanoseconds: record.startTimeNanoseconds)
        let encoded = try exporter.encodeEvents(batch, sampling: .all)
        #expect(encoded.count == 1 && encoded.json.count < 10_000)
        let text = String(decoding: encoded.json, as: UTF8.self)
        #expect(text.contains("inflates past \(64 * 1024) bytes"), "\(text.prefix(500))")
    }

    // MARK: - the byte limit, measured while encoding

    /// A batch whose calls pass the byte limit is refused as too large as
    /// soon as they do: the calls after are not encoded, and nothing of the
    /// attempt is counted or warned of (a call too old for Moesif and one
    /// past its event size come last, and neither is reported).
    @Test func aBatchPastTheByteLimitStopsAtTheLimit() async throws {
        let ingest = try ingest()
        defer { ingest.stop() }
        let exporter = try MoesifExporter(
            options: .init(
                applicationID: Self.applicationID, baseURL: ingest.baseURL,
                batchLimits: ExportBatchLimits(maxEvents: 200, maxBytes: 64 * 1024)))
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        func record(_ index: UInt64, bodyBytes: Int, startedAt: Int64) -> ExchangeRecord {
            let body = Array("{\"blob\":\"\(String(repeating: "b", count: bodyBytes))\"}".utf8)
            return ExchangeRecord(
                id: EventID(high: 2, low: index), direction: .incoming, startTimeNanoseconds: startedAt,
                durationNanoseconds: 1_000_000,
                request: RequestHead(method: "POST", target: "/blobs/\(index)", headers: ["Content-Type": "application/json"]),
                requestBody: CapturedBody(bytes: body, size: body.count), response: ResponseHead(status: 201))
        }
        var records = (0..<10).map { record($0, bodyBytes: 25_000, startedAt: now) }
        records.append(record(10, bodyBytes: 10, startedAt: now - 31 * 24 * 3600 * 1_000_000_000))
        records.append(record(11, bodyBytes: 70_000, startedAt: now))
        let reports = LockedValue<[String]>([])
        let batch = ExportBatch(
            identity: ServiceIdentity(service: "s", environment: "e"), records: records, entities: [], dropped: 0,
            sentAtNanoseconds: now,
            encodings: BatchEncodings(identity: ServiceIdentity(service: "s", environment: "e"), records: records, entities: []),
            reportSink: { report in reports.withLock { $0.append("\(report)") } })
        let error = await #expect(throws: ExportError.self) { try await exporter.export(batch) }
        #expect(error?.isTooLarge == true)
        #expect(error?.message.contains("the first 3 of 12 calls") == true, "\(String(describing: error))")
        #expect(reports.withLock { $0 } == [])
        #expect(!ingest.requests.contains { $0.target == "/v1/events/batch" })
    }

    // MARK: - the configuration's ETag

    /// A configuration answer with no `X-Moesif-Config-ETag`, or another one
    /// than the batch answers name, does not have the configuration read
    /// after every batch: the batch's ETag, once read for, is not read for
    /// again. Five batches make two reads (the first, and the one for the
    /// batches' ETag).
    @Test(arguments: [nil, "config-etag-other"] as [String?])
    func aConfigAnswerWithAnotherETagIsNotReadAfterEveryBatch(configETag: String?) async throws {
        let ingest = try TestCollector(answering: { _, request, _ in
            if request == "GET /v1/config" {
                var headers = [("Content-Type", "application/json")]
                if let configETag { headers.append(("X-Moesif-Config-ETag", configETag)) }
                return .body(200, headers: headers, body: Array(#"{"sample_rate":100}"#.utf8))
            }
            return .body(201, headers: [("X-Moesif-Config-ETag", "batch-etag-1")], body: [])
        })
        defer { ingest.stop() }
        let metrics = try service(ingest)
        let runner = Task { try await metrics.run() }
        for round in 0..<5 {
            recordExchange(metrics.recorder, target: "/r/\(round)")
            let posts = round + 1
            #expect(await eventually { ingest.requests.filter { $0.target == "/v1/events/batch" }.count >= posts })
        }
        await metrics.shutdown(timeout: .seconds(30))
        _ = try? await runner.value
        #expect(ingest.requests.filter { $0.target == "/v1/config" }.count == 2)
        #expect(metrics.statistics.exported == 5)
    }
}
