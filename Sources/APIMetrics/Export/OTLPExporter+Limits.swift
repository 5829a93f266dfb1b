extension OTLPExporter {
    /// What one request to Monoscope's collector may carry. 512 spans or
    /// log records: the OpenTelemetry SDKs' batch processors' default
    /// (`maxExportBatchSize`), through which Monoscope's SDKs send. 16 MiB
    /// before compression: an OpenTelemetry Collector's OTLP/HTTP receiver
    /// refuses a body over 20 MiB once decompressed (with a 400, which is
    /// not retried or halved), and Monoscope's own collector takes 16 MiB
    /// over gRPC, where a collector in between would forward it.
    static let monoscopeLimits = ExportBatchLimits(maxEvents: 512, maxBytes: 16 << 20)

    /// The limits of one request (``OTLPExporter/Options`` sets them for
    /// Monoscope; none otherwise).
    public var batchLimits: ExportBatchLimits { options.batchLimits }

    /// `encode(records)`, kept within ``batchLimits``' bytes: more than one
    /// record over them is refused as too large without sending (the
    /// sender sends it again in halves); a single record over them goes
    /// with its bodies replaced by a marker, its body sizes kept.
    func fitted(_ records: [ExchangeRecord], encode: ([ExchangeRecord]) -> [UInt8]) throws(ExportError) -> [UInt8] {
        let body = encode(records)
        let limit = options.batchLimits.maxBytes
        guard options.batchLimits.isOver(bytes: body.count) else { return body }
        guard records.count == 1, var record = records.first else {
            throw ExportError.tooLarge(
                "\(name): \(records.count) \(signal) make \(body.count) bytes, over the \(limit) one request may carry")
        }
        record.requestBody = Self.leftOut(record.requestBody, limit: limit)
        record.responseBody = Self.leftOut(record.responseBody, limit: limit)
        let shrunk = encode([record])
        guard !options.batchLimits.isOver(bytes: shrunk.count) else {
            throw ExportError.tooLarge(
                "\(name): one call makes \(shrunk.count) bytes without its bodies, over the \(limit) one request may carry")
        }
        return shrunk
    }

    /// The marker that stands for a body left out of a request over the
    /// limit; a JSON string, so that a backend parsing bodies as JSON (as
    /// Monoscope does) shows it.
    static func leftOut(_ body: CapturedBody, limit: Int) -> CapturedBody {
        guard !body.bytes.isEmpty else { return body }
        let marker = "\"[body left out: the request passed \(limit) bytes]\""
        return CapturedBody(bytes: Array(marker.utf8), size: body.size)
    }
}
