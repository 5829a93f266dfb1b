@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Synchronization
import Testing

/// Credentials in a configured URL, keys and tokens never reach a text the
/// library shows, logs, stores or spools.
@Suite("Configured secrets")
struct ConfiguredSecretsTests {
    @Test func aURLIsShownWithoutItsUserinfoQueryValuesOrFragment() {
        let cases = [
            ("http://user:PW@host/collect?api_key=Q", "http://REDACTED@host/collect?api_key=REDACTED"),
            ("https://host:8443/v1/traces", "https://host:8443/v1/traces"),
            ("http://token@host", "http://REDACTED@host"),
            ("http://a:b@c@host/p", "http://REDACTED@host/p"),
            ("http://host/p?a=1&b&c=&d=2#frag", "http://host/p?a=REDACTED&REDACTED&c=REDACTED&d=REDACTED#REDACTED"),
            ("http://host?x=@y", "http://host?x=REDACTED"),
            ("not a url", "not a url"),
            ("user:PW@host/c?api_key=Q", "REDACTED@host/c?api_key=REDACTED"),
            ("http://u:p/ss@host/x?k=v", "http://REDACTED@host/x?k=REDACTED"),
            ("https://u:p?w@host/", "https://u:p?REDACTED"),
        ]
        for (url, shown) in cases {
            #expect(ConfiguredSecrets.shown(url) == shown, "\(url)")
            // Showing twice changes nothing.
            #expect(ConfiguredSecrets.shown(shown) == shown)
        }
    }

    @Test func aPasswordHoldingASlashIsStillFoundWhole() {
        #expect(ConfiguredSecrets.secretParts(of: "http://u:pa/ss@host/x").contains("pa/ss"))
        #expect(ConfiguredSecrets.secretParts(of: "user:PW-77@host").contains("PW-77"))
    }

    @Test func anOTLPHeaderErrorNamesTheEntryNotItsValue() {
        do {
            _ = try APIMetricsConfiguration.fromEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                "OTEL_EXPORTER_OTLP_HEADERS": "x-team=core,Authorization: Bearer tok-SECRET-1",
            ])
            Issue.record("a header without = was taken")
        } catch {
            #expect(error.reason.contains("entry 2") && !error.description.contains("tok-SECRET-1"), "\(error)")
        }
    }

    @Test func scrubbingReplacesTheURLsAndEverySecretPartInAnyText() {
        let secrets = ConfiguredSecrets(
            urls: ["http://user:Pa%24%24word@host:9/collect?api_key=QQQQ&x=1"], values: ["key-123456", "abc"])
        let text = """
            POST http://user:Pa%24%24word@host:9/collect?api_key=QQQQ&x=1 failed; \
            retried with QQQQ and Pa$$word and key-123456 and user:Pa%24%24word; abc stays
            """
        let scrubbed = secrets.scrub(text)
        for secret in ["Pa%24%24word", "Pa$$word", "QQQQ", "key-123456"] {
            #expect(!scrubbed.contains(secret), "\(secret) in \(scrubbed)")
        }
        #expect(scrubbed.contains("http://REDACTED@host:9/collect?api_key=REDACTED&x=REDACTED"))
        // Shorter than four bytes: only inside its URL, so that messages stay readable.
        #expect(scrubbed.hasSuffix("abc stays"))
    }

    @Test func aCollectorURLsCredentialsReachNoMessageTheViewOrTheSpool() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let messages = Mutex<[String]>([])
        // A port nothing listens on: every attempt fails and names the URL.
        let endpoint = "http://admin:PW-s3cret-9@127.0.0.1:1/collect?api_key=QKEY-777"
        var config = testConfiguration([.http(endpoint: endpoint, timeout: .seconds(1))])
        config.retry = RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10))
        config.spool = SpoolOptions(directory: directory.file("spool"), syncInterval: .zero)
        config.view = .init(isDashboardEnabled: true)
        config.diagnostics = .custom { message in messages.withLock { $0.append(message.description) } }
        let metrics = try APIMetricsService(configuration: config)
        let run = Task { try await metrics.run() }
        recordExchange(metrics.recorder, target: "/orders")
        #expect(await eventually { metrics.statistics.lastExportError != nil && metrics.statistics.spooled > 0 })
        let api = try #require(
            metrics.view.response(
                method: "GET", target: MetricsView.apiPath, headers: ["Host": "localhost"], peerAddress: "127.0.0.1"))
        await metrics.shutdown(timeout: .seconds(5))
        run.cancel()
        var texts = [String(decoding: api.body, as: UTF8.self), metrics.statistics.lastExportError ?? ""]
        texts += messages.withLock { $0 }
        texts += config.exporters.map(\.summary)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.file("spool")) {
            texts.append(
                String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory.file("spool/\(file)"))), as: UTF8.self))
        }
        #expect(texts[1].contains("REDACTED@127.0.0.1:1"), "\(texts[1])")
        for text in texts {
            #expect(!text.contains("PW-s3cret-9") && !text.contains("QKEY-777") && !text.contains("admin:"), "\(text)")
        }
    }
}
