/// Runs the user's identify closure for one record, in the background sender.
///
/// A consumer the server set on the exchange wins over the closure. A closure
/// that throws costs the event its consumer, never more; the failure is
/// reported through diagnostics.
struct ConsumerIdentification: Sendable {
    let identify: APIMetricsConfiguration.IdentifyConsumer?
    let diagnostics: Diagnostics

    func apply(to record: inout ExchangeRecord) {
        if let consumer = record.consumer {
            record.consumer = consumer.normalized()
            return
        }
        guard let identify else { return }
        do {
            record.consumer = try identify(record.request)?.normalized()
        } catch {
            diagnostics.log(.warning, "identifyConsumer threw \(type(of: error)) for \(record.request.method) \(record.request.path); the event has no consumer")
        }
    }
}
