import Foundation
import Testing
import APIMetricsTestSupport
import APIMetrics

/// The strict stand-ins' base refuses what its schema refuses, keeps why,
/// and undoes gzip: checked with its self-test vendor, so that a stand-in
/// that took everything would fail here.
@Suite struct VendorStandInTests {
    @Test func refusesWhatTheSchemaRefusesAndSaysWhy() async throws {
        let standIn = try await VendorStandIn.start("selftest")
        defer { standIn.stop() }
        let port = try #require(URL(string: standIn.url)?.port)
        func post(_ json: String, gzip: Bool = false) throws -> String {
            let client = try RawClient(port: UInt16(port))
            defer { client.close() }
            let body = gzip ? try Gzip.compress(Array(json.utf8)) : Array(json.utf8)
            client.send(
                "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
                    + (gzip ? "Content-Encoding: gzip\r\n" : "") + "\r\n")
            client.send(body)
            return client.read()
        }
        #expect(try post(#"{"id":"0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"}"#).contains(" 201 "))
        let accepted = try post(#"{"id":"0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f","t":"2026-12-06T10:00:00Z"}"#, gzip: true)
        #expect(accepted.contains(" 201 "))
        #expect(try post(#"{"id":"0b1c2d3e4f5046178829"}"#).contains(" 400 "))
        #expect(try post("not json").contains(" 400 "))
        try await standIn.script([(status: 429, headers: ["Retry-After": "1"], body: "")])
        #expect(try post(#"{"id":"0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"}"#).contains(" 429 "))
        let received = try await standIn.received()
        #expect(received.map(\.status) == [201, 201, 400, 400, 429])
        #expect(received[1].rawBytes != received[1].body.count)
        let refusals = try await standIn.refusals()
        #expect(refusals.count == 2)
        #expect(refusals.first?.contains("is not a 'uuid'") == true)
    }
}
