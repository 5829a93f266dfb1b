import APIMetricsTestSupport
@testable import APIMetrics

/// Generates random JSON documents: nested objects and arrays, strings
/// with escapes and non-ASCII text, numbers in every form.
struct JSONGenerator {
    var generator: SeededGenerator

    /// A generator named by the test that makes it (its seed is written with that name).
    init(_ test: String = #function, file: String = #fileID) {
        generator = .replayable(test, file: file)
    }
    let keys = ["a", "b", "password", "Token", "id", "items", "card_number", "name", "key with space", "ünï", "e\"q", ""]

    mutating func value(depth: Int = 0) -> JSONValue {
        let choice = Int.random(in: 0..<(depth > 5 ? 4 : 7), using: &generator)
        switch choice {
        case 0: return .string(string())
        case 1:
            return .number(
                ["0", "-1", "3.25", "1e10", "-0.5E-3", "12345678901234567890"].randomElement(using: &generator) ?? "0")
        case 2: return .bool(Bool.random(using: &generator))
        case 3: return .null
        case 4, 5:
            let count = Int.random(in: 0...4, using: &generator)
            return .object(
                (0..<count).map { _ in JSONValue.Member(keys.randomElement(using: &generator) ?? "a", value(depth: depth + 1)) })
        default:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth: depth + 1) })
        }
    }

    mutating func string() -> String {
        let pool = Array("ab \"\\\n\té😀\u{0}\u{1F}/".unicodeScalars)
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &generator) {
            text.unicodeScalars.append(pool.randomElement(using: &generator) ?? "a")
        }
        return text
    }

    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard !bytes.isEmpty else { return [UInt8.random(in: 0...255, using: &generator)] }
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.remove(at: index)
            default: bytes.insert(Array("{}[],:\"\\".utf8).randomElement(using: &generator) ?? 0, at: index)
            }
        }
        return bytes
    }
}
