import Testing
import APIMetricsTestSupport
@testable import APIMetrics
import Synchronization

/// Every call the recorder sees passes its one admission point, with the
/// summary the metrics need, whatever becomes of its event.
@Suite("Admission point")
struct AdmissionTests {
    @Test func aFinishedExchangeIsSummedUpAndQueued() throws {
        let harness = RecorderHarness()
        let exchange = harness.recorder.begin(RequestHead(method: "POST", target: "/orders?x=1"))
        exchange.setRoute("/orders")
        exchange.recordRequestBody(Array("hello".utf8))
        exchange.recordResponseHead(ResponseHead(status: 201))
        exchange.recordResponseBody(Array("created!".utf8))
        exchange.finish()
        exchange.finish()
        let observed = harness.observer.observed
        #expect(observed.count == 1)
        let (call, outcome) = try #require(observed.first)
        #expect(outcome == .queued)
        #expect(call.method == "POST" && call.route == "/orders" && call.status == 201)
        #expect(call.requestBodyBytes == 5 && call.responseBodyBytes == 8)
        #expect(call.durationNanoseconds >= 0)
        let record = try #require(harness.queue.drain(limit: .max).first?.record)
        #expect(record.durationNanoseconds == call.durationNanoseconds)
    }

    @Test func aFailedExchangeCarriesItsFallbackStatus() throws {
        struct Missing: Error, ResponseStatusProviding { var responseStatus: Int { 404 } }
        let harness = RecorderHarness()
        harness.recorder.begin(RequestHead(method: "GET", target: "/orders/9")).fail(Missing())
        harness.recorder.begin(RequestHead(method: "GET", target: "/boom")).fail(Missing(), status: 503)
        #expect(harness.observer.observed.map(\.call.status) == [404, 503])
        #expect(harness.observer.observed.allSatisfy { $0.outcome == .queued })
    }

    @Test func aRecordHandedOverWholeAndAnAbandonedExchangePassToo() throws {
        let harness = RecorderHarness()
        harness.recorder.record(
            ExchangeRecord(
                id: EventID(high: 1, low: 2), direction: .outgoing, startTimeNanoseconds: 0, durationNanoseconds: 42,
                request: RequestHead(method: "PUT", target: "/x", route: "/x"),
                requestBody: CapturedBody(bytes: [], size: 3), response: ResponseHead(status: 204)))
        do {
            _ = harness.recorder.begin(RequestHead(method: "DELETE", target: "/y"))
        }
        let observed = harness.observer.observed
        #expect(observed.map(\.call.method) == ["PUT", "DELETE"])
        #expect(
            observed[0].call == CallSummary(method: "PUT", route: "/x", status: 204, durationNanoseconds: 42, requestBodyBytes: 3)
        )
        #expect(observed[1].call.status == 0)
        #expect(harness.counters.recordedTotal == 2)
    }

    @Test func filteredDroppedAndShedCallsAreSeenAndCounted() throws {
        let harness = RecorderHarness(queueItems: 1, filter: .default)
        recordExchange(harness.recorder, target: "/health")
        recordExchange(harness.recorder, target: "/orders/1")
        recordExchange(harness.recorder, target: "/orders/2")
        #expect(harness.recorder.isQueueFull)
        harness.recorder.recordShedCall(
            CallSummary(
                method: "GET", route: "/orders/{id}", status: 200, durationNanoseconds: 7, responseBodyBytes: 10))
        #expect(harness.observer.observed.map(\.outcome) == [.filtered, .queued, .droppedQueueFull, .shed])
        #expect(harness.observer.observed.last?.call.route == "/orders/{id}")
        #expect(harness.counters.recordedTotal == 4)
        #expect(harness.counters.skipped.load(ordering: .relaxed) == 1)
        #expect(harness.counters.droppedForRoom == 2)
    }

    @Test func nothingIsAdmittedWhileRecordingIsOff() {
        let queue = EventQueue(maxItems: 10, maxBytes: 1 << 20)
        let observer = RecordingObserver()
        let recorder = Recorder(
            queue: queue, counters: PipelineCounters(), bodyLimit: 0, bodyContentTypes: .all,
            filter: EventFilter(.everything), isEnabled: false, observer: observer)
        recordExchange(recorder)
        recorder.recordShedCall(CallSummary(method: "GET", status: 200, durationNanoseconds: 1))
        #expect(observer.observed.isEmpty)
        #expect(queue.count == 0)
    }
}
