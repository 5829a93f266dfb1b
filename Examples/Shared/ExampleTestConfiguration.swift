import APIMetrics
import APIMetricsTesting

#if canImport(HummingbirdExample)
@testable import HummingbirdExample
#elseif canImport(VaporExample)
@testable import VaporExample
#endif

// Linked into the Hummingbird and Vapor packages' tests.

/// The example's configuration with the events going to `exporter`.
func configuration(
    _ exporter: CollectingExporter, maxBodyBytes: Int = 64 * 1024, queueLimit: Int? = nil
) -> APIMetricsConfiguration {
    ExampleAPICheck.configuration(
        ExampleServer.baseConfiguration(), exporter: exporter, captureLimit: maxBodyBytes, queueLimit: queueLimit)
}

extension ExchangeRecord {
    /// The response body as text.
    var responseText: String { String(decoding: responseBody.bytes, as: UTF8.self) }
}
