import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

/// JSONPath on generated and hostile input: generated paths against a
/// reference written the way RFC 9535 reads, random bytes, long paths and
/// deep bodies.
@Suite("JSONPath generated input")
struct JSONPathGeneratedTests {
    private static let names = ["a", "b", "_x", "ü", "a1", "1", "&", "key with space", "'", "\"", "\\", "\n", "", "😀", "\u{7F}"]

    /// Where a node is: member positions, not names, so that duplicate
    /// names stay two nodes.
    private enum Place: Hashable {
        case member(Int)
        case element(Int)
    }

    /// RFC 9535 §2.5 on the subset, segment by segment: the nodes each
    /// segment's selector picks from its input nodes (and, for `..`, from
    /// everything below them), kept as a set of locations.
    private func locations(of segments: [JSONPath.Segment], in document: JSONValue) -> Set<[Place]> {
        var nodes: [[Place]: JSONValue] = [[]: document]
        for segment in segments {
            var next: [[Place]: JSONValue] = [:]
            for (location, node) in nodes {
                let (selector, contexts): (JSONPath.Selector, [([Place], JSONValue)])
                switch segment {
                case let .child(own): (selector, contexts) = (own, [(location, node)])
                case let .descendant(own): (selector, contexts) = (own, [(location, node)] + descendants(of: node, at: location))
                }
                for (contextLocation, context) in contexts {
                    for (place, child) in children(of: context) where picks(selector, place, in: context) {
                        next[contextLocation + [place]] = child
                    }
                }
            }
            nodes = next
        }
        return Set(nodes.keys)
    }

    private func children(of node: JSONValue) -> [(Place, JSONValue)] {
        switch node {
        case let .object(members): members.enumerated().map { (.member($0.offset), $0.element.value) }
        case let .array(elements): elements.enumerated().map { (.element($0.offset), $0.element) }
        default: []
        }
    }

    private func descendants(of node: JSONValue, at location: [Place]) -> [([Place], JSONValue)] {
        children(of: node).flatMap { place, child in
            [(location + [place], child)] + descendants(of: child, at: location + [place])
        }
    }

    private func picks(_ selector: JSONPath.Selector, _ place: Place, in parent: JSONValue) -> Bool {
        switch (selector, place, parent) {
        case (.wildcard, _, _): return true
        case let (.name(name), .member(position), .object(members)): return members[position].key == name
        case let (.index(index), .element(position), .array(elements)):
            return index == position || index < 0 && elements.count + index == position
        default: return false
        }
    }

    private func replacing(_ location: ArraySlice<Place>, in value: JSONValue, with replacement: JSONValue) -> JSONValue {
        guard let place = location.first else { return replacement }
        switch (place, value) {
        case (let .member(position), var .object(members)):
            members[position].value = replacing(location.dropFirst(), in: members[position].value, with: replacement)
            return .object(members)
        case (let .element(position), var .array(elements)):
            elements[position] = replacing(location.dropFirst(), in: elements[position], with: replacement)
            return .array(elements)
        default:
            Issue.record("a location that is not in the document")
            return value
        }
    }

