import APIMetricsTestSupport
import Testing
@testable import APIMetrics

/// The wire format against the examples of the protocol buffers encoding
/// guide (protobuf.dev/programming-guides/encoding), then generated values.
@Suite("Protobuf writer")
struct ProtobufWriterTests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(
            separator: " ")
    }

    @Test func theEncodingGuidesExamples() {
        var varint = ProtobufWriter()
        varint.uint64(1, 150)
        #expect(hex(varint.bytes) == "08 96 01")

        var string = ProtobufWriter()
        string.string(2, "testing")
        #expect(hex(string.bytes) == "12 07 74 65 73 74 69 6e 67")

        var nested = ProtobufWriter()
        nested.message(3) { $0.uint64(1, 150) }
        #expect(hex(nested.bytes) == "1a 03 08 96 01")

        var packed = ProtobufWriter()
        packed.packedUInt64(6, [3, 270, 86_942])
        #expect(hex(packed.bytes) == "32 06 03 8e 02 9e a7 05")

        var negative = ProtobufWriter()
        negative.int64(1, -2)
        #expect(hex(negative.bytes) == "08 fe ff ff ff ff ff ff ff ff 01")
    }

    @Test func fixedWidthFieldsAreLittleEndian() {
        var writer = ProtobufWriter()
        writer.fixed64(7, 0x0102_0304_0506_0708)
        writer.double(4, 1.5)
        writer.fixed32(2, 0x0A0B_0C0D)
        #expect(hex(writer.bytes) == "39 08 07 06 05 04 03 02 01 21 00 00 00 00 00 00 f8 3f 15 0d 0c 0b 0a")
    }

    @Test func defaultsAreSkippedButEmptyMessagesAreWritten() {
        var writer = ProtobufWriter()
        writer.uint64(1, 0)
        writer.int64(2, 0)
        writer.string(3, "")
        writer.bool(4, false)
        writer.bytes(5, [UInt8]())
        writer.double(6, 0)
        #expect(writer.bytes.isEmpty)
        writer.message(1) { _ in }
        writer.bool(2, true)
        writer.presentString(3, "")
        #expect(hex(writer.bytes) == "0a 00 10 01 1a 00")
    }

    @Test func varintsOfEveryLengthRoundTrip() {
        var values: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, UInt64(UInt32.max), .max]
        var generator = SeededGenerator.replayable()
        for bits in 1...64 {
            values.append(UInt64.random(in: 0...(bits == 64 ? .max : (1 << UInt64(bits)) - 1), using: &generator))
        }
        for value in values {
            var writer = ProtobufWriter()
            writer.varint(value)
            #expect(writer.bytes.count == ProtobufWriter.varintSize(value))
            var decoded: UInt64 = 0
            for (index, byte) in writer.bytes.enumerated() {
                decoded |= UInt64(byte & 0x7F) << UInt64(7 * index)
                #expect((byte & 0x80 != 0) == (index < writer.bytes.count - 1))
            }
            #expect(decoded == value)
        }
    }

    @Test func nestedMessagesOfAnyLengthGetTheirLengthInFront() {
        // Lengths around each varint boundary, nested two deep: the body
        // moves along when its length needs more than the byte kept for it.
        for length in [0, 1, 126, 127, 128, 129, 16_383, 16_384, 70_000] {
            let text = String(repeating: "x", count: length)
            var writer = ProtobufWriter()
            writer.message(1) { outer in
                outer.message(2) { inner in inner.string(3, text) }
                outer.uint64(4, 9)
            }
            var expected: [UInt8] = []
            func varint(_ value: Int) -> [UInt8] {
                var value = UInt64(value), out: [UInt8] = []
                while value >= 0x80 { out.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
                return out + [UInt8(value)]
            }
            let stringField = length == 0 ? [] : [0x1A] + varint(length) + Array(text.utf8)
            let innerField = [0x12] + varint(stringField.count) + stringField
            let outerBody = innerField + [0x20, 0x09]
            expected = [0x0A] + varint(outerBody.count) + outerBody
            #expect(writer.bytes == expected, "length \(length)")
        }
    }
}
