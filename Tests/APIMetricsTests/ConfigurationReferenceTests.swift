import Foundation
import Testing

@testable import APIMetrics

/// The manual's configuration reference and the environment reader agree:
/// every variable the reader asks for is in the reference, and every
/// variable the reference lists is one the reader asks for (and the public
/// lists of variables say the same).
@Suite("The configuration reference")
struct ConfigurationReferenceTests {
    static let article = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/APIMetrics/APIMetrics.docc/ConfigurationReference.md")

    /// The names in the first column of the reference's tables.
    static func listed() throws -> [String] {
        let text = try String(contentsOf: article, encoding: .utf8)
        let section = text.components(separatedBy: "\n## In code")[0]
        return section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            let name = line.dropFirst(3).prefix { $0 != "`" }
            return name.hasPrefix("APIMETRICS_") || name.hasPrefix("OTEL_") ? String(name) : nil
        }
    }

    /// What the reader asks for, with every exporter's variables reached:
    /// nothing set, then each exporter's own variable set.
    static func read() throws -> Set<String> {
        let asked = AskedNames()
        let environments: [[String: String]] = [
            [:],
            [
                "APIMETRICS_ENDPOINT": "http://127.0.0.1:9/events",
                "APIMETRICS_FILE": "events.ndjson",
                "APIMETRICS_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                "APIMETRICS_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
                "APIMETRICS_MOESIF_APPLICATION_ID": "moesif-application-id",
                "APIMETRICS_README_API_KEY": "rdme_0123456789",
                "APIMETRICS_APITALLY_CLIENT_ID": "fd0e1e5a-6c7b-4d8e-9f10-2a3b4c5d6e7f",
                "APIMETRICS_MONOSCOPE_API_KEY": "monoscope-key",
            ],
        ]
        for environment in environments {
            _ = try APIMetricsConfiguration.fromEnvironment(environment, base: .default, asked: asked)
        }
        return asked.all
    }

    @Test func theReferenceListsExactlyTheVariablesTheReaderReads() throws {
        let listed = try Self.listed()
        #expect(listed.count > 80, "the reference's tables were not found: \(listed.count) names")
        #expect(
            Set(listed).count == listed.count, "listed twice: \(listed.filter { name in listed.filter { $0 == name }.count > 1 })"
        )
        let read = try Self.read()
        let unlisted = read.subtracting(listed).sorted()
        let unread = Set(listed).subtracting(read).sorted()
        #expect(unlisted.isEmpty, "read but not in the configuration reference: \(unlisted)")
        #expect(unread.isEmpty, "in the configuration reference but never read: \(unread)")
    }

    @Test func thePublicListsNameTheSameVariables() throws {
        let lists =
            APIMetricsConfiguration.environmentVariables + APIMetricsConfiguration.otlpEnvironmentVariables
            + APIMetricsConfiguration.vendorEnvironmentVariables
        #expect(Set(lists.map(\.name)) == Set(try Self.listed()))
    }
}
