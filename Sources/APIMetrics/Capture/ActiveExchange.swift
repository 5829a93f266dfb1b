import Synchronization

/// One call being recorded, from its request head to ``finish()``.
///
/// A server begins it with ``Recorder/begin(_:direction:startedAt:)``, feeds it the
/// body chunks as they stream through, tells it the response head, and
/// finishes it (or ``fail(_:status:file:line:)``s it) once the last byte is written.
/// Every method is cheap, never blocks on I/O and never throws; calls after
/// the exchange finished are ignored. An exchange released without being
/// finished is recorded all the same, with an error saying it was abandoned.
///
/// ```swift
/// let exchange = metrics.recorder.begin(RequestHead(method: "GET", target: "/orders/7"))
/// exchange.setRoute("/orders/{id}")
/// exchange.recordResponseHead(ResponseHead(status: 200))
/// exchange.recordResponseBody(bytes)
/// exchange.finish()
/// ```
public final class ActiveExchange: Sendable {
    /// The most errors kept on one exchange; later ones are counted in the last.
    public static let maxErrors = 16

    /// The identifier the finished event will carry.
    public let id: EventID

    private let recorder: Recorder
    private let startWall: Int64
    private let startMonotonic: Int64
    private let direction: ExchangeDirection
    private let state: Mutex<State>

    init(recorder: Recorder, head: consuming RequestHead, direction: ExchangeDirection, id: EventID, startedAt: CaptureInstant) {
        let bodyLimit = recorder.bodyLimit
        self.recorder = recorder
        self.id = id
        self.direction = direction
        self.startWall = startedAt.wallNanoseconds
        self.startMonotonic = startedAt.monotonicNanoseconds
        // A valid incoming traceparent keeps its trace; an invalid one is ignored.
        var traceID: String?
        var remoteParentSpanID: UInt64?
        if direction == .incoming, let value = head.headers["traceparent"], let context = TraceContext(traceparent: value) {
            traceID = context.traceID
            remoteParentSpanID = UInt64(context.parentSpanID, radix: 16)
        }
        let requestLimit = Self.bodyLimit(for: head.headers, in: recorder)
        RequestHead.bound(&head)
        // The head is taken, not copied: its last use.
        self.state = Mutex(
            State(
                request: head,
                requestBody: BodyAccumulator(limit: requestLimit),
                responseBody: BodyAccumulator(limit: bodyLimit),
                traceID: traceID, remoteParentSpanID: remoteParentSpanID))
    }

    /// The W3C trace this exchange belongs to: the incoming `traceparent`'s,
    /// the one set with ``setTrace(id:parentID:)``, or else one of its own
    /// (its id). Outgoing calls made while serving it join this trace.
    public var traceID: String {
        state.withLock { state -> String? in
            if case let .value(rare)? = state.rareStorage { return rare.traceID }
            return nil
        } ?? id.description
    }

    deinit {
        let abandoned = state.withLock { state -> ExchangeRecord? in
            guard !state.isFinished else { return nil }
            state.isFinished = true
            Self.append(
                RecordedError(type: "ExchangeAbandoned", message: "the exchange was released without being finished"), to: &state)
            return makeRecord(&state, end: CaptureClock.monotonicNanoseconds())
        }
        if let abandoned { recorder.enqueue(abandoned) }
    }

