/// Attaches an error to the exchange being served — the one the current
/// task serves (``ActiveExchange/current``) unless you name another — with
/// its type, message, chain of underlying errors, and where it was reported.
///
/// ```swift
/// do { try await repository.save(order) }
/// catch { reportError(error); throw error }
/// ```
///
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
