#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one readable line per call, for development:
///
/// ```
/// 2026-11-21T10:00:00.123Z POST /orders → 201 3.214 ms req=120B res=88B consumer=acme
/// ```
public struct ConsoleExporter: EventExporter {
    /// Which standard stream the lines go to.
    public struct Stream: Sendable, Hashable {
        let descriptor: Int32

        /// Standard output.
        public static let standardOutput = Stream(descriptor: 1)
        /// Standard error.
        public static let standardError = Stream(descriptor: 2)
    }

    /// The stream written to.
    public let stream: Stream

    /// Creates a console exporter.
    public init(stream: Stream = .standardOutput) {
        self.stream = stream
    }

    /// `console`.
    public var name: String { "console" }

    /// Writes one line per event, and one for the drops if there were any.
    public func export(_ batch: ExportBatch) async throws {
        var text = ""
        if batch.dropped > 0 {
            text += "apimetrics: \(batch.dropped) events were dropped before this batch\n"
        }
        for record in batch.records {
            text += Self.line(for: record)
            text += "\n"
        }
        for entity in batch.entities {
            text += Timestamp.rfc3339(nanosecondsSinceEpoch: entity.timestampNanoseconds)
            text += " profile \(entity.kind) \(entity.id)\n".filter { $0 != "\r" }
        }
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(stream.descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static func line(for record: ExchangeRecord) -> String {
        var line = Timestamp.rfc3339(nanosecondsSinceEpoch: record.startTimeNanoseconds)
        if record.direction == .outgoing { line += " outgoing" }
        line += " \(record.request.method) \(record.request.target)"
        if let route = record.request.route { line += " [\(route)]" }
        if let response = record.response {
            line += " → \(response.status)"
        } else {
            line += " → no response"
        }
        let micros = record.durationNanoseconds / 1000
        let fraction = String(micros % 1000)
        line += " \(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
        line += " req=\(record.requestBody.size)B res=\(record.responseBody.size)B"
        if let consumer = record.consumer { line += " consumer=\(consumer.id)" }
        if let error = record.errors.first { line += " error=\(error.type): \(error.message)" }
        return line.filter { !$0.isNewline }
    }
}
