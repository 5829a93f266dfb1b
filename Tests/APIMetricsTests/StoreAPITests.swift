@testable import APIMetrics
import APIMetricsTestSupport
import APIMetricsTesting
import Foundation
import Testing

@Suite("The JSON API v1 over the store")
struct StoreAPITests {
    private func local(_ target: String) -> ServerRequest {
        ServerRequest(method: "GET", target: target, headers: ["Host": "localhost:8080"], clientAddress: "127.0.0.1")
    }

    private func get(_ metrics: APIMetricsService, _ target: String) throws -> (status: Int, json: [String: Any]) {
        let answer = try #require(metrics.view.response(to: local(target)))
        #expect(answer.headers["content-type"] == "application/json")
        #expect(answer.headers["content-security-policy"] != nil)
        return (answer.status, jsonObject(answer.body) ?? [:])
    }

    private func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    @Test func everyPageAnswersWhatTheTrafficWas() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var config = storeConfiguration(directory.file("apimetrics.sqlite"))
        config.view = .init(isDashboardEnabled: true)
        let metrics = try APIMetricsService(configuration: config)
        let runner = Task { try await metrics.run() }
        defer { runner.cancel() }
        let statuses = recordStoreTraffic(metrics, count: 60)
        // An outgoing call made while serving one (both counted: 62 calls): the parent's page links it.
        let parentExchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/parent", route: "/parent"))
        let child = metrics.recorder.begin(
            RequestHead(method: "GET", target: "https://api.example.com/v1/x?key=abc", headers: ["authorization": "Bearer s"]),
            direction: .outgoing)
        child.setTrace(id: parentExchange.traceID, parentID: parentExchange.id)
        child.recordResponseHead(ResponseHead(status: 201))
        child.finish()
        parentExchange.recordResponseHead(ResponseHead(status: 200))
        parentExchange.finish()
        #expect(
            await eventually {
                ((try? get(metrics, "/_apimetrics/api/v1/overview?range=1h").json["requests"]) as? Int) == 62
            })
        let overview = try get(metrics, "/_apimetrics/api/v1/overview?range=1h")
        #expect(overview.status == 200)
        #expect(overview.json["server_errors"] as? Int == statuses[500])
        #expect(overview.json["client_errors"] as? Int == statuses[404])
        #expect(overview.json["resolution_s"] as? Int == 60)
        let points = try #require(overview.json["series"] as? [[String: Any]])
        #expect(points.count >= 60 && points.count <= 61)
        #expect(points.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 62)
        #expect(overview.json["consumers"] as? Int == 2)
        #expect(overview.json["p99_ms"] is Double)

        let endpoints = try #require(
            try get(metrics, "/_apimetrics/api/v1/endpoints?range=1h").json["endpoints"] as? [[String: Any]])
        #expect(endpoints.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 62)
        #expect(endpoints.first?["route"] as? String == "/orders/{id}")

        let endpoint = try get(metrics, "/_apimetrics/api/v1/endpoint?range=1h&method=GET&route=\(escaped("/orders/{id}"))")
        #expect(endpoint.status == 200)
        let gets = (0..<60).filter { $0 % 4 != 0 }
        #expect(endpoint.json["requests"] as? Int == gets.count)
        let byStatus = try #require(endpoint.json["statuses"] as? [String: Int])
        #expect(byStatus.values.reduce(0, +) == gets.count)
        #expect(byStatus["500"] == gets.filter { $0 % 10 == 0 }.count)
        let histogram = try #require(endpoint.json["latency_histogram"] as? [[String: Any]])
        #expect(histogram.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == gets.count)
        #expect(histogram.count <= 40)
        let top = try #require(endpoint.json["top_consumers"] as? [[String: Any]])
        #expect(Set(top.compactMap { $0["consumer"] as? String }) == ["acme", "globex"])
        #expect(top.reduce(0) { $0 + ($1["calls"] as? Int ?? 0) } == gets.count)
        #expect((endpoint.json["recent"] as? [Any])?.count == 20)

        // The log, filtered by consumer and class, then paged.
        let acme500 = try get(metrics, "/_apimetrics/api/v1/calls?range=1h&consumer=acme&status=5xx")
        let rows = try #require(acme500.json["calls"] as? [[String: Any]])
        let expectedRows: Int = (0..<60).filter { (n: Int) -> Bool in n % 30 == 0 }.count
        #expect(rows.count == expectedRows)
        #expect(rows.allSatisfy { $0["consumer"] as? String == "acme" && $0["status"] as? Int == 500 })
        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try get(metrics, "/_apimetrics/api/v1/calls?range=1h&limit=25" + (cursor.map { "&cursor=\($0)" } ?? ""))
            ids += (page.json["calls"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        #expect(ids.count == 62)
        #expect(Set(ids).count == 62)
        let slow = try get(metrics, "/_apimetrics/api/v1/calls?range=1h&min_ms=100000")
        #expect((slow.json["calls"] as? [Any])?.isEmpty == true)
        let byPath = try get(metrics, "/_apimetrics/api/v1/calls?range=1h&path=\(escaped("/orders/42?"))")
        #expect((byPath.json["calls"] as? [[String: Any]])?.map { $0["path"] as? String } == ["/orders/42?token=[REDACTED]"])

        // One call, and the parent with its outgoing call.
        let parentRow = try #require(
            (try get(metrics, "/_apimetrics/api/v1/calls?range=1h&route=/parent").json["calls"] as? [[String: Any]])?.first)
        let parent = try get(metrics, "/_apimetrics/api/v1/call?id=\(parentRow["id"] as? String ?? "")")
        #expect(parent.status == 200)
        let children = try #require(parent.json["children"] as? [[String: Any]])
        #expect(children.count == 1)
        #expect(children.first?["direction"] as? String == "outgoing")
        let childPage = try get(metrics, "/_apimetrics/api/v1/call?id=\(children.first?["id"] as? String ?? "")")
        #expect((childPage.json["parent"] as? [String: Any])?["id"] as? String == parentRow["id"] as? String)
        #expect(childPage.json["url"] as? String == "https://api.example.com/v1/x?key=[REDACTED]")
        let order = try #require(rows.first)
        let detail = try get(metrics, "/_apimetrics/api/v1/call?id=\(order["id"] as? String ?? "")")
        let request = try #require(detail.json["request"] as? [String: Any])
        let headers = try #require(request["headers"] as? [[String]])
        #expect(headers.contains(["authorization", "[REDACTED]"]))
        let body = try #require(request["body"] as? [String: Any])
        #expect(body["encoding"] as? String == "utf8")
        #expect((body["text"] as? String)?.contains("hunter2") == false)
        #expect((detail.json["consumer"] as? [String: Any])?["id"] as? String == "acme")

        let consumers = try get(metrics, "/_apimetrics/api/v1/consumers?range=1h")
        let listed = try #require(consumers.json["consumers"] as? [[String: Any]])
        #expect(
            listed.reduce(0.0) { $0 + ($1["requests"] as? Double ?? 0) } + (consumers.json["anonymous"] as? Double ?? 0) == 62)
        let acme = try get(metrics, "/_apimetrics/api/v1/consumer?range=1h&id=acme")
        #expect(acme.json["requests"] as? Double == Double((0..<60).filter { $0 % 3 == 0 }.count))
        #expect(try get(metrics, "/_apimetrics/api/v1/consumer?id=nobody").status == 404)

        let pipeline = try get(metrics, "/_apimetrics/api/v1/pipeline")
        #expect(pipeline.json["recorded"] as? Int == 62)
        let store = try #require(pipeline.json["store"] as? [String: Any])
        #expect(store["calls"] as? Int == 62)
        #expect(store["schema_version"] as? Int == StoreSchema.version)
        #expect(store["dropped"] as? Int == 0)
        // The writer's page cache holds the pages it wrote, within its bound.
        let cacheBytes = try #require(store["cache_bytes"] as? Int)
        #expect(cacheBytes > 16_384)
        #expect(store["cache_max_bytes"] as? Int == 16 << 20)
        #expect(Double(cacheBytes) <= Double(StoreSchema.writerCacheBytes) * 1.1)
        await metrics.shutdown(timeout: .seconds(30))
    }

    @Test func parametersItCannotUseAreRefusedNamingTheField() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var config = storeConfiguration(directory.file("apimetrics.sqlite"))
        config.view = .init(isDashboardEnabled: true)
        let metrics = try APIMetricsService(configuration: config)
        #expect(try get(metrics, "/_apimetrics/api/v1/nothing").status == 404)
        #expect(try get(metrics, "/_apimetrics/api/v1/").status == 404)
        let cases: [(String, String)] = [
            ("calls?range=2h", "range"), ("calls?from=yesterday", "from"), ("calls?to=2026-13-01T00:00:00Z", "to"),
            ("calls?from=2026-12-06T10:00:00Z&to=2026-12-06T09:00:00Z", "from"), ("calls?from=0&to=99999999999999", "to"),
            ("calls?from=0&to=8999999999999", "from"),
            ("calls?status=6xx", "status"), ("calls?status=abc", "status"), ("calls?min_ms=-1", "min_ms"),
            ("calls?min_ms=nan", "min_ms"), ("calls?limit=0", "limit"), ("calls?limit=201", "limit"),
            ("calls?cursor=x.y", "cursor"), ("call?id=zz", "id"), ("call", "id"), ("endpoint?route=/x", "method"),
            ("consumer", "id"), ("calls?path=" + String(repeating: "a", count: 1_025), "path"),
        ]
        // Before the writer created the tables, a missing store is a 503; give it a moment.
        _ = try get(metrics, "/_apimetrics/api/v1/overview")
        Thread.sleep(forTimeInterval: 0.3)
        for (target, field) in cases {
            let answer = try get(metrics, "/_apimetrics/api/v1/\(target)")
            #expect(answer.status == 400, "\(target)")
            #expect(answer.json["field"] as? String == field, "\(target): \(answer.json)")
        }
        // A well-formed id of no call.
        #expect(try get(metrics, "/_apimetrics/api/v1/call?id=\(String(repeating: "0", count: 32))").status == 404)
    }

    @Test func withoutAStoreEveryPathSaysSo() throws {
        var config = testConfiguration([.custom(CollectingExporter())])
        config.view = .init(isDashboardEnabled: true)
        let metrics = try APIMetricsService(configuration: config)
        let answer = try get(metrics, "/_apimetrics/api/v1/overview")
        #expect(answer.status == 503)
        #expect((answer.json["error"] as? String)?.contains("no store") == true)
    }

    @Test func rfc3339TimesAreReadAsTheyAreWritten() {
        #expect(Timestamp.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parseRFC3339("2026-12-06T15:04:05.123Z") == 1_796_569_445_123_000_000)
        #expect(Timestamp.parseRFC3339("2026-12-06T16:04:05.123+01:00") == 1_796_569_445_123_000_000)
        #expect(Timestamp.parseRFC3339("2026-12-06T15:04") == 1_796_569_440_000_000_000)
        #expect(Timestamp.parseRFC3339("2024-02-29T00:00:00Z") != nil)
        for bad in [
            "2023-02-29T00:00:00Z", "2026-12-06", "2026-12-06T25:00:00Z", "2026-12-06T15:04:05.Z", "2026-12-06T15:04:05Zjunk",
            "2026-12-06T15:04:05+1:00", "9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "1970-01-01T00:00:00+01:00",
            "９９９９-12-06T15:04:05Z", "2026-12-06T15:04:05." + String(repeating: "9", count: 30),
        ] {
            #expect(Timestamp.parseRFC3339(bad) == nil, "\(bad)")
        }
        var generator = SeededGenerator(seed: 27)
        for _ in 0..<2_000 {
            let instant = Int64.random(in: 0...9_000_000_000_000, using: &generator) * 1_000_000
            #expect(Timestamp.parseRFC3339(Timestamp.rfc3339(nanosecondsSinceEpoch: instant)) == instant)
        }
        // Every prefix and every byte changed: read or refused, never a crash.
        let text = Array("2026-12-06T15:04:05.123+01:00".utf8)
        for cut in 0...text.count { _ = Timestamp.parseRFC3339(String(decoding: text[..<cut], as: UTF8.self)) }
        for index in text.indices {
            for byte in [UInt8(0), 0x2F, 0x3A, 0x7F, 0xFF] {
                var changed = text
                changed[index] = byte
                _ = Timestamp.parseRFC3339(String(decoding: changed, as: UTF8.self))
            }
        }
    }

    @Test func eventIDsAreReadFromTheirHexAndNothingElse() {
        // Written as 32 lowercase hex digits, high half first.
        #expect(
            EventID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210).description == "0123456789abcdeffedcba9876543210")
        #expect(EventID(high: 0, low: 1).description == String(repeating: "0", count: 31) + "1")
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let id = EventID(high: generator.next(), low: generator.next())
            #expect(EventID(hex: id.description) == id)
            #expect(EventID(hex: id.description.uppercased()) == id)
        }
        for bad in [
            "", "0", String(repeating: "g", count: 32), String(repeating: "0", count: 31), String(repeating: "0", count: 33),
            "０" + String(repeating: "0", count: 31),
        ] {
            #expect(EventID(hex: bad) == nil)
        }
    }
}

