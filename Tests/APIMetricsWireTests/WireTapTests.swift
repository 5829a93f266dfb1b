import Foundation
import Testing
import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics
@testable import APIMetricsWire

@Suite("Wire tap")
struct WireTapTests {
    @Test(arguments: wireCases.indices)
    func realWorldTrafficInAnySplit(index: Int) {
        let (name, steps, expected) = wireCases[index]
        let harness = WireHarness()
        #expect(harness.play(steps, split: .whole) == expected, "\(name), whole")
        #expect(harness.play(steps, split: .bytewise) == expected, "\(name), one byte at a time")
        for seed in 1...20 {
            #expect(harness.play(steps, split: .random(UInt64(seed))) == expected, "\(name), random split \(seed)")
        }
    }

    /// Each case cut in two at every byte of each step: where a read ends
    /// must not change what is recorded (the strict framing rules included).
    @Test(
        arguments: wireCases.indices.filter { index in
            wireCases[index].steps.allSatisfy { $0.bytes.count < 1024 }
        })
    func everyCaseCutInTwoAtEveryByte(index: Int) {
        let (name, steps, expected) = wireCases[index]
        let harness = WireHarness()
        let longest = steps.map(\.bytes.count).max() ?? 0
        for cut in 1..<max(2, longest) {
            #expect(harness.play(steps, split: .at(cut)) == expected, "\(name), cut at \(cut)")
        }
    }

    /// A head whole in one read is parsed in one pass, a head in pieces
    /// line by line: the headers recorded must not depend on which.
    @Test(arguments: wireCases.indices)
    func headersAreTheSameWhateverTheSplit(index: Int) {
        let (name, steps, _) = wireCases[index]
        let harness = WireHarness()
        func headers(_ split: WireSplit) -> [String] {
            let tap = WireTap(recorder: harness.recorder, clientAddress: "127.0.0.1")
            WireFuzzing.play(steps, into: tap, split: split)
            return harness.queue.drain(limit: .max).compactMap { $0.record }.map { record in
                let request = record.request.headers.map { "\($0.name)=\($0.value)" }
                let response = (record.response?.headers).map { $0.map { "\($0.name)=\($0.value)" } } ?? []
                return "\(record.request.method) \(record.request.target) [\(request.joined(separator: "|"))] "
                    + "\(record.response?.status ?? 0) [\(response.joined(separator: "|"))]"
            }
        }
        let whole = headers(.whole)
        #expect(headers(.bytewise) == whole, "\(name)")
        for seed in 1...5 {
            #expect(headers(.random(UInt64(seed))) == whole, "\(name), random split \(seed)")
        }
    }

    /// The word compares that spot Content-Length, Transfer-Encoding and
    /// Upgrade while a head is read, against a plain lowercase compare, on
    /// the names in every case mix and on names one byte away from them.
    @Test func framingNamesAreFoundInAnyCaseAndNothingElseIs() {
        let names = ["content-length", "transfer-encoding", "upgrade"]
        let expected: [String: HTTPStreamParser.FramingName] = [
            "content-length": .contentLength, "transfer-encoding": .transferEncoding, "upgrade": .upgrade,
        ]
        let tokens = Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        var generator = SplitMix(seed: 0xF4A3)
        var checked = 0
        for _ in 0..<20_000 {
            var name = Array(names[Int(generator.next() % 3)].utf8)
            for index in name.indices where generator.next() % 2 == 0 && name[index] >= 0x61 {
                name[index] -= 0x20
            }
            if generator.next() % 2 == 0 {
                // One byte changed to another token byte.
                let index = Int(generator.next() % UInt64(name.count))
                name[index] = tokens[Int(generator.next() % UInt64(tokens.count))]
            }
            let lowered = String(decoding: name, as: UTF8.self).lowercased()
            let found = name.withUnsafeBufferPointer { HTTPStreamParser.framingName($0) }
            #expect(found == expected[lowered], "\(String(decoding: name, as: UTF8.self))")
            checked += 1
        }
        #expect(checked == 20_000)
        for length in 0..<20 {
            let name = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            #expect(name.withUnsafeBufferPointer { HTTPStreamParser.framingName($0) } == nil)
        }
    }

