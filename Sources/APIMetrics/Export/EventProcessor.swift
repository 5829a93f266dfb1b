/// The sender's work on each record, in order: identify the consumer,
/// redact, encode. Off the request path by design.
struct EventProcessor: Sendable {
    let identification: ConsumerIdentification
    let redactor: Redactor
    let encoder: EventEncoder

    func process(_ item: QueuedItem) -> ExportedEvent {
        switch item {
        case var .exchange(record):
            identification.apply(to: &record)
            redactor.redact(&record)
            return ExportedEvent(record: record, json: encoder.encode(record))
        }
    }
}
