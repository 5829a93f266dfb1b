// The error entry points your own code calls: each records the `file:line`
// of its call as the error's location, so that an error points at the
// handler that reported it. Adapters that report on a handler's behalf
// use the `location:` forms instead.
extension ActiveExchange {
    /// Attaches an error to the exchange without finishing it: its type,
    /// message, the chain of underlying errors where it exposes one, and
    /// where it was reported: the `file:line` of your call, as the event's
    /// error `location`.
    ///
    /// ```swift
    /// do { try await repository.save(order) }
    /// catch { exchange.reportError(error); throw error }   // location: "Orders/OrderRoutes.swift:42"
    /// ```
    public func reportError(_ error: any Error, file: String = #fileID, line: Int = #line) {
        reportError(error, location: "\(file):\(line)")
    }

    /// Finishes the exchange with an error raised while handling it; the
    /// `file:line` of your call is the event's error `location`.
    ///
    /// When no response head was recorded, the response status is `status`,
    /// else the error's own ``ResponseStatusProviding/responseStatus``, else 500.
    public func fail(_ error: any Error, status: Int? = nil, file: String = #fileID, line: Int = #line) {
        fail(error, status: status, location: "\(file):\(line)")
    }
}
