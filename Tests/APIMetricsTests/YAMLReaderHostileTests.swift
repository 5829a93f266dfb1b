import Testing
@testable import APIMetrics

/// Input written to hurt: each fails with a place and a reason, or reads in
/// bounded work; none crashes.
@Suite("YAMLReader: hostile input")
struct YAMLReaderHostileTests {
    @Test func billionLaughsFailsOnItsExpansion() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let failure = try #require(yamlFailure(text))
        #expect(failure.reason.contains("aliases expand the document by more than 1000000 nodes"))
        #expect(failure.line >= 5 && failure.line <= 10)
    }

    @Test func tooManyAliasesFail() throws {
        let text = "a: &a x\nb: [" + Array(repeating: "*a", count: YAMLReader.maxAliases + 1).joined(separator: ",") + "]\n"
        let failure = try #require(yamlFailure(text))
        #expect(failure.line == 2 && failure.reason.contains("more than 10000 aliases"))
    }

    @Test func deepFlowNestingFailsAtTheLimit() throws {
        let failure = try #require(yamlFailure(String(repeating: "[", count: 100_000)))
        #expect(failure.line == 1 && failure.column == 65)
        #expect(failure.reason.contains("nested more than 64"))
        let mixed = try #require(yamlFailure(String(repeating: "{a: [", count: 50_000)))
        #expect(mixed.reason.contains("nested more than 64"))
    }

    @Test func deepBlockNestingFailsAtTheLimit() throws {
        let dashes = try #require(yamlFailure(String(repeating: "- ", count: 100_000) + "x\n"))
        #expect(dashes.line == 1 && dashes.column == 129 && dashes.reason.contains("nested more than 64"))
        var keys = ""
        for depth in 0..<1_000 { keys += String(repeating: " ", count: depth) + "k:\n" }
        let indented = try #require(yamlFailure(keys))
        #expect(indented.line == 65 && indented.column == 65 && indented.reason.contains("nested more than 64"), "\(indented)")
        // At the limit it still reads.
        #expect(throws: Never.self) {
            try YAMLReader.parse(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8))
        }
    }

    @Test func aTenMegabyteLineReadsOrFailsAtItsStart() throws {
        let long = String(repeating: "abc def ", count: 10 << 17)
        #expect(try readYAML("k: " + long + "\n") == .object([.init("k", .string(String(long.dropLast())))]))
        let numbers = "[" + String(repeating: "1,", count: 1 << 18) + "1]"
        guard case let .array(items) = try readYAML(numbers) else {
            Issue.record("not an array")
            return
        }
        #expect(items.count == (1 << 18) + 1)
        let unterminated = try #require(yamlFailure("k: x\nv: \"" + long))
        #expect(unterminated.line == 2 && unterminated.column == 4 && unterminated.reason.contains("not closed"))
    }

    @Test func moreThanMaxBytesFails() throws {
        let failure = try #require(yamlFailure([UInt8](repeating: UInt8(ascii: "a"), count: YAMLReader.maxBytes + 1)))
        #expect(failure.line == 1 && failure.column == 1 && failure.reason.contains("16777217 bytes"))
    }

    @Test func aTabInIndentationFails() throws {
        let failure = try #require(yamlFailure("a:\n  b: 1\n\tc: 2\n"))
        #expect(failure.line == 3 && failure.column == 1 && failure.reason.contains("tab"))
        let sequence = try #require(yamlFailure("a:\n \t- 1\n"))
        #expect(sequence.line == 2 && sequence.column == 2 && sequence.reason.contains("tab"))
        // A tab separating a value from its key is not indentation.
        #expect(
            try readYAML("a:\t1\nb: [1,\t2]\n")
                == .object([.init("a", .number("1")), .init("b", .array([.number("1"), .number("2")]))]))
    }

    @Test(
        arguments: [
            ("a: \"abc\n", 1, 4, "not closed"),
            ("a: 'abc\n\n", 1, 4, "not closed"),
            ("a:\n  - [1, 2\n", 2, 5, "not closed"),
            ("a: {x: 1,\n  y: 2\n", 1, 4, "not closed"),
            ("[1, 2 3", 1, 1, "not closed"),
            ("{a: 1 b: 2}", 1, 8, "expected ','"),
            ("a: 1\nb\nc: 2\n", 2, 1, "expected a mapping key"),
            ("a: 1\n  b: 2\n", 2, 4, "continues the value above"),
            ("a: b: c\n", 1, 4, "same line"),
            (": x\n", 1, 1, "key is missing"),
            ("a:\n  b: 1\n   c: 2\n", 3, 5, "holds ': '"),
            ("a:\n  b:\n    c: 1\n   d: 2\n", 4, 4, "indented more"),
            ("- a\nb: 1\n", 2, 1, "expected a sequence entry"),
            ("a: \"\\q\"\n", 1, 5, "unknown escape"),
            ("a: @x\n", 1, 4, "reserved"),
            ("a: |0\n  x\n", 1, 5, "1 to 9"),
            ("a: \"x\"#c\n", 1, 7, "space before '#'"),
            ("a: x\n---\n", 2, 1, "second document"),
            ("a: [x,\n---\n]\n", 2, 1, "document marker"),
            ("key:\n- x: [1,\n2]\n", 3, 1, "indented more than column 3"),
            ("a: &x\n  - *y\n", 2, 5, "*y"),
            ("a: 0x" + String(repeating: "F", count: 1_001) + "\n", 1, 4, "more than 1000 digits"),
        ] as [(String, Int, Int, String)])
    func malformedDocumentsFailWithAPlaceAndAReason(_ text: String, _ line: Int, _ column: Int, _ reason: String) throws {
        let failure = try #require(yamlFailure(text), "\(text)")
        #expect(failure.line == line && failure.column == column && failure.reason.contains(reason), "\(text): \(failure)")
    }

    @Test(
        arguments: [
            ([0x61, 0x3A, 0x20, 0xFF], 4, "0xFF"),
            ([0x61, 0x3A, 0x20, 0xC3, 0xA9, 0xC0, 0x80], 5, "0xC0"),
            ([0x61, 0x3A, 0x20, 0xED, 0xA0, 0x80], 4, "0xED"),
            ([0x61, 0x3A, 0x20, 0xE2, 0x82], 4, "0xE2"),
            ([0x61, 0x3A, 0x20, 0x01], 4, "U+0001"),
            ([0x61, 0x3A, 0x20, 0x7F], 4, "U+007F"),
            ([0x61, 0x3A, 0x20, 0xC2, 0x80], 4, "U+0080"),
        ] as [([UInt8], Int, String)])
    func invalidTextFails(_ bytes: [UInt8], _ column: Int, _ reason: String) throws {
        let failure = try #require(yamlFailure(bytes))
        #expect(failure.line == 1 && failure.column == column && failure.reason.contains(reason), "\(failure)")
    }

    /// Documents of the corpus with bytes changed, inserted and removed: each
    /// reads or fails at a place inside the text.
    @Test func mutatedDocumentsNeverCrash() {
        var random = YAMLMutationRandom(seed: 28)
        let alphabet = Array("-?:,[]{}#&*!|>'\"%@` \t\n\\ab1.~é".utf8)
        let corpus = YAMLReaderCorpusTests.cases
        var failures = 0
        for round in 0..<3_000 {
            var bytes = Array(corpus[round % corpus.count].yaml.utf8)
            for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                let at = Int(random.next() % UInt64(bytes.count))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            if let failure = yamlFailure(bytes) {
                failures += 1
                let lines = bytes.count { $0 == 0x0A } + 1
                #expect(
                    failure.line >= 1 && failure.line <= lines && failure.column >= 1 && !failure.reason.isEmpty, "\(failure)")
            }
        }
        #expect(failures > 300)
    }
}

/// A small deterministic generator, so a failing round can be replayed.
struct YAMLMutationRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
