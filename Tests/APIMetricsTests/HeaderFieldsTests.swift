import Testing
import WireFuzzing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Header fields")
struct HeaderFieldsTests {
    @Test func lookupsIgnoreCaseAndKeepOrder() {
        var headers: HeaderFields = ["Content-Type": "a", "X-Multi": "1"]
        headers.append(name: "x-MULTI", value: "2")
        #expect(headers["content-type"] == "a")
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers.values(for: "X-multi") == ["1", "2"])
        #expect(headers.fields.map(\.name) == ["Content-Type", "X-Multi", "x-MULTI"])
        headers.replaceOrAppend(name: "x-multi", value: "3")
        #expect(headers.fields.map(\.value) == ["a", "3"])
        headers.remove(name: "CONTENT-type")
        #expect(headers.count == 1)
        #expect(headers["missing"] == nil)
    }

    @Test func aFrameworksOwnFieldsAreReadInPlaceAndInOrder() {
        struct FrameworkField { var name: String; var value: String }
        let framework = [
            FrameworkField(name: "Host", value: "api.example"), FrameworkField(name: "X-A", value: "1"),
            FrameworkField(name: "x-a", value: "2"), FrameworkField(name: "Empty", value: ""),
        ]
        let headers = HeaderFields(framework, name: \.name, value: \.value)
        #expect(headers == HeaderFields(framework.map { ($0.name, $0.value) }))
        #expect(headers.values(for: "X-A") == ["1", "2"])
        #expect(headers["host"] == "api.example" && headers["empty"] == "")
        #expect(HeaderFields([FrameworkField](), name: \.name, value: \.value).isEmpty)
    }

    @Test func nameComparisonMatchesLowercasingOnGeneratedNames() {
        var generator = SeededGenerator.replayable()
        let alphabet = Array("aAzZ-_09é[`@{".unicodeScalars)
        for _ in 0..<2000 {
            func make() -> String {
                var text = ""
                for _ in 0..<Int.random(in: 0...6, using: &generator) {
                    text.unicodeScalars.append(alphabet.randomElement(using: &generator) ?? "a")
                }
                return text
            }
            let a = make(), b = make()
            let asciiLowered = { (s: String) in String(decoding: s.utf8.map(ASCII.lowercased), as: UTF8.self) }
            #expect(HeaderFields.namesEqual(a, b) == (asciiLowered(a) == asciiLowered(b)))
        }
    }

    @Test func consumersAreTrimmedAndCut() {
        #expect(Consumer(id: "   ").normalized() == nil)
        #expect(
            Consumer(id: " a ", name: " ", group: String(repeating: "g", count: 100)).normalized()
                == Consumer(id: "a", name: nil, group: String(repeating: "g", count: 64)))
    }

    /// The clean-value shortcut of a consumer's fields against trimming and
    /// cutting by characters, on generated values around the limit: white
    /// space of every kind at either end (ASCII, no-break, ideographic, CR
    /// LF), combining marks, emoji, letters outside ASCII.
    @Test func theCleanValueShortcutAgreesWithTrimmingByCharacters() {
        let pieces = [
            "a", "Z", "0", "-", " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{A0}", "\u{3000}", "\u{85}",
            "\u{301}", "\u{E9}", "e\u{301}", "\u{1F600}", "\u{1F469}\u{200D}\u{1F4BB}", "\u{600}", "x",
        ]
        var generator = SplitMix(seed: 0xC0DE)
        var shortcuts = 0
        for round in 0..<20_000 {
            let limit = [1, 2, 3, 8, 64][round % 5]
            var value = ""
            for _ in 0..<Int(generator.next() % 12) { value += pieces[Int(generator.next() % UInt64(pieces.count))] }
            let trimmed = Consumer.trimmed(value)
            let expected = trimmed.isEmpty ? nil : String(trimmed.prefix(limit))
            #expect(Consumer.cut(value, limit, bytes: .max) == expected, "\(Array(value.unicodeScalars)) at \(limit)")
            if let first = value.utf8.first, first < 0x80, first > 0x20, value.utf8.count <= limit { shortcuts += 1 }
        }
        // Enough values must take the shortcut for the comparison to mean something.
        #expect(shortcuts > 1000)
    }
}
