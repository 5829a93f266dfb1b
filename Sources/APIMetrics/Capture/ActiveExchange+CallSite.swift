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
    ///
    /// - Parameters:
    ///   - error: the error; its type, message and underlying errors are
    ///     kept.
    ///   - file: the file the error is reported from; your call's, `#fileID`,
    ///     by default.
    ///   - line: the line the error is reported from; your call's, `#line`,
    ///     by default.
    public func reportError(_ error: any Error, file: String = #fileID, line: Int = #line) {
        reportError(error, location: "\(file):\(line)")
    }

    /// Finishes the exchange with an error raised while handling it; the
    /// `file:line` of your call is the event's error `location`.
    ///
    /// When no response head was recorded, the response status is `status`,
    /// else the error's own ``ResponseStatusProviding/responseStatus``, else 500.
    ///
    /// - Parameters:
    ///   - error: the error that ended the call.
    ///   - status: the response status when no response head was recorded;
    ///     `nil` (the default) to take the error's own, else 500.
    ///   - file: the file the error is reported from; your call's, `#fileID`,
    ///     by default.
    ///   - line: the line the error is reported from; your call's, `#line`,
    ///     by default.
    public func fail(_ error: any Error, status: Int? = nil, file: String = #fileID, line: Int = #line) {
        fail(error, status: status, location: "\(file):\(line)")
    }
}
