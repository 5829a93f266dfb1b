public import APIMetrics
public import Vapor

/// Names the errors behind a Vapor application's 5xx answers in their
/// events: add it last, inside Vapor's `ErrorMiddleware`, which otherwise
/// turns an error into a response before ``APIMetricsMiddleware`` sees it.
///
/// `Middlewares.useAPIMetrics(_:errorStatuses:)` adds both.
public struct APIMetricsErrorReporter: AsyncMiddleware {
    /// Which errors are the server's: those whose status is 500 or more.
    public let errorStatuses: ErrorStatusMapping

    /// Reports the errors whose status in `errorStatuses` is 500 or more
    /// (an error it does not know is a 500).
    public init(errorStatuses: ErrorStatusMapping = .vapor) {
        self.errorStatuses = errorStatuses
    }

    /// Passes the call on; an error it throws is reported to the call's
    /// exchange, then thrown on to the error middleware.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            if (errorStatuses.status(of: error) ?? 500) >= 500 { request.apiMetrics?.reportError(error, location: nil) }
            throw error
        }
    }
}

extension Middlewares {
    /// Records every call into `metrics`: ``APIMetricsMiddleware`` first,
    /// outside Vapor's `ErrorMiddleware`, and ``APIMetricsErrorReporter``
    /// last, so that an event has the status and body the client got and
    /// the error behind a 5xx answer.
    ///
    /// ```swift
    /// app.middleware.useAPIMetrics(metrics)
    /// ```
    public mutating func useAPIMetrics(_ metrics: APIMetricsService, errorStatuses: ErrorStatusMapping = .vapor) {
        use(APIMetricsMiddleware(metrics, errorStatuses: errorStatuses), at: .beginning)
        use(APIMetricsErrorReporter(errorStatuses: errorStatuses), at: .end)
    }
}
