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