    /// Counts a chunk of the request body and keeps it while under the limit.
    ///
    /// - Parameter chunk: the chunk's bytes, read before this returns.
    public func recordRequestBody(_ chunk: UnsafeRawBufferPointer) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.requestBody.append(chunk)
        }
    }

    /// Counts a chunk of the request body (any collection of bytes: an
    /// array, a slice, `Data`, a buffer's view) and keeps it while under the
    /// limit.
    ///
    /// - Parameter chunk: the chunk, read in place when its bytes are
    ///   contiguous and copied once otherwise.
    @inlinable
    public func recordRequestBody<Bytes: Collection>(_ chunk: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = chunk.withContiguousStorageIfAvailable { recordRequestBody(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(chunk).withUnsafeBytes { recordRequestBody($0) } }
    }

    /// Whether request body bytes handed to the exchange are kept (body
    /// capture is on and the request's content type is one to keep). When
    /// it is `false`, an adapter that knows the body's length need not
    /// look at the bytes at all: ``countRequestBody(byteCount:)`` is enough.
    public var isCapturingRequestBody: Bool {
        state.withLock { $0.requestBody.isCapturing }
    }

    /// Counts request body bytes that were not handed to the exchange, as
    /// when an adapter knows the body's length and the body is not kept.
    ///
    /// - Parameter byteCount: how many bytes; a count of zero or less adds
    ///   nothing.
    public func countRequestBody(byteCount: Int) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.requestBody.count(byteCount)
        }
    }

    /// Counts request body bytes that were not handed to the exchange.
    ///
    /// - Parameter byteCount: how many bytes.
    @available(*, deprecated, renamed: "countRequestBody(byteCount:)")
    public func countRequestBody(bytes byteCount: Int) {
        countRequestBody(byteCount: byteCount)
    }

    /// Records the response's status and headers, once they are known.
    public func recordResponseHead(_ head: ResponseHead) {
        let limit = Self.bodyLimit(for: head.headers, in: recorder)
        state.withLock { state in
            guard !state.isFinished else { return }
            state.response = head
            if state.responseBody.size == 0 {
                state.responseBody = BodyAccumulator(limit: limit)
            }
        }
    }

    /// The body limit for a message with these headers: 0 (size only) when
    /// bodies are off or its content type is not one that is kept.
    static func bodyLimit(for headers: HeaderFields, in recorder: Recorder) -> Int {
        guard recorder.bodyLimit > 0 else { return 0 }
        return recorder.bodyContentTypes.allows(headers) ? recorder.bodyLimit : 0
    }

    /// Whether response body bytes handed to the exchange are kept, as
    /// ``recordResponseHead(_:)`` decided from the response's content type.
    /// When it is `false`, an adapter that knows the body's length need not
    /// look at the bytes at all: ``countResponseBody(byteCount:)`` is enough.
    public var isCapturingResponseBody: Bool {
        state.withLock { $0.responseBody.isCapturing }
    }

    /// Counts a chunk of the response body and keeps it while under the limit.
    ///
    /// - Parameter chunk: the chunk's bytes, read before this returns.
    public func recordResponseBody(_ chunk: UnsafeRawBufferPointer) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.responseBody.append(chunk)
        }
    }

    /// Counts a chunk of the response body (any collection of bytes: an
    /// array, a slice, `Data`, a buffer's view) and keeps it while under the
    /// limit.
    ///
    /// - Parameter chunk: the chunk, read in place when its bytes are
    ///   contiguous and copied once otherwise.
    @inlinable
    public func recordResponseBody<Bytes: Collection>(_ chunk: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = chunk.withContiguousStorageIfAvailable { recordResponseBody(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(chunk).withUnsafeBytes { recordResponseBody($0) } }
    }

    /// Counts response body bytes that were not handed to the exchange, as
    /// when an adapter knows the body's length and the body is not kept.
    ///
    /// - Parameter byteCount: how many bytes; a count of zero or less adds
    ///   nothing.
    public func countResponseBody(byteCount: Int) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.responseBody.count(byteCount)
        }
    }

    /// Counts response body bytes that were not handed to the exchange.
    ///
    /// - Parameter byteCount: how many bytes.
    @available(*, deprecated, renamed: "countResponseBody(byteCount:)")
    public func countResponseBody(bytes byteCount: Int) {
        countResponseBody(byteCount: byteCount)
    }

    /// Sets the route template that matched, such as `/orders/{id}`.
    public func setRoute(_ route: String) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.request.route = TextLimit.cut(route, maxBytes: SeriesKey.maxRouteBytes)
        }
    }

    /// Names the consumer now, instead of leaving it to the identify closure.
    public func setConsumer(_ consumer: Consumer?) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.rare.consumer = consumer
        }
    }

    /// Attaches a free-form value to the event's `metadata`.
    public func setMetadata(_ value: String, forKey key: String) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.rare.metadata[key] = value
        }
    }

    /// Sets the W3C trace this call belongs to and the exchange that caused it.
    public func setTrace(id traceID: String?, parentID: EventID?) {
        state.withLock { state in
            guard !state.isFinished else { return }
            state.rare.traceID = traceID
            state.rare.parentID = parentID
        }
    }

    /// Attaches an error to the exchange without finishing it, with the
    /// `location` you give, or none.
    ///
    /// For an adapter that reports an error on the handler's behalf (a
    /// middleware that caught what the handler threw): the adapter knows
    /// only its own line, which would point every error at the middleware,
    /// so it passes `nil` and the event's error has no `location`.
    ///
    /// ```swift
    /// catch { exchange.reportError(error, location: nil); throw error }
    /// ```
    public func reportError(_ error: any Error, location: String?) {
        var recorded = RecordedError(error)
        recorded.location = location
        state.withLock { state in
            guard !state.isFinished else { return }
            Self.append(recorded, to: &state)
        }
    }

    /// Reports that the request failed validation on one field, for the
    /// metrics' validation errors (grouped per route, field and type).
    ///
    /// A call that reports any is not also read for them: its response
    /// body, a 400 or 422 listing problems, would count them twice. At most
    /// 20 are kept a call, the rest counted under one `(omitted)` field;
    /// each text is cut to 200 bytes.
    ///
    /// - Parameters:
    ///   - field: Where the problem is, as the body locates it: `email`,
    ///     `items[0].sku`.
    ///   - type: The kind of problem: `missing`, `too_long`, `format`.
    ///   - message: What a person reads, as an example of the group.
    public func reportValidationError(field: String, type: String, message: String = "") {
        let problem = ValidationProblems.make(field: field, type: type, message: message)
        state.withLock { state in
            guard !state.isFinished else { return }
            if state.rare.validationProblems.count < ValidationProblems.maxProblems {
                state.rare.validationProblems.append(problem)
            } else {
                state.rare.droppedValidationProblems += 1
            }
        }
    }

    /// Finishes the exchange now and hands it to the queue. The event
    /// itself is built later, in the sender: the request path only marks
    /// the end and queues this object.
    public func finish() {
        let end = CaptureClock.monotonicNanoseconds()
        state.withLock { state in
            guard !state.isFinished else { return }
            state.isFinished = true
            state.end = end
            admit(&state)
        }
    }

    /// Lets the exchange go unrecorded, for an adapter that began it on
    /// bytes the server turned out never to serve (a wire tap's pipelined
    /// request after the server said it would close); the adapter counts it.
    package func discard() {
        state.withLock { $0.isFinished = true }
    }

    /// Hands the finished exchange to the recorder's admission point, from
    /// inside the lock: the filter reads the request head in place, and the
    /// weight it decides is stored before the sender can take the record.
    private func admit(_ state: inout State) {
        guard recorder.isRecording else { return }
        let bytes = ExchangeRecord.queueCost(
            targetBytes: state.request.target.utf8.count,
            headerBytes: state.request.headers.heapBytes + (state.response?.headers.heapBytes ?? 0),
            bodyBytes: state.requestBody.bytes.capacity + state.responseBody.bytes.capacity,
            errorCount: state.errorCount)
        let status = state.response?.status ?? 0, duration = max(0, state.end - startMonotonic)
        let requestBytes = state.requestBody.size, responseBytes = state.responseBody.size
        let weight = withUnsafePointer(to: &state.request) { request in
            recorder.admit(
                CallSummary(
                    method: request.pointee.method, route: request.pointee.route,
                    target: request.pointee.route == nil ? request.pointee.target : nil, status: status,
                    durationNanoseconds: duration, requestBodyBytes: requestBytes, responseBodyBytes: responseBytes),
                filtering: request, id: id
            ) { _ in (.active(self), bytes) }
        }
        if let weight { state.weight = weight }
    }

    /// The finished exchange as a record. With `moving` the state's fields
    /// are moved out, and a second call would get an empty record: only
    /// for a caller that builds it once.
    func takeRecord(moving: Bool) -> ExchangeRecord {
        state.withLock { state in
            if moving { return makeRecord(&state, end: state.end) }
            var copy = state.copy()
            return makeRecord(&copy, end: state.end)
        }
    }

    /// Finishes the exchange with an error raised while handling it, with
    /// the `location` you give, or none.
    ///
    /// For an adapter that finishes the exchange with an error the handler
    /// threw: its own line is not where the error came from, so it passes
    /// `nil` and the event's error has no `location`.
    ///
    /// ```swift
    /// catch {
    ///     exchange.fail(error, status: errorStatuses.status(of: error), location: nil)
    ///     throw error
    /// }
    /// ```
    ///
    /// When no response head was recorded, the response status is `status`,
    /// else the error's own ``ResponseStatusProviding/responseStatus``, else 500.
    ///
    /// - Parameters:
    ///   - error: the error that ended the call.
    ///   - status: the response status when no response head was recorded;
    ///     `nil` (the default) to take the error's own, else 500.
    ///   - location: where the error came from, as the event's error
    ///     `location`; `nil` for none.
    public func fail(_ error: any Error, status: Int? = nil, location: String?) {
        let end = CaptureClock.monotonicNanoseconds()
        var recorded = RecordedError(error)
        recorded.location = location
        let fallbackStatus = status ?? (error as? any ResponseStatusProviding)?.responseStatus ?? 500
        state.withLock { state in
            guard !state.isFinished else { return }
            state.isFinished = true
            state.end = end
            Self.append(recorded, to: &state)
            if state.response == nil {
                state.response = ResponseHead(status: fallbackStatus)
            }
            admit(&state)
        }
    }

    private static func append(_ error: RecordedError, to state: inout State) {
        if state.errorCount < maxErrors {
            state.rare.errors.append(error.bounded())
        } else {
            state.rare.droppedErrors += 1
        }
    }

    /// The record, with the request, response and bodies moved out of the
    /// state rather than copied: it is built once, when the exchange is done
    /// with them.
    private func makeRecord(_ state: inout State, end: Int64) -> ExchangeRecord {
        // The rare fields are read from their box, which is left as it is:
        // `traceID` stays readable after the record is taken.
        let rare = state.rare
        var errors = rare.errors
        if rare.droppedErrors > 0 {
            errors.append(RecordedError(type: "ErrorsOmitted", message: "\(rare.droppedErrors) more errors were reported"))
        }
        var validationProblems = rare.validationProblems
        if rare.droppedValidationProblems > 0 {
            validationProblems.append(
                ValidationProblem(
                    field: "(omitted)", type: "omitted",
                    message: "\(rare.droppedValidationProblems) more validation errors were reported"))
        }
        // Every field in one initializer: the record is built in place of
        // the result, not built and then copied to set the last two.
        return ExchangeRecord(
            id: id,
            direction: direction,
            startTimeNanoseconds: startWall,
            durationNanoseconds: max(0, end - startMonotonic),
            request: Self.take(&state.request, RequestHead(method: "", target: "")),
            requestBody: state.requestBody.take(),
            response: state.response.take(),
            responseBody: state.responseBody.take(),
            consumer: rare.consumer,
            errors: errors,
            traceID: rare.traceID ?? id.description,
            parentID: rare.parentID,
            metadata: rare.metadata,
            weight: state.weight,
            validationProblems: validationProblems,
            remoteParentSpanID: rare.remoteParentSpanID
        )
    }

    private static func take<Value>(_ value: inout Value, _ empty: Value) -> Value {
        var taken = empty
        swap(&taken, &value)
        return taken
    }
}
