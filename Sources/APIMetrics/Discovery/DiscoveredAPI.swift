/// The discovered API read back from stores, for the `apimetrics openapi`
/// command: every store's operations merged (instances, restarts) into one
/// OpenAPI 3.1 document, as JSON or YAML.
package enum DiscoveredAPI {
    /// The document of the operations in `stores`, merged; `title` names the API.
    package static func openAPI(from stores: [StoreReader], title: String) throws(StoreReadError) -> [UInt8] {
        let merged = APIDiscovery(options: DiscoveryOptions(maxOperations: 100_000), identification: nil)
        for store in stores {
            merged.merge(stored: try store.apiOperations())
        }
        return OpenAPIDocument.render(
            merged.snapshot(), identity: ServiceIdentity(service: title, environment: "observed"), schemes: SecuritySchemes())
    }

    /// The comparison of the API learnt in `stores` (merged) with the spec
    /// at `spec`, and the findings the stores counted against that spec's
    /// version.
    package static func specReport(spec path: String, stores: [StoreReader]) throws(SpecReadError) -> SpecReport {
        let spec: OpenAPISpec
        do {
            spec = try OpenAPISpec.load(path: path)
        } catch {
            throw SpecReadError(path: path, reason: error.reason)
        }
        let merged = APIDiscovery(options: DiscoveryOptions(maxOperations: 100_000), identification: nil)
        var findings: [SpecConformance.FindingKey: SpecConformance.Finding] = [:]
        var others = 0
        for store in stores {
            do {
                merged.merge(stored: try store.apiOperations())
                let stored = try store.specFindings(digest: spec.digest)
                others += stored.others
                for finding in stored.findings {
                    if var existing = findings[finding.key] {
                        existing.count += finding.finding.count
                        existing.lastSeen = max(existing.lastSeen, finding.finding.lastSeen)
                        if finding.finding.firstSeen < existing.firstSeen {
                            existing.firstSeen = finding.finding.firstSeen
                            existing.example = finding.finding.example
                        }
                        findings[finding.key] = existing
                    } else {
                        findings[finding.key] = finding.finding
                    }
                }
            } catch {
                throw SpecReadError(path: error.path, reason: error.reason)
            }
        }
        var report = SpecReport(
            spec: spec, source: path, learnt: merged.snapshot().operations, called: [], totals: nil,
            findings: findings.map { SpecFinding(key: $0.key, finding: $0.value) }.sorted())
        report.otherFindings = others
        return report
    }

    /// A spec or a store that cannot be read, by path.
    package struct SpecReadError: Error, Sendable {
        package var path: String
        package var reason: String
    }

    /// The JSON document as YAML 1.2 (block style; strings and keys in
    /// double quotes, as JSON writes them, so that no value is read as
    /// another type); `nil` when the bytes are not JSON.
    package static func yaml(fromJSON bytes: [UInt8]) -> String? {
        // Deeper than the parser's default: stored shapes nest to 40 levels, each two deep in JSON Schema.
        guard let value = try? JSONParser.parse(bytes, maxDepth: 256) else { return nil }
        var text = ""
        YAMLText.write(value, indent: 0, into: &text, afterKey: false)
        return text
    }
}

/// Writes a ``JSONValue`` as block-style YAML.
enum YAMLText {
    static func write(_ value: JSONValue, indent: Int, into text: inout String, afterKey: Bool) {
        let padding = String(repeating: "  ", count: indent)
        switch value {
        case let .object(members) where !members.isEmpty:
            if afterKey { text += "\n" }
            for member in members {
                text += padding + quoted(member.key) + ":"
                write(member.value, indent: indent + 1, into: &text, afterKey: true)
            }
        case let .array(elements) where !elements.isEmpty:
            if afterKey { text += "\n" }
            for element in elements {
                text += padding + "-"
                switch element {
                case let .object(members) where !members.isEmpty:
                    // The first member on the dash's line, the rest below it.
                    var first = true
                    for member in members {
                        text += (first ? " " : padding + "  ") + quoted(member.key) + ":"
                        write(member.value, indent: indent + 2, into: &text, afterKey: true)
                        first = false
                    }
                default:
                    write(element, indent: indent + 1, into: &text, afterKey: true)
                }
            }
        default:
            text += (afterKey ? " " : "") + scalar(value) + "\n"
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .object: "{}"
        case .array: "[]"
        case let .string(text): quoted(text)
        case let .number(text): text
        case let .bool(flag): flag ? "true" : "false"
        case .null: "null"
        }
    }

    /// A double-quoted YAML scalar: JSON's escapes are YAML's.
    private static func quoted(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
