/// Entry points for the `apimetrics-bench` executable, which measures
/// stages that are internal to the library. Not part of the public API:
/// import with `@_spi(Benchmarks) import APIMetrics`.
@_spi(Benchmarks)
public enum BenchmarkHooks {
    /// Empties the queue without sending, so that a benchmark measures the
    /// request path alone; returns how many items it removed.
    @discardableResult
    public static func drainQueue(of metrics: APIMetrics) -> Int {
        metrics.recorder.queue.drain(limit: .max).count
    }

    /// A reusable redactor, so that its compilation is not measured.
    public static func makeRedactor(options: RedactionOptions) -> @Sendable (inout ExchangeRecord) -> Void {
        let redactor = Redactor(options: options)
        return { redactor.redact(&$0) }
    }

    /// Encodes `record` as one schema-v1 line.
    public static func encode(_ record: ExchangeRecord, context: ServiceContext) -> [UInt8] {
        EventEncoder(context: context).encode(record)
    }
}
