/// One finished call as the recorder captured it, before identification,
/// redaction and encoding (which happen in the background sender).
///
/// Times are whole nanoseconds in `Int64`, as the recorder reads its clocks
/// and as OTLP and the store keep them: instants since 1970 (UTC), spans
/// from the monotonic clock. ``duration`` gives the span as a `Duration`.
public struct ExchangeRecord: Sendable {
    /// The event's identifier.
    public var id: EventID
    /// Whether this server received the call or made it.
    public var direction: ExchangeDirection
    /// When the request started, in nanoseconds since 1970-01-01T00:00:00Z.
    public var startTimeNanoseconds: Int64
    /// How long the exchange took, in nanoseconds, from a monotonic clock.
    public var durationNanoseconds: Int64

    /// How long the exchange took (``durationNanoseconds`` as a `Duration`).
    public var duration: Duration { .nanoseconds(durationNanoseconds) }
    /// The request's head.
    public var request: RequestHead
    /// What was kept of the request body.
    public var requestBody: CapturedBody
    /// The response's head; `nil` when no response was sent.
    public var response: ResponseHead?
    /// What was kept of the response body.
    public var responseBody: CapturedBody
    /// The consumer, when the server named one while handling the request.
    public var consumer: Consumer?
    /// Errors reported while handling the request.
    public var errors: [RecordedError]
    /// The W3C trace id (32 hex digits) the call belongs to, when known.
    public var traceID: String?
    /// The id of the exchange that caused this one, for outgoing calls.
    public var parentID: EventID?
    /// Free-form values the server attached to the call.
    public var metadata: [String: String]
    /// How many calls this event stands for: 1, or 1 / sample rate when
    /// logging is sampled.
    public var weight: Double = 1
    /// The session the call belongs to, from the session-token closure.
    public var sessionToken: String?
    /// Validation errors the server reported itself
    /// (``ActiveExchange/reportValidationError(field:type:message:)``),
    /// for the metrics; they are not part of the event.
    var validationProblems: [ValidationProblem] = []
    /// The span an incoming call's valid `traceparent` named as its parent,
    /// for trace exporters; not part of the event.
    package var remoteParentSpanID: UInt64?

    /// Creates a record. Adapters normally let ``ActiveExchange`` build it.
    ///
    /// - Parameters:
    ///   - id: the event's identifier.
    ///   - direction: whether this server received the call or made it.
    ///   - startTimeNanoseconds: when the request started, in nanoseconds
    ///     since 1970-01-01T00:00:00Z.
    ///   - durationNanoseconds: how long the exchange took, in nanoseconds,
    ///     from a monotonic clock.
    ///   - request: the request's head.
    ///   - requestBody: what was kept of the request body; nothing by
    ///     default.
    ///   - response: the response's head; `nil` (the default) when no
    ///     response was sent.
    ///   - responseBody: what was kept of the response body; nothing by
    ///     default.
    ///   - consumer: the consumer, when the server named one while handling
    ///     the request; `nil` by default.
    ///   - errors: errors reported while handling the request; none by
    ///     default.
    ///   - traceID: the W3C trace id (32 hex digits) the call belongs to;
    ///     `nil` (the default) when unknown.
    ///   - parentID: the id of the exchange that caused this one, for
    ///     outgoing calls; `nil` by default.
    ///   - metadata: free-form values the server attached to the call; none
    ///     by default.
    ///   - weight: how many calls this event stands for: 1 (the default), or
    ///     1 / sample rate when logging is sampled.
    public init(
        id: EventID,
        direction: ExchangeDirection,
        startTimeNanoseconds: Int64,
        durationNanoseconds: Int64,
        request: RequestHead,
        requestBody: CapturedBody = .empty,
        response: ResponseHead? = nil,
        responseBody: CapturedBody = .empty,
        consumer: Consumer? = nil,
        errors: [RecordedError] = [],
        traceID: String? = nil,
        parentID: EventID? = nil,
        metadata: [String: String] = [:],
        weight: Double = 1
    ) {
        self.init(
            id: id, direction: direction, startTimeNanoseconds: startTimeNanoseconds,
            durationNanoseconds: durationNanoseconds, request: request, requestBody: requestBody, response: response,
            responseBody: responseBody, consumer: consumer, errors: errors, traceID: traceID, parentID: parentID,
            metadata: metadata, weight: weight, validationProblems: [], remoteParentSpanID: nil)
    }

    /// A record with the fields that are not part of the event as well.
    init(
        id: EventID, direction: ExchangeDirection, startTimeNanoseconds: Int64, durationNanoseconds: Int64,
        request: RequestHead, requestBody: CapturedBody, response: ResponseHead?, responseBody: CapturedBody,
        consumer: Consumer?, errors: [RecordedError], traceID: String?, parentID: EventID?,
        metadata: [String: String], weight: Double, validationProblems: [ValidationProblem], remoteParentSpanID: UInt64?
    ) {
        self.weight = weight
        self.id = id
        self.direction = direction
        self.startTimeNanoseconds = startTimeNanoseconds
        self.durationNanoseconds = durationNanoseconds
        self.request = request
        self.requestBody = requestBody
        self.response = response
        self.responseBody = responseBody
        self.consumer = consumer
        self.errors = errors
        self.traceID = traceID
        self.parentID = parentID
        self.metadata = metadata
        self.validationProblems = validationProblems
        self.remoteParentSpanID = remoteParentSpanID
    }

    /// What the record holds on the heap, charged against the queue's byte bound.
    var estimatedBytes: Int {
        Self.queueCost(
            targetBytes: request.target.utf8.count,
            headerBytes: request.headers.heapBytes + (response?.headers.heapBytes ?? 0),
            bodyBytes: requestBody.bytes.capacity + responseBody.bytes.capacity,
            errorCount: errors.count)
    }

    /// The one estimate of what a queued exchange holds: the object and its
    /// queue slot (1,280 bytes, with the allocator's overhead), the target,
    /// the header buffers (``HeaderFields/heapBytes``), the body buffers at
    /// their capacity. Checked against the demo's peak RSS with the
    /// collector unreachable (Benchmarks/loadtest.sh): about 1.2 times what
    /// a queued GET really takes, which leaves the process's own baseline
    /// (about 32 MB for the demo) inside the +20 MB budget at 64 MB.
    static func queueCost(targetBytes: Int, headerBytes: Int, bodyBytes: Int, errorCount: Int) -> Int {
        1280 + targetBytes + bodyBytes + headerBytes + 256 * errorCount
    }
}
