/// Attaches an error to the exchange being served — the one the current
/// task serves (``ActiveExchange/current``) unless you name another — with
/// its type, message, chain of underlying errors, and where it was reported.
///
/// ```swift
/// do { try await repository.save(order) }
/// catch { reportError(error); throw error }
/// ```
///
/// - Parameters:
///   - error: the error; its type, message and underlying errors are kept.
///   - exchange: the exchange to attach it to; the current task's
///     (``ActiveExchange/current``) by default. With `nil` nothing is
///     attached.
///   - file: the file the error is reported from, kept with `line` as its
///     `location`; your call's, `#fileID`, by default.
///   - line: the line the error is reported from; your call's, `#line`, by
///     default.
/// - Returns: whether there was an exchange to attach it to.
@discardableResult
public func reportError(
    _ error: any Error,
    to exchange: ActiveExchange? = ActiveExchange.current,
    file: String = #fileID,
    line: Int = #line
) -> Bool {
    guard let exchange else { return false }
    exchange.reportError(error, file: file, line: line)
    return true
}