    /// The eight-byte scans of start lines and field names, against a
    /// byte-by-byte reading, on words drawn from the bytes near every edge
    /// they test (space, tab, DEL, `-`, `:`, the letters' and digits' ends,
    /// bytes of 0x80 and above that could carry into their neighbours).
    @Test func wordScansAgreeWithByteByByteReadings() {
        let edges: [UInt8] = [
            0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x39, 0x3A, 0x3B, 0x40, 0x41,
            0x5A, 0x5B, 0x5F, 0x60, 0x61, 0x7A, 0x7B, 0x7E, 0x7F, 0x80, 0x81, 0xA0, 0xA1, 0xC0, 0xDF, 0xE0, 0xFF,
        ]
        func isCommonNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
        }
        func isStartLineStop(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7F }
        var generator = SplitMix(seed: 0x5CA7)
        var mismatches: [String] = []
        for round in 0..<200_000 {
            var word = [UInt8](repeating: 0, count: 8)
            for index in 0..<8 {
                let draw = generator.next()
                // Mostly letters, so that long runs of name bytes are common.
                word[index] =
                    round % 4 == 0 || draw % 3 == 0
                    ? edges[Int(draw >> 8) % edges.count] : UInt8(truncatingIfNeeded: 0x61 + (draw >> 8) % 26)
            }
            let expectedCommon = word.firstIndex { !isCommonNameByte($0) } ?? 8
            var expectedStops: UInt64 = 0
            for (index, byte) in word.enumerated() where isStartLineStop(byte) { expectedStops |= 0x80 << (8 * UInt64(index)) }
            let (common, stops) = word.withUnsafeBytes {
                (HTTPStreamParser.commonNameBytes($0.baseAddress!), HTTPStreamParser.startLineStops($0.baseAddress!))
            }
            if common != expectedCommon || stops != expectedStops, mismatches.count < 5 {
                mismatches.append(
                    "\(word): common \(common) vs \(expectedCommon), stops \(String(stops, radix: 16)) vs \(String(expectedStops, radix: 16))"
                )
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    /// A head larger than the parser's first scratch (more fields, longer
    /// values) is recorded whole, the same in one read and byte by byte.
    @Test func aHeadPastTheScratchCapacityIsKeptWhole() {
        var head = "POST /upload HTTP/1.1\r\n"
        var expectedNames: [String] = []
        for index in 0..<90 {
            head += "X-Field-\(index): \(String(repeating: "v", count: index * 7))\r\n"
            expectedNames.append("X-Field-\(index)")
        }
        head += "CONTENT-LENGTH: 3\r\n\r\nabc"
        let steps: [WireStep] = [.inbound(head), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close]
        let harness = WireHarness()
        for split in [WireSplit.whole, .bytewise, .random(7)] {
            let tap = WireTap(recorder: harness.recorder, clientAddress: "127.0.0.1")
            WireFuzzing.play(steps, into: tap, split: split)
            let records = harness.queue.drain(limit: .max).compactMap { $0.record }
            #expect(records.count == 1)
            guard let record = records.first else { continue }
            #expect(record.requestBody.size == 3)
            #expect(record.request.headers.count == 91)
            #expect(Array(record.request.headers.map(\.name).prefix(90)) == expectedNames)
            #expect(record.request.headers["x-field-89"] == String(repeating: "v", count: 89 * 7))
            #expect(record.response?.status == 204)
        }
    }

    /// While the queue refuses events, a new exchange is counted as dropped
    /// and not captured, and the stream is still read right: once the
    /// sender drains the queue, the next exchange is captured whole.
    @Test func exchangesAreShedWhileTheQueueIsFull() {
        let harness = WireHarness(queueItems: 1)
        let tap = WireTap(recorder: harness.recorder, clientAddress: "127.0.0.1")
        func exchange(_ index: Int) {
            tap.inbound(Array("POST /orders/\(index) HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8))
            #expect((tap.currentExchange == nil) == (3...4).contains(index), "exchange \(index)")
            tap.outbound(Array("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok".utf8))
        }
        // 1 is queued; 2 is refused when it finishes, which marks the queue
        // full; 3 and 4 are shed when their heads arrive.
        for index in 1...4 { exchange(index) }
        #expect(harness.counters.recordedTotal == 4)
        #expect(harness.counters.droppedForRoom == 3)
        #expect(harness.recorder.isQueueFull)
        let first = harness.queue.drain(limit: .max).compactMap { $0.record }.map(WireHarness.summary)
        #expect(first == ["POST /orders/1 → 201 req=5:hello res=2:ok"])
        #expect(!harness.recorder.isQueueFull)
        exchange(5)
        tap.close()
        let next = harness.queue.drain(limit: .max).compactMap { $0.record }.map(WireHarness.summary)
        #expect(next == ["POST /orders/5 → 201 req=5:hello res=2:ok"])
        #expect(harness.counters.recordedTotal == 5)
        #expect(harness.counters.droppedForRoom == 3)
    }

    /// Shedding reads the stream exactly as capturing does (only the
    /// fields that decide framing are kept): on real traffic and on fuzzed
    /// streams, a tap whose queue is full counts as many exchanges as a tap
    /// that captures them all, and captures none.
    @Test func aSheddingTapFramesEveryStreamAsACapturingOne() {
        var generator = SplitMix(seed: 0x5EED)
        var streams = wireCases.map(\.1)
        for iteration in 0..<10_000 { streams.append(fuzzStream(iteration, using: &generator)) }
        let capturing = WireHarness(bodyLimit: 64)
        let shedding = WireHarness(bodyLimit: 64, queueItems: 1)
        // Fill the queue: one exchange queued, the next refused.
        WireFuzzing.play(
            [
                .inbound("GET /a HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"),
                .inbound("GET /b HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close,
            ],
            into: WireTap(recorder: shedding.recorder), split: .whole)
        #expect(shedding.recorder.isQueueFull)
        for (index, steps) in streams.enumerated() {
            let split = WireSplit.random(UInt64(index) + 1)
            let captured = capturing.play(steps, split: split).count
            let before = shedding.counters.recordedTotal
            let tap = WireTap(recorder: shedding.recorder, clientAddress: "127.0.0.1")
            WireFuzzing.play(steps, into: tap, split: split)
            let counted = shedding.counters.recordedTotal - before
            #expect(counted == captured, "stream \(index): \(steps) → \(capturing.play(steps, split: split))")
            // The metrics see the same calls either way: method, status and
            // body sizes of every exchange, shed or captured.
            let seenCapturing = capturing.summaries(from: capturing.observer.observed.count - captured)
            let seenShedding = shedding.summaries(from: shedding.observer.observed.count - counted)
            #expect(seenShedding == seenCapturing, "stream \(index): \(steps)")
            if seenShedding != seenCapturing { return }
            #expect(shedding.queue.count == 1, "stream \(index)")
            if counted != captured { return }
        }
    }

    /// The limit on a head's fields holds while shedding too, where only
    /// the fields that decide framing are kept: a head past the limit stops
    /// the stream for a shedding tap exactly as for a capturing one.
    @Test func theFieldLimitHoldsWhileShedding() {
        let limits = WireTap.Limits(headerCount: 10)
        var head = "GET /many HTTP/1.1\r\n"
        for index in 0..<11 { head += "X-Field-\(index): v\r\n" }
        let steps: [WireStep] = [
            .inbound(head + "\r\n"), .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            .inbound("GET /next HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close,
        ]
        let capturing = WireHarness()
        let captured = capturing.play(steps, split: .whole, limits: limits)
        // The refused head and the request the tap finds after it.
        #expect(captured.count == 2, "\(captured)")
        let shedding = WireHarness(queueItems: 1)
        WireFuzzing.play(
            [
                .inbound("GET /a HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"),
                .inbound("GET /b HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close,
            ],
            into: WireTap(recorder: shedding.recorder), split: .whole)
        #expect(shedding.recorder.isQueueFull)
        let before = shedding.counters.recordedTotal
        WireFuzzing.play(steps, into: WireTap(recorder: shedding.recorder, limits: limits), split: .whole)
        #expect(shedding.counters.recordedTotal - before == captured.count)
    }

    /// A shed exchange hands the metrics its method, the route the server
    /// named, its status, its body sizes and its duration when it ends.
    @Test func aShedExchangeIsSummedUpWhenItEnds() throws {
        let harness = WireHarness(queueItems: 1)
        WireFuzzing.play(
            [
                .inbound("GET /a HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"),
                .inbound("GET /b HTTP/1.1\r\n\r\n"), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close,
            ],
            into: WireTap(recorder: harness.recorder), split: .whole)
        #expect(harness.recorder.isQueueFull)
        let seen = harness.observer.observed.count
        let tap = WireTap(recorder: harness.recorder)
        tap.inbound(Array("POST /orders/7 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel".utf8))
        #expect(tap.currentExchange == nil)
        tap.setRoute("/orders/{id}")
        tap.inbound(Array("lo".utf8))
        tap.outbound(Array("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n".utf8))
        #expect(harness.observer.observed.count == seen, "counted before its response ended")
        tap.outbound(Array("4\r\ndefg\r\n0\r\n\r\n".utf8))
        tap.inbound(Array("GET /never-answered HTTP/1.1\r\n\r\n".utf8))
        tap.close()
        let calls = harness.observer.observed.dropFirst(seen)
        #expect(calls.map(\.outcome) == [.shed, .shed])
        let answered = try #require(calls.first?.call)
        #expect(answered.method == "POST" && answered.route == "/orders/{id}" && answered.status == 201)
        #expect(answered.requestBodyBytes == 5 && answered.responseBodyBytes == 7)
        #expect(answered.durationNanoseconds > 0)
        #expect(calls.last?.call.status == 0)
        #expect(calls.last?.call.method == "GET")
    }

    @Test func tokenBytesAreExactlyRFC9110s() {
        let tokens = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for value in 0...255 {
            #expect(HeaderName.isTokenByte(UInt8(value)) == tokens.contains(UInt8(value)), "byte \(value)")
        }
    }

    @Test func timingRunsFromTheFirstRequestByteToTheLastResponseByte() throws {
        let harness = WireHarness()
        let tap = WireTap(recorder: harness.recorder)
        tap.inbound(Array("GET /slow HTTP/1.1\r\n".utf8))
        Thread.sleep(forTimeInterval: 0.05)
        tap.inbound(Array("Host: h\r\n\r\n".utf8))
        tap.outbound(Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab".utf8))
        Thread.sleep(forTimeInterval: 0.05)
        tap.outbound(Array("cd".utf8))
        let record = try #require(harness.queue.drain(limit: 1).first?.record)
        #expect(record.durationNanoseconds >= 100_000_000)
        tap.close()
    }

    @Test func theServerNamesTheRouteOfTheExchangeItIsAnswering() throws {
        let harness = WireHarness()
        let tap = WireTap(recorder: harness.recorder)
        tap.inbound(Array("GET /orders/7 HTTP/1.1\r\n\r\nGET /users/3 HTTP/1.1\r\n\r\n".utf8))
        tap.setRoute("/orders/{id}")
        tap.currentExchange?.setConsumer(Consumer(id: "acme"))
        tap.outbound(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        tap.setRoute("/users/{id}")
        tap.outbound(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        tap.close()
        let records = harness.queue.drain(limit: .max).compactMap(\.record)
        #expect(records.map(\.request.route) == ["/orders/{id}", "/users/{id}"])
        #expect(records.first?.consumer?.id == "acme")
    }

    @Test func aLargeUploadIsCountedWholeAndCappedWhenKept() {
        let harness = WireHarness(bodyLimit: 1000)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let steps: [WireStep] = [
            .inbound("PUT /blob HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\n\r\n"),
            .inboundBytes(body),
            .outbound("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            .close,
        ]
        let lines = harness.play(steps, split: .random(7))
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("PUT /blob → 200 req=1048576:\(String(repeating: "x", count: 1000)) res=0") == true)
    }

    @Test func limitsAreConfigurable() {
        let harness = WireHarness()
        let steps: [WireStep] = [
            .inbound("GET /a HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
            .outbound("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            .close,
        ]
        #expect(
            harness.play(steps, split: .whole, limits: .init(headerCount: 2)) == ["GET /a → 400 req=0 res=0 !MalformedRequest"])
        #expect(
            harness.play(steps, split: .whole, limits: .init(startLineBytes: 4)) == [
                "INVALID  → 400 req=0 res=0 !MalformedRequest"
            ])
    }

    @Test func mutatedAndRandomStreamsNeverCrashHangOrLoseAnExchange() async {
        // 25,000 streams (`apimetrics-fuzz` runs 20,000 more in CI, and
        // millions by hand): every exchange the tap begins must be finished
        // by close(), none abandoned.
        let harness = WireHarness(bodyLimit: 64)
        var generator = SplitMix(seed: 0xA11CE)
        for iteration in 0..<25_000 {
            // Long and synchronous: let the other tests (some wait on the
            // clock) have the cooperative threads often.
            if iteration % 50 == 0 { await Task.yield() }
            let steps = fuzzStream(iteration, using: &generator)
            let lines = harness.play(steps, split: .random(generator.next()))
            if lines.contains(where: { $0.contains("!ExchangeAbandoned") }) {
                Issue.record("an exchange was abandoned in stream \(iteration): \(lines)")
                return
            }
        }
    }
}
