// TEMPORARY until the YAML reader lands.
struct YAMLReader {
    struct Failure: Error, Equatable, CustomStringConvertible { var line: Int; var column: Int; var reason: String
        var description: String { "line \(line), column \(column): \(reason)" } }
    static let maxBytes = 16 << 20
    static let maxDepth = 64
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue { throw Failure(line: 1, column: 1, reason: "stub") }
}
