public import APIMetrics
public import Foundation
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// A `URLSession` whose calls are recorded as outgoing events.
///
/// Each call becomes an event with `direction: "outgoing"`, its own duration,
/// status, sizes and (redacted) bodies. Made while serving a request, its
/// `parent_id` is that exchange's id and it joins that exchange's trace;
/// a W3C `traceparent` header is added so that the service called can join
/// it too.
///
/// ```swift
/// let client = InstrumentedURLSession(recorder: metrics.recorder)
/// let (data, response) = try await client.data(for: URLRequest(url: inventoryURL))
/// ```
public struct InstrumentedURLSession: Sendable {
    /// The session that makes the calls.
    public let session: URLSession
    /// Where the calls are recorded.
    public let recorder: Recorder

    /// Wraps `session`.
    public init(session: URLSession = .shared, recorder: Recorder) {
        self.session = session
        self.recorder = recorder
    }

    /// `URLSession.data(for:)`, recorded.
    ///
    /// - Parameters:
    ///   - request: the request, sent with a `traceparent` header added.
    ///   - parent: the exchange being served; the task's current one by
    ///     default.
    /// - Returns: the response body and the response, as `URLSession` gives
    ///   them.
    /// - Throws: what `URLSession` throws; the call is recorded with the
    ///   error and no response.
    public func data(
        for request: URLRequest, parent: ActiveExchange? = ActiveExchange.current
    ) async throws -> (Data, URLResponse) {
        try await perform(request, requestBody: request.httpBody, parent: parent) { request in
            let (data, response) = try await session.data(for: request)
            return ((data, response), response, data, data.count)
        }
    }

    /// `URLSession.upload(for:from:)`, recorded.
    ///
    /// - Parameters:
    ///   - request: the request, sent with a `traceparent` header added.
    ///   - body: the body to upload, recorded as the request body.
    ///   - parent: the exchange being served; the task's current one by
    ///     default.
    /// - Returns: the response body and the response, as `URLSession` gives
    ///   them.
    /// - Throws: what `URLSession` throws; the call is recorded with the
    ///   error and no response.
    public func upload(
        for request: URLRequest, from body: Data, parent: ActiveExchange? = ActiveExchange.current
    ) async throws -> (Data, URLResponse) {
        try await perform(request, requestBody: body, parent: parent) { request in
            let (data, response) = try await session.upload(for: request, from: body)
            return ((data, response), response, data, data.count)
        }
    }

    /// `URLSession.download(for:)`, recorded; the body's size is the
    /// downloaded file's, and the body itself is not kept.
    public func download(
        for request: URLRequest, parent: ActiveExchange? = ActiveExchange.current
    ) async throws -> (URL, URLResponse) {
        try await perform(request, requestBody: request.httpBody, parent: parent) { request in
            let (url, response) = try await session.download(for: request)
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            return ((url, response), response, nil, size)
        }
    }

    private func perform<Result>(
        _ original: URLRequest,
        requestBody: Data?,
        parent: ActiveExchange?,
        _ call: (URLRequest) async throws -> (Result, URLResponse, Data?, Int)
    ) async throws -> Result {
        guard recorder.isRecording else {
            return try await call(original).0
        }
        var request = original
        let startedAt = CaptureInstant.now()
        let exchange = recorder.begin(RequestHead(request, direction: .outgoing), direction: .outgoing, startedAt: startedAt)
        let traceID = parent?.traceID ?? exchange.id.description
        exchange.setTrace(id: traceID, parentID: parent?.id)
        request.setValue(
            TraceContext.traceparent(traceID: traceID, spanID: exchange.id.spanID), forHTTPHeaderField: "traceparent")
        if let requestBody { exchange.recordRequestBody(requestBody) }
        do {
            let (result, response, body, size) = try await call(request)
            if let http = response as? HTTPURLResponse {
                exchange.recordResponseHead(ResponseHead(status: http.statusCode, headers: HeaderFields(http)))
            }
            if let body {
                exchange.recordResponseBody(body)
            } else {
                exchange.countResponseBody(byteCount: size)
            }
            exchange.finish()
            return result
        } catch {
            // No response came: the event has none, and carries the error.
            exchange.reportError(error, location: nil)
            exchange.finish()
            throw error
        }
    }
}
