import Foundation
import Synchronization

/// Reads typed values from environment variables, naming the variable and
/// the value in every error.
struct EnvironmentReader {
    let environment: [String: String]
    /// Every name the reader is asked for, when a caller keeps them (the
    /// test that holds the configuration reference to what is read).
    var asked: AskedNames?

    /// The value as set, untrimmed; `nil` when unset.
    func raw(_ name: String) -> String? {
        asked?.note(name)
        return environment[name]
    }

    /// The value, trimmed; `nil` when unset or blank.
    func string(_ name: String) -> String? {
        guard let raw = raw(name) else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    func line(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = string(name) else { return nil }
        guard !value.contains(where: \.isNewline) else {
            throw ConfigurationError(field: name, reason: "must be a single line")
        }
        return value
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = string(name) else { return nil }
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            throw ConfigurationError(field: name, reason: "expected true or false, got \"\(value)\"")
        }
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = string(name) else { return nil }
        guard let number = Int(value.replacingOccurrences(of: "_", with: "")) else {
            throw ConfigurationError(field: name, reason: "expected a whole number, got \"\(value)\"")
        }
        guard range.contains(number) else {
            let upper = range.upperBound == .max ? "" : " to \(range.upperBound)"
            throw ConfigurationError(field: name, reason: "must be from \(range.lowerBound)\(upper), got \(number)")
        }
        return number
    }

    /// A comma-separated list, or a JSON array of strings when the value
    /// starts with `[`; blank entries are left out.
    func list(_ name: String) throws(ConfigurationError) -> [String]? {
        guard let value = string(name) else { return nil }
        if value.hasPrefix("[") {
            guard let data = value.data(using: .utf8),
                let array = (try? JSONSerialization.jsonObject(with: data)) as? [String]
            else {
                throw ConfigurationError(field: name, reason: "starts with [ but is not a JSON array of strings")
            }
            return array.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// The names an ``EnvironmentReader`` was asked for.
final class AskedNames: Sendable {
    private let names = Mutex<Set<String>>([])

    func note(_ name: String) { names.withLock { _ = $0.insert(name) } }

    /// Every name asked for so far.
    var all: Set<String> { names.withLock { $0 } }
}