@Suite("The store's reader under load")
struct StoreReaderLimitsTests {
    @Test func aQueryPastItsDeadlineIsStopped() throws {
        let connection = try SQLiteConnection(path: ":memory:", readOnly: false)
        connection.setDeadline(CaptureClock.monotonicNanoseconds() + 50_000_000)
        let started = CaptureClock.monotonicNanoseconds()
        #expect {
            _ = try connection.integer("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n")
        } throws: { error in
            (error as? SQLiteError)?.isInterrupted == true
        }
        // Stopped, not run to its end (it has none).
        #expect(CaptureClock.monotonicNanoseconds() - started < 60_000_000_000)
        connection.setDeadline(nil)
        #expect(try connection.integer("SELECT 41 + 1") == 42)
    }

    @Test func queriesPastTheConcurrentLimitAreRefusedAsBusy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("apimetrics.sqlite")
        let writer = try StoreWriter(options: StoreOptions(path: path), metricsInterval: .seconds(60))
        _ = await writer.runForTesting { _ in 0 }
        let reader = try StoreReader(path: path)
        var depth = 0
        func nest() throws(StoreReadError) {
            try reader.withConnection { (_: SQLiteConnection) throws(StoreReadError) in
                depth += 1
                if depth <= StoreReader.maxConcurrentQueries { try nest() }
            }
        }
        #expect {
            try nest()
        } throws: { error in
            (error as? StoreReadError)?.kind == .busy
        }
        #expect(depth == StoreReader.maxConcurrentQueries)
        // And free again once they end.
        #expect(try reader.fileFigures().calls == 0)
        await writer.shutdown()
    }
}
