import Testing
import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics
@testable import APIMetricsWire

/// The tap follows the server's side where it cannot read the client's:
/// every response the server sends is one call, and a request the server
/// did not answer is no call (issue 25, finding 9).
@Suite("Wire tap resynchronisation")
struct WireResyncTests {
    /// Each case played whole, a byte at a time, in random pieces and cut
    /// in two at every byte: as many calls as the server sent responses.
    @Test(arguments: resyncCases.indices)
    func everyResponseIsOneCallAndNoOtherIs(index: Int) {
        let (name, steps, expected, responses) = resyncCases[index]
        let harness = WireHarness()
        // A call without a response is the one the server was serving as
        // the connection closed: at most one.
        func answered(_ lines: [String]) -> Int { lines.filter { !$0.contains("→ none") }.count }
        #expect(answered(expected) == responses && expected.count - responses <= 1, "\(name): the case itself")
        var splits: [WireSplit] = [.whole, .bytewise] + (1...10).map { .random(UInt64($0)) }
        let longest = steps.map(\.bytes.count).max() ?? 0
        splits += (1..<max(2, longest)).map { .at($0) }
        for split in splits {
            let lines = harness.play(steps, split: split)
            #expect(answered(lines) == responses, "\(name), \(split): \(lines)")
            #expect(lines == expected, "\(name), \(split)")
            if lines != expected { return }
        }
    }

    /// An exchange the server leaves out (the metrics' view it serves) is
    /// recorded nowhere, captured or shed; the next one is recorded.
    @Test func anExchangeLeftOutIsRecordedNowhereShedOrNot() {
        for queueItems in [100, 0] {
            let harness = WireHarness(queueItems: queueItems)
            let tap = WireTap(recorder: harness.recorder)
            tap.inbound(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            tap.leaveOutCurrentExchange()
            tap.outbound(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
            tap.inbound(Array("GET /orders/1 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            tap.setRoute("/orders/{id}")
            tap.outbound(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
            tap.close()
            #expect(harness.summaries() == ["GET /orders/{id} 200 req=0 res=2"], "queue of \(queueItems)")
            #expect(harness.queue.drain(limit: .max).count == (queueItems > 0 ? 1 : 0))
        }
    }

    /// The requests the server never served are counted on the tap.
    @Test func requestsTheServerDidNotServeAreCounted() {
        let harness = WireHarness()
        let pipelined = (1...5).map { "GET /\($0) HTTP/1.1\r\n\r\n" }.joined()
        let closing = WireTap(recorder: harness.recorder)
        WireFuzzing.play(
            [
                .inbound("GET /v HTTP/1.9\r\n\r\n" + pipelined),
                .outbound("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), .close,
            ],
            into: closing, split: .whole)
        #expect(closing.unrecordedRequests == 5)
        let behind = WireTap(recorder: harness.recorder)
        WireFuzzing.play(
            [.inbound(pipelined), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close], into: behind, split: .bytewise)
        // One answered, one recorded without a response, three behind it.
        #expect(behind.unrecordedRequests == 3)
        let lost = WireTap(recorder: harness.recorder)
        WireFuzzing.play(
            [.inbound("G<T / HTTP/1.1\r\n\r\n" + pipelined), .outbound("HTTP/1.1 204 No Content\r\n\r\n"), .close],
            into: lost, split: .whole)
        #expect(lost.unrecordedRequests == 5)
        #expect(harness.queue.drain(limit: .max).count == 4)
    }

    /// Chunk extensions generated from RFC 9112 §7.1.1's grammar are taken;
    /// the same with bytes changed are judged as a regular expression of
    /// the grammar judges them.
    @Test func chunkExtensionsFollowTheGrammar() throws {
        let token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
        let quoted = #""(?:[\t !#-\[\]-~]|\\[\t -~])*""#
        let grammar = try Regex("^(?:[ \\t]*;[ \\t]*\(token)(?:[ \\t]*=[ \\t]*(?:\(token)|\(quoted)))?)*$")
        var generator = SplitMix(seed: 0xC4E7)
        func pick(_ options: [String]) -> String { options[Int(generator.next() % UInt64(options.count))] }
        var accepted = 0, refused = 0
        for round in 0..<20_000 {
            var text = ""
            for _ in 0..<Int(generator.next() % 3 + 1) {
                text += pick(["", " ", "\t "]) + ";" + pick(["", " "]) + pick(["a", "name", "x-y", "!#$%&'*+.^_`|~"])
                switch generator.next() % 3 {
                case 0: break
                case 1: text += pick(["", " "]) + "=" + pick(["", "\t"]) + pick(["v", "1", "a.b"])
                default: text += "=" + pick([#""""#, #""q s""#, #""\"""#, #""a\\b;c=d""#, "\"\u{80}\""])
                }
            }
            text.removeFirst(text.prefix { $0 == " " || $0 == "\t" }.count)
            var bytes = Array(text.utf8)
            if round % 2 == 1 {
                let edits = Array(" \t;=\"\\a\u{1}\u{7F},".utf8)
                let at = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[at] = edits[Int(generator.next() % UInt64(edits.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(edits[Int(generator.next() % UInt64(edits.count))], at: at)
                }
                guard bytes.first == UInt8(ascii: ";"), bytes.allSatisfy({ $0 < 0x80 }) else { continue }
            }
            let expected = round % 2 == 0 || (try? grammar.wholeMatch(in: String(decoding: bytes, as: UTF8.self))) != nil
            let found = bytes.withUnsafeBufferPointer { HTTPStreamParser.isChunkExtension($0) }
            #expect(found == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if found != expected { return }
            if found { accepted += 1 } else { refused += 1 }
        }
        #expect(accepted > 1000 && refused > 1000, "\(accepted) accepted, \(refused) refused")
    }

    @Test func connectionOptionsAreReadAsTokens() {
        func options(_ value: String) -> (Bool, Bool) {
            var counts = HTTPStreamParser.FieldCounts()
            Array(value.utf8).withUnsafeBufferPointer { HTTPStreamParser.readConnectionOptions($0, into: &counts) }
            return (counts.closes, counts.keepsAlive)
        }
        #expect(options("close") == (true, false))
        #expect(options(" Keep-Alive ,\tCLOSE") == (true, true))
        #expect(options("keep-alive") == (false, true))
        #expect(options("closed, x-close, close-ish, upgrade") == (false, false))
        #expect(options("") == (false, false))
        #expect(options(",,") == (false, false))
    }

    /// Fuzzed client bytes answered by a server as lenient as the demo's:
    /// on every stream it answers, in any split, the tap records exactly
    /// one call per response (`apimetrics-fuzz` runs millions).
    @Test func fuzzedStreamsAnsweredByALenientServerGiveOneCallPerResponse() async {
        let harness = WireHarness(bodyLimit: 64)
        var generator = SplitMix(seed: 0xF1D9)
        var answered = 0
        // apimetrics-fuzz runs the same check on 20,000 streams in CI.
        for iteration in 0..<3_000 {
            if iteration % 10 == 0 { await Task.yield() }
            let input = fuzzClientBytes(using: &generator)
            guard let stream = answerAsLenientServer(input, readsAhead: generator.next() % 2 == 0) else { continue }
            answered += 1
            let lines = harness.play(stream.steps, split: .random(generator.next()))
            if lines.count != stream.responses {
                Issue.record(
                    "stream \(iteration): \(stream.responses) responses, \(lines.count) calls: \(lines)\n\(stream.steps)")
                return
            }
        }
        #expect(answered > 2_000)
    }
}