    private func document(_ generator: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        let kinds = depth == 0 ? 2..<6 : 0..<(depth >= 4 ? 2 : 6)
        switch Int.random(in: kinds, using: &generator) {
        case 0: return .number(String(Int.random(in: 0...99, using: &generator)))
        case 1: return .string("v")
        case 2, 3:
            return .object(
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    JSONValue.Member(Self.names.randomElement(using: &generator) ?? "a", document(&generator, depth: depth + 1))
                })
        default:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in document(&generator, depth: depth + 1) })
        }
    }

    private func segments(_ generator: inout SeededGenerator) -> [JSONPath.Segment] {
        (0..<Int.random(in: 1...3, using: &generator)).map { _ in
            let selector: JSONPath.Selector =
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: .name(Self.names.randomElement(using: &generator) ?? "a")
                case 1: .name(Bool.random(using: &generator) ? "a" : "b")
                case 2: .index([0, 1, 2, -1, -2, 5].randomElement(using: &generator) ?? 0)
                default: .wildcard
                }
            return Bool.random(using: &generator) ? .child(selector) : .descendant(selector)
        }
    }

    /// One way, chosen at random, of writing the segments as RFC 9535 allows.
    private func render(_ segments: [JSONPath.Segment], _ generator: inout SeededGenerator) -> String {
        func blank() -> String {
            String(
                (0..<Int.random(in: 0...2, using: &generator)).map { _ in
                    [" ", "\t", "\n", "\r"].randomElement(using: &generator) ?? " "
                })
        }
        var text = "$"
        for segment in segments {
            text += blank()
            let (dots, selector): (String, JSONPath.Selector) =
                switch segment {
                case let .child(own): (".", own)
                case let .descendant(own): ("..", own)
                }
            let shorthand = Bool.random(using: &generator)
            switch selector {
            case .wildcard where shorthand: text += dots + "*"
            case let .name(name) where shorthand && isShorthandName(name): text += dots + name
            default:
                let inside =
                    switch selector {
                    case .wildcard: "*"
                    case let .index(index): String(index)
                    case let .name(name): quoted(name, &generator)
                    }
                text += (dots == ".." ? ".." : "") + "[" + blank() + inside + blank() + "]"
            }
        }
        return text
    }

    private func isShorthandName(_ name: String) -> Bool {
        func isFirst(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar.value >= 0x80
        }
        guard let first = name.unicodeScalars.first, isFirst(first) else { return false }
        return name.unicodeScalars.allSatisfy { isFirst($0) || ("0"..."9").contains($0) }
    }

    private func quoted(_ name: String, _ generator: inout SeededGenerator) -> String {
        let quote: Unicode.Scalar = Bool.random(using: &generator) ? "'" : "\""
        var text = String(quote)
        for scalar in name.unicodeScalars {
            func hex(_ value: UInt32) -> String {
                let digits = String(value, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            }
            if scalar == quote || scalar == "\\" {
                text += "\\" + String(scalar)
            } else if scalar.value < 0x20 || Bool.random(using: &generator) && scalar.value >= 0x80 {
                if scalar.value > 0xFFFF {
                    let offset = scalar.value - 0x10000
                    text += hex(0xD800 + (offset >> 10)) + hex(0xDC00 + (offset & 0x3FF))
                } else {
                    text += hex(scalar.value)
                }
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text + String(quote)
    }

    /// Generated paths parse back to what was generated, and redact exactly
    /// the reference's nodes.
    @Test func generatedPathsRedactWhatTheRFCSelects() throws {
        var selectedSomething = 0
        for seed in UInt64(1)...1500 {
            var generator = SeededGenerator(seed: seed)
            let body = document(&generator)
            let expectedSegments = segments(&generator)
            let text = render(expectedSegments, &generator)
            let path = try JSONPath(text)
            #expect(path.segments == expectedSegments, "seed \(seed): \(text.debugDescription)")
            let found = locations(of: expectedSegments, in: body)
            selectedSomething += found.isEmpty ? 0 : 1
            var expected = body
            for location in found.sorted(by: { $0.count > $1.count }) {
                expected = replacing(location[...], in: expected, with: .string("\u{1}R"))
            }
            #expect(path.redact(body, with: .string("\u{1}R")) == expected, "seed \(seed): \(text.debugDescription)")
        }
        #expect(selectedSomething > 150, "\(selectedSomething)")
    }

    /// Random byte strings (mostly pieces of paths) never crash
    /// the parser; each is refused with the path named, or it parses and
    /// redacts a body.
    @Test func randomBytesAreRefusedOrParsedNeverACrash() throws {
        let alphabet = Array("$$..[]*'\"\\u0D8-1_a ?:,\t\n".utf8)
        let tokens = [
            ".a", "..", "[0]", "[-1]", "['a']", "[\"\\u00e9\"]", "*", " ", "[", "]", ".b", "..*", "[*]", "9007199254740991", "-",
            "0",
        ]
        let body = try JSONParser.parse(Array(#"{"a":[1,{"b":2,"_":[3]}],"-":{"a":null}}"#.utf8))
        var accepted = 0
        for seed in UInt64(1)...4000 {
            var generator = SeededGenerator(seed: seed)
            var bytes: [UInt8] = seed % 2 == 0 ? [UInt8(ascii: "$")] : []
            for _ in 0..<Int.random(in: 0...24, using: &generator) {
                switch Int.random(in: 0..<8, using: &generator) {
                case 0: bytes.append(UInt8.random(in: 0...255, using: &generator))
                case 1...3: bytes.append(alphabet.randomElement(using: &generator) ?? 0)
                default: bytes += (tokens.randomElement(using: &generator) ?? "").utf8
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                _ = try JSONPath(text).redact(body, with: .string("R"))
                accepted += 1
            } catch {
                #expect(error.reason.hasPrefix("invalid JSONPath \"\(text)\": "), "seed \(seed)")
            }
        }
        #expect(accepted > 20, "\(accepted)")
    }

    /// Paths are bounded by length; within the bound, a deep path over a
    /// deep body costs nodes × segments, never one visit per way a node can
    /// be reached (`..a` forty times over sixty levels would be ~10^17).
    @Test func longPathsAndDeepBodiesAreBounded() throws {
        let longest = "$" + String(repeating: ".a", count: (JSONPath.maxLength - 1) / 2)
        #expect(try JSONPath(longest).segments.count == (JSONPath.maxLength - 1) / 2)
        for text in [longest + ".a", "$" + String(repeating: "[0]", count: 100_000)] {
            #expect {
                _ = try JSONPath(text)
            } throws: { error in
                (error as? ConfigurationError)?.reason.contains("longer than \(JSONPath.maxLength) characters") == true
            }
        }
        let depth = 60
        let body = try JSONParser.parse(
            Array((String(repeating: #"{"a":"#, count: depth) + "0" + String(repeating: "}", count: depth)).utf8))
        let redacted = try JSONPath("$" + String(repeating: "..a", count: 40)).redact(body, with: .string("R"))
        // Every `a` at depth 40 or more is selected; the shallowest hides the rest.
        let expected = String(repeating: #"{"a":"#, count: 40) + #""R""# + String(repeating: "}", count: 40)
        #expect(String(decoding: redacted.serialized, as: UTF8.self) == expected)
        let all = try JSONPath("$..*..*..*").redact(body, with: .string("R"))
        #expect(
            String(decoding: all.serialized, as: UTF8.self) == String(repeating: #"{"a":"#, count: 3) + #""R""#
                + String(repeating: "}", count: 3))
    }
}
