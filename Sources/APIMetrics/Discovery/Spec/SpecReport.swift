/// The comparison of the API with a team's spec: what the learnt API has
/// that the spec does not say and the reverse (``SpecDiff``), and what
/// calls broke (``SpecConformance``'s findings); served as JSON at
/// `/_apimetrics/spec.json` and printed by `apimetrics openapi --diff`.
package struct SpecReport: Sendable {
    var source: String
    var title: String
    var version: String
    var digest: String
    var operations: Int
    var notes: [String]
    /// `nil` when read from a store (the running process's counts are not kept).
    var totals: SpecConformance.Totals?
    var differences: [SpecDiff.Entry]
    var findings: [SpecFinding]
    /// Findings stored against another version of the spec (another digest).
    var otherFindings = 0

    /// The most findings written.
    static let maxFindingsShown = 1_000

    init(
        spec: OpenAPISpec, source: String, learnt: [OperationShape], called: Set<Int>, totals: SpecConformance.Totals?,
        findings: [SpecFinding]
    ) {
        self.source = source
        title = spec.title
        version = spec.version
        digest = spec.digest
        operations = spec.operations.count
        notes = spec.notes
        self.totals = totals
        differences = SpecDiff.compare(spec, learnt: learnt, called: called)
        self.findings = findings
    }

    /// ``json()``, for the command line.
    package var jsonBytes: [UInt8] { json() }

    /// Whether the API and the spec agree: no difference, no finding.
    package var agrees: Bool { differences.isEmpty && findings.isEmpty }

    /// The JSON the view serves.
    func json() -> [UInt8] {
        var writer = JSONWriter(capacity: 4_096)
        writer.beginObject()
        writer.key("spec")
        writer.beginObject()
        writer.field("source", source)
        writer.field("title", title)
        writer.field("openapi", version)
        writer.field("digest", digest)
        writer.field("operations", operations)
        writer.key("notes")
        writer.beginArray()
        for note in notes { writer.string(note) }
        writer.endArray()
        writer.endObject()
        if let totals {
            writer.key("calls")
            writer.beginObject()
            for (name, value) in [
                ("checked", totals.checked), ("conforming", totals.conforming), ("violating", totals.violating),
                ("unmatched", totals.unmatched), ("dropped_findings", totals.droppedFindings), ("cut_short", totals.exhausted),
            ] {
                writer.key(escaping: name)
                writer.int(value)
            }
            writer.endObject()
        }
        writer.key("differences")
        writer.beginArray()
        for entry in differences {
            writer.beginObject()
            writer.field("kind", entry.kind.rawValue)
            writer.field("method", entry.method)
            writer.field("path", entry.path)
            writer.field("location", entry.location)
            writer.endObject()
        }
        writer.endArray()
        writer.key("findings")
        writer.beginArray()
        for finding in findings.prefix(Self.maxFindingsShown) {
            writer.beginObject()
            writer.field("method", finding.key.method)
            writer.field("path", finding.key.path)
            writer.field("rule", finding.key.rule)
            writer.field("location", finding.key.location)
            writer.field("count", finding.finding.count)
            writer.field("first_seen", timestamp: finding.finding.firstSeen)
            writer.field("last_seen", timestamp: finding.finding.lastSeen)
            writer.field("example_call", finding.finding.example)
            writer.endObject()
        }
        writer.endArray()
        writer.field("findings_total", findings.count)
        writer.endObject()
        return writer.bytes
    }

    /// The report as text, for a terminal or a CI log; values are never in it.
    package func text() -> String {
        var lines: [String] = []
        let name = title.isEmpty ? "" : "\(TextLine.clean(title)), "
        lines.append(
            "spec \(TextLine.clean(source)) (\(name)OpenAPI \(TextLine.clean(version)), \(operations) operations, digest \(digest))"
        )
        for note in notes { lines.append("  note: \(TextLine.clean(note))") }
        let groups: [(SpecDiff.Entry.Kind, String)] = [
            (.undocumentedOperation, "Called, not in the spec"),
            (.neverCalled, "In the spec, never called"),
            (.undocumentedStatus, "Statuses not in the spec"),
            (.undocumentedMediaType, "Media types not in the spec"),
            (.undocumentedParameter, "Query parameters not in the spec"),
            (.undocumentedField, "Body members not in the spec"),
        ]
        for (kind, heading) in groups {
            let entries = differences.filter { $0.kind == kind }
            guard !entries.isEmpty else { continue }
            lines.append("")
            lines.append("\(heading) (\(entries.count)):")
            for entry in entries {
                let place = entry.location.isEmpty ? "" : "  " + TextLine.clean(entry.location)
                lines.append("  \(TextLine.clean(entry.method)) \(TextLine.clean(entry.path))\(place)")
            }
        }
        if !findings.isEmpty {
            lines.append("")
            lines.append("Calls that break the spec (\(findings.count) rules and places):")
            for finding in findings.prefix(Self.maxFindingsShown) {
                let place = finding.key.location.isEmpty ? "" : "  " + TextLine.clean(finding.key.location)
                lines.append(
                    "  \(TextLine.clean(finding.key.method)) \(TextLine.clean(finding.key.path))  \(TextLine.clean(finding.key.rule))\(place)  ×\(finding.finding.count)"
                        + "  first \(Timestamp.rfc3339(nanosecondsSinceEpoch: finding.finding.firstSeen))  example \(finding.finding.example)"
                )
            }
        }
        if otherFindings > 0 {
            lines.append("")
            lines.append(
                "\(otherFindings) finding(s) were counted against another version of the spec (another digest) and are not shown."
            )
        }
        lines.append("")
        lines.append(agrees ? "The API and the spec agree." : "\(differences.count) difference(s), \(findings.count) finding(s).")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Text from a spec or a store made safe for one line of a terminal.
enum TextLine {
    static func clean(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(300).map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0 }))
    }
}
