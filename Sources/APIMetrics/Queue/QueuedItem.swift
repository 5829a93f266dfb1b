/// A record waiting in the queue for the sender.
enum QueuedItem: Sendable {
    /// A finished exchange from the request path; its record is built in the sender.
    case active(ActiveExchange)
    /// A record built elsewhere (``Recorder/record(_:)``, an abandoned exchange).
    /// Boxed, so that a queue slot stays two words whatever the case.
    indirect case exchange(ExchangeRecord)
    indirect case entity(EntityRecord)

    /// The exchange's record, built now for a queued ``ActiveExchange``.
    var record: ExchangeRecord? {
        record(moving: false)
    }

    /// The record; with `moving`, a queued exchange's fields are moved into
    /// it instead of copied, so that it can be built only once.
    func record(moving: Bool) -> ExchangeRecord? {
        switch self {
        case let .active(exchange): return exchange.takeRecord(moving: moving)
        case let .exchange(record): return record
        case .entity: return nil
        }
    }
}
