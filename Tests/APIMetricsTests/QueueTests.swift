import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("Event queue")
struct QueueTests {
    private func record(_ n: Int) -> QueuedItem {
        .exchange(
            ExchangeRecord(
                id: EventID(high: 0, low: UInt64(n)), direction: .incoming,
                startTimeNanoseconds: 0, durationNanoseconds: 0,
                request: RequestHead(method: "GET", target: "/\(n)")))
    }

    @Test func refusesPastTheEventBound() {
        let queue = EventQueue(maxItems: 3, maxBytes: 1 << 20)
        #expect((0..<5).map { queue.push(record($0), bytes: 10) } == [true, true, true, false, false])
        #expect(queue.count == 3)
        let drained = queue.drain(limit: 2)
        #expect(drained.count == 2)
        #expect(queue.push(record(9), bytes: 10))
        #expect(queue.count == 2)
    }

    /// The flag adapters read to shed early: set by a push refused for room,
    /// cleared by the drain that makes room, never set by a closed queue.
    @Test func saysItIsRefusingFromARefusedPushUntilADrain() {
        let queue = EventQueue(maxItems: 2, maxBytes: 1 << 20)
        #expect(queue.push(record(0), bytes: 10) && queue.push(record(1), bytes: 10))
        #expect(!queue.isRefusing)
        #expect(!queue.push(record(2), bytes: 10))
        #expect(queue.isRefusing)
        #expect(queue.drain(limit: 0).isEmpty)
        #expect(queue.isRefusing)
        #expect(queue.drain(limit: 1).count == 1)
        #expect(!queue.isRefusing)
        queue.close()
        #expect(!queue.push(record(3), bytes: 10))
        #expect(!queue.isRefusing)
    }

    @Test func refusesPastTheByteBound() {
        let queue = EventQueue(maxItems: 100, maxBytes: 1000)
        #expect(queue.push(record(0), bytes: 600))
        #expect(!queue.push(record(1), bytes: 600))
        #expect(queue.push(record(2), bytes: 400))
        #expect(queue.byteCount == 1000)
        _ = queue.drain(limit: 1)
        #expect(queue.byteCount == 400)
    }

    @Test func drainsInOrderAcrossManyPushes() {
        let queue = EventQueue(maxItems: 10_000, maxBytes: 1 << 30)
        var expected = 0
        var next = 0
        for round in 0..<200 {
            for _ in 0..<(round % 37 + 1) {
                #expect(queue.push(record(next), bytes: 1))
                next += 1
            }
            for item in queue.drain(limit: round % 23 + 1) {
                guard case let .exchange(record) = item else { continue }
                #expect(record.id.low == UInt64(expected))
                expected += 1
            }
        }
        for item in queue.drain(limit: .max) {
            guard case let .exchange(record) = item else { continue }
            #expect(record.id.low == UInt64(expected))
            expected += 1
        }
        #expect(expected == next)
        #expect(queue.byteCount == 0)
    }

    /// A drain moves what is left to the front of the same buffer, and a
    /// drain that empties the queue keeps it: under a full queue a copy
    /// would retain tens of thousands of items with every push waiting.
    @Test func aDrainCompactsTheItemsInPlace() {
        let queue = EventQueue(maxItems: 10_000, maxBytes: 1 << 30)
        for n in 0..<3_000 { #expect(queue.push(record(n), bytes: 1)) }
        let buffer = queue.itemsAddressForTesting
        #expect(buffer != nil)
        #expect(queue.drain(limit: 1_000).count == 1_000)
        #expect(queue.itemsAddressForTesting == buffer)
        // 1,600 taken of 3,000: the 1,400 left move to the front.
        let second = queue.drain(limit: 600)
        #expect(queue.itemsAddressForTesting == buffer)
        let rest = queue.drain(limit: .max)
        #expect(queue.itemsAddressForTesting == buffer)
        let ids = (second + rest).compactMap { item -> UInt64? in
            guard case let .exchange(record) = item else { return nil }
            return record.id.low
        }
        #expect(ids == (1_000..<3_000).map(UInt64.init))
        #expect(queue.count == 0 && queue.byteCount == 0)
    }

    @Test func aClosedQueueRefusesAndWakesTheWaiter() async {
        let queue = EventQueue(maxItems: 10, maxBytes: 1 << 20)
        let clock = TestClock()
        let waiter = Task { await queue.wait(forCount: 5, until: clock.now() + 60_000_000_000, clock: clock) }
        _ = await clock.sleeper(after: clock.now())
        queue.close()
        await waiter.value
        #expect(!queue.push(record(0), bytes: 1))
    }

    @Test func theWaiterWakesAtTheThresholdOrTheTimeout() async {
        let queue = EventQueue(maxItems: 10, maxBytes: 1 << 20)
        let clock = TestClock()
        let start = clock.now()
        let timedOut = Task { await queue.wait(forCount: 3, until: start + 30_000_000, clock: clock) }
        #expect(await clock.sleeper(after: start) == start + 30_000_000)
        clock.advance(by: .milliseconds(30))
        await timedOut.value
        let waiter = Task { await queue.wait(forCount: 3, until: start + 60_000_000_000, clock: clock) }
        _ = await clock.sleeper(after: clock.now())
        for n in 0..<3 { _ = queue.push(record(n), bytes: 1) }
        await waiter.value
        #expect(queue.count == 3)
        // A deadline already passed returns at once.
        await queue.wait(forCount: 100, until: clock.now(), clock: clock)
    }

    @Test func concurrentPushesNeverPassTheBound() async {
        let queue = EventQueue(maxItems: 1000, maxBytes: 1 << 30)
        let accepted = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var accepted = 0
                    for n in 0..<500 where queue.push(record(task * 1000 + n), bytes: 1) { accepted += 1 }
                    return accepted
                }
            }
            return await group.reduce(0, +)
        }
        #expect(accepted == 1000)
        #expect(queue.count == 1000)
    }
}
