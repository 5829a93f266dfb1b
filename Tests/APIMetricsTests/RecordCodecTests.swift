import Foundation
import Testing
import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics

/// The give-up seam's binary form: every field read back exactly, and torn
/// or corrupted input refused with an error, never a crash.
@Suite("Undelivered batch serialization")
struct RecordCodecTests {
    /// Text with what trips codecs: empty, multi-byte, combining marks,
    /// NUL and control characters, long runs.
    private static let samples = [
        "", "a", "GET", "/orders/{id}", "é", "日本語", "e\u{301}", "\0", "\r\n", "🇫🇷", String(repeating: "x", count: 300),
    ]

    private static func text(_ random: inout SplitMix) -> String {
        (0..<Int(random.next() % 3)).map { _ in samples[Int(random.next() % UInt64(samples.count))] }.joined()
    }

    private static func bytes(_ random: inout SplitMix, max: Int = 64) -> [UInt8] {
        (0..<Int(random.next() % UInt64(max + 1))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    private static func optional<Value>(_ random: inout SplitMix, _ make: (inout SplitMix) -> Value) -> Value? {
        random.next() % 2 == 0 ? nil : make(&random)
    }

    private static func error(_ random: inout SplitMix, depth: Int) -> RecordedError {
        RecordedError(
            type: text(&random), message: text(&random), location: optional(&random, text),
            causes: depth > 2 ? [] : (0..<Int(random.next() % 3)).map { _ in error(&random, depth: depth + 1) })
    }

    static func record(_ random: inout SplitMix) -> ExchangeRecord {
        var headers = HeaderFields()
        for _ in 0..<Int(random.next() % 5) {
            // Raw bytes, invalid UTF-8 included, as a tap may capture them.
            headers.append(nameBytes: bytes(&random, max: 12)[...], valueBytes: bytes(&random, max: 40)[...])
        }
        var record = ExchangeRecord(
            id: EventID(high: random.next(), low: random.next()),
            direction: random.next() % 2 == 0 ? .incoming : .outgoing,
            startTimeNanoseconds: Int64(bitPattern: random.next()),
            durationNanoseconds: Int64(bitPattern: random.next()),
            request: RequestHead(
                method: text(&random), target: text(&random), headers: headers,
                route: optional(&random, text), clientAddress: optional(&random, text)),
            requestBody: CapturedBody(
                bytes: bytes(&random), size: Int(random.next() % 1_000_000), isTruncated: random.next() % 2 == 0),
            response: optional(&random) { random in
                ResponseHead(status: Int(Int16(truncatingIfNeeded: random.next())), headers: ["Content-Type": text(&random)])
            },
            responseBody: CapturedBody(bytes: bytes(&random), size: Int(random.next() % 1_000_000)),
            consumer: optional(&random) { random in
                Consumer(
                    id: text(&random), name: optional(&random, text), group: optional(&random, text),
                    email: optional(&random, text), company: optional(&random, text), metadata: [text(&random): text(&random)])
            },
            errors: (0..<Int(random.next() % 3)).map { _ in error(&random, depth: 0) },
            traceID: optional(&random, text),
            parentID: optional(&random) { random in EventID(high: random.next(), low: random.next()) },
            metadata: Dictionary(
                (0..<Int(random.next() % 4)).map { _ in (text(&random), text(&random)) }, uniquingKeysWith: { a, _ in a }),
            weight: Double(bitPattern: random.next() | 1).isNaN ? 1 : Double(random.next() % 1000) / 7)
        record.sessionToken = optional(&random, text)
        record.request.protocolVersion = optional(&random, text)
        record.remoteParentSpanID = optional(&random) { $0.next() }
        return record
    }

    static func entity(_ random: inout SplitMix) -> EntityRecord {
        let profile: EntityRecord.Profile
        switch random.next() % 3 {
        case 0: profile = .consumer(Consumer(id: text(&random), email: optional(&random, text)))
        case 1:
            profile = .company(
                CompanyProfile(id: text(&random), domain: optional(&random, text), metadata: ["plan": text(&random)]))
        default:
            profile = .subscription(
                SubscriptionProfile(
                    id: text(&random), companyID: text(&random), status: optional(&random, text),
                    currentPeriodStartNanoseconds: optional(&random) { Int64(bitPattern: $0.next()) },
                    currentPeriodEndNanoseconds: optional(&random) { Int64(bitPattern: $0.next()) }))
        }
        return EntityRecord(profile: profile, timestampNanoseconds: Int64(bitPattern: random.next()))
    }

    static func batch(_ random: inout SplitMix) -> UndeliveredBatch {
        UndeliveredBatch(
            exporterName: text(&random),
            reason: [.retriesExhausted, .rejected, .shutdownDeadline][Int(random.next() % 3)],
            message: text(&random),
            identity: ServiceIdentity(
                service: text(&random), environment: text(&random), version: optional(&random, text),
                tags: [text(&random)], isDevelopment: random.next() % 2 == 0, instanceID: optional(&random, text)),
            records: (0..<Int(random.next() % 4)).map { _ in record(&random) },
            entities: (0..<Int(random.next() % 3)).map { _ in entity(&random) },
            alerts: (0..<Int(random.next() % 3)).map { _ in alert(&random) },
            abandonedAtNanoseconds: Int64(bitPattern: random.next()))
    }

    static func alert(_ random: inout SplitMix) -> AlertEvent {
        AlertEvent(
            rule: text(&random), state: random.next() % 2 == 0 ? .firing : .resolved,
            value: Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF),
            threshold: random.next() % 2 == 0 ? nil : Double(Int64(bitPattern: random.next()) % 1_000) / 7,
            scope: text(&random), instance: text(&random), timeNanoseconds: Int64(bitPattern: random.next()),
            firingSinceNanoseconds: Int64(bitPattern: random.next()), isRepeat: random.next() % 2 == 0, summary: text(&random))
    }

    /// Every field survives: the bytes read back write the same bytes, the
    /// schema-v1 lines are the same, and the values compare equal.
    @Test func generatedBatchesReadBackExactly() throws {
        var random = SplitMix(seed: 0xBA7C4)
        for iteration in 0..<400 {
            let batch = Self.batch(&random)
            let bytes = batch.serialized()
            let read = try UndeliveredBatch(serialized: bytes)
            let again = read.serialized()
            let differsAt = (0..<min(again.count, bytes.count)).first { again[$0] != bytes[$0] } ?? min(again.count, bytes.count)
            #expect(
                again == bytes,
                "iteration \(iteration): differs at byte \(differsAt) of \(bytes.count): \(Array(bytes[max(0, differsAt - 8)..<min(bytes.count, differsAt + 8)])) read back as \(Array(again[max(0, differsAt - 8)..<min(again.count, differsAt + 8)]))"
            )
            #expect(read.exporterName == batch.exporterName && read.reason == batch.reason && read.message == batch.message)
            #expect(read.identity == batch.identity && read.abandonedAtNanoseconds == batch.abandonedAtNanoseconds)
            #expect(read.alerts == batch.alerts, "iteration \(iteration)")
            let encoder = EventEncoder(identity: batch.identity)
            // As documents: a dictionary's members may be written in any order.
            func documents(_ lines: [[UInt8]]) -> [NSDictionary] { lines.compactMap { jsonObject($0) as NSDictionary? } }
            #expect(
                documents(read.records.map(encoder.encode)) == documents(batch.records.map(encoder.encode)),
                "iteration \(iteration)")
            #expect(
                documents(read.entities.map(encoder.encode)) == documents(batch.entities.map(encoder.encode)),
                "iteration \(iteration)")
            #expect(documents(batch.records.map(encoder.encode)).count == batch.records.count)
            // What the event leaves out but trace exporters read.
            #expect(read.records.map(\.request.protocolVersion) == batch.records.map(\.request.protocolVersion))
            #expect(read.records.map(\.remoteParentSpanID) == batch.records.map(\.remoteParentSpanID))
            for (left, right) in zip(read.records, batch.records) {
                #expect(left.request == right.request && left.response == right.response)
                #expect(left.requestBody == right.requestBody && left.responseBody == right.responseBody)
                #expect(left.consumer == right.consumer && left.errors == right.errors && left.metadata == right.metadata)
                #expect(left.id == right.id && left.parentID == right.parentID && left.traceID == right.traceID)
                #expect(
                    left.weight == right.weight && left.sessionToken == right.sessionToken && left.direction == right.direction)
                #expect(
                    left.startTimeNanoseconds == right.startTimeNanoseconds
                        && left.durationNanoseconds == right.durationNanoseconds)
            }
            if read.serialized() != bytes { return }
        }
    }

    /// A torn write: every proper prefix of a batch is refused with an error.
    @Test func everyTornPrefixIsRefused() {
        var random = SplitMix(seed: 0x7EA2)
        for _ in 0..<5 {
            let bytes = Self.batch(&random).serialized()
            for length in 0..<bytes.count {
                #expect(throws: UndeliveredBatch.FormatError.self, "prefix of \(length) of \(bytes.count)") {
                    try UndeliveredBatch(serialized: Array(bytes[..<length]))
                }
            }
            #expect(throws: UndeliveredBatch.FormatError.self) { try UndeliveredBatch(serialized: bytes + [0]) }
        }
    }

    /// Corrupted bytes (flipped, random, huge counts) are read or refused,
    /// never a trap, a hang or an allocation the size of a lie.
    @Test func corruptedInputNeverCrashes() {
        var random = SplitMix(seed: 0xC0FF)
        var refused = 0
        for _ in 0..<800 {
            var bytes = Self.batch(&random).serialized()
            for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            do { _ = try UndeliveredBatch(serialized: bytes) } catch { refused += 1 }
        }
        for _ in 0..<1_000 {
            let noise = Array("AMUB".utf8) + [1] + Self.bytes(&random, max: 200)
            do { _ = try UndeliveredBatch(serialized: noise) } catch { refused += 1 }
        }
        let lie = Array("AMUB".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(throws: UndeliveredBatch.FormatError.self) { try UndeliveredBatch(serialized: lie) }
        #expect(refused > 300)
    }

    @Test func anotherFormatOrVersionIsNamedInTheError() throws {
        let batch = UndeliveredBatch(
            exporterName: "file(x)", reason: .rejected, message: "", identity: ServiceIdentity(service: "s", environment: "e"),
            records: [], abandonedAtNanoseconds: 0)
        var bytes = batch.serialized()
        bytes[4] = 9
        do {
            _ = try UndeliveredBatch(serialized: bytes)
            Issue.record("version 9 was read")
        } catch {
            #expect(error.reason == "version 9 is not known" && error.offset == 5)
        }
        #expect(throws: UndeliveredBatch.FormatError.self) { try UndeliveredBatch(serialized: Array("{\"v\":1}".utf8)) }
    }
}
