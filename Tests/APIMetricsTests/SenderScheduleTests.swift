import Testing
import APIMetricsTestSupport
@testable import APIMetrics

/// The sender's timing, decided from observations alone: no clock, no
/// queue, no task.
@Suite("Sender schedule")
struct SenderScheduleTests {
    static let second: Int64 = 1_000_000_000

    func schedule(batch: Int = 10, flush: Int64 = 5 * second, window: Int64 = 60 * second) -> SenderSchedule {
        SenderSchedule(batchSize: batch, flushInterval: flush, metricsInterval: window, start: 0)
    }

    func seen(_ now: Int64, queued: Int = 0, stopping: Bool = false, pastDeadline: Bool = false) -> SenderSchedule.Observation {
        .init(now: now, queued: queued, isStopping: stopping, isPastDeadline: pastDeadline)
    }

    @Test func itWaitsForTheEarlierOfTheFlushAndTheWindow() {
        var flushFirst = schedule()
        #expect(flushFirst.next(seen(0, queued: 3)) == .wait(untilNanoseconds: 5 * Self.second, forCount: 10))
        var windowFirst = schedule(flush: 90 * Self.second)
        #expect(windowFirst.next(seen(0)) == .wait(untilNanoseconds: 60 * Self.second, forCount: 10))
    }

    @Test func aFullBatchIsDrainedWithoutWaiting() {
        var schedule = schedule()
        #expect(schedule.next(seen(Self.second, queued: 10)) == .drain(limit: 10))
        #expect(schedule.next(seen(Self.second, queued: 0)) == .export)
        // The flush interval counts from that drain.
        #expect(schedule.next(seen(Self.second)) == .wait(untilNanoseconds: 6 * Self.second, forCount: 10))
    }

    @Test func aPartialBatchGoesWhenTheIntervalPasses() {
        var schedule = schedule()
        #expect(schedule.next(seen(0, queued: 1)) == .wait(untilNanoseconds: 5 * Self.second, forCount: 10))
        // Woken early (a spurious wake): nothing is due, no drain.
        #expect(schedule.next(seen(Self.second, queued: 1)) == .export)
        #expect(schedule.next(seen(Self.second, queued: 1)) == .wait(untilNanoseconds: 5 * Self.second, forCount: 10))
        #expect(schedule.next(seen(5 * Self.second, queued: 1)) == .drain(limit: 10))
        #expect(schedule.next(seen(5 * Self.second)) == .export)
    }

    @Test func theWindowIsCutWhenItsIntervalPassesAndCountsFromTheCut() {
        var schedule = schedule(flush: 60 * Self.second, window: 10 * Self.second)
        #expect(schedule.next(seen(0)) == .wait(untilNanoseconds: 10 * Self.second, forCount: 10))
        #expect(schedule.next(seen(10 * Self.second)) == .cutWindow(isFinal: false))
        #expect(schedule.next(seen(10 * Self.second)) == .export)
        #expect(schedule.next(seen(10 * Self.second)) == .wait(untilNanoseconds: 20 * Self.second, forCount: 10))
        // A late wake cuts once, and the next window counts from then.
        #expect(schedule.next(seen(27 * Self.second)) == .cutWindow(isFinal: false))
        #expect(schedule.next(seen(27 * Self.second)) == .export)
        #expect(schedule.lastWindow == 27 * Self.second)
    }

    @Test func shutdownDrainsEveryBatchThenCutsTheFinalWindowAndFinishes() {
        var schedule = schedule()
        #expect(schedule.next(seen(Self.second, queued: 25, stopping: true)) == .drain(limit: 10))
        // Fifteen left after the drain: not the last round.
        #expect(schedule.next(seen(Self.second, queued: 15, stopping: true)) == .export)
        #expect(schedule.next(seen(Self.second, queued: 15, stopping: true)) == .drain(limit: 10))
        #expect(schedule.next(seen(Self.second, queued: 5, stopping: true)) == .export)
        #expect(schedule.next(seen(Self.second, queued: 5, stopping: true)) == .drain(limit: 10))
        #expect(schedule.next(seen(Self.second, queued: 0, stopping: true)) == .cutWindow(isFinal: true))
        #expect(schedule.next(seen(Self.second, stopping: true)) == .finish)
    }

    @Test func anEmptyQueueAtShutdownStillCutsTheFinalWindow() {
        var schedule = schedule()
        #expect(schedule.next(seen(0, stopping: true)) == .drain(limit: 10))
        #expect(schedule.next(seen(0, stopping: true)) == .cutWindow(isFinal: true))
        #expect(schedule.next(seen(0, stopping: true)) == .finish)
    }

    @Test func pastTheDeadlineItAbandonsWhatIsQueued() {
        var schedule = schedule()
        #expect(schedule.next(seen(Self.second, queued: 25, stopping: true, pastDeadline: true)) == .abandon)
    }

    /// Generated observations: whatever the sender sees, every round ends
    /// in one export or finish, a drain never takes more than a batch, and
    /// a wait is never for a time already past.
    @Test func everyRoundEndsAndNoWaitIsForThePast() {
        var generator = SeededGenerator.replayable()
        var schedule = schedule(batch: 7, flush: 3 * Self.second, window: 11 * Self.second)
        var now: Int64 = 0
        var steps = 0
        for _ in 0..<20_000 {
            now += Int64.random(in: 0...(2 * Self.second), using: &generator)
            let stopping = Int.random(in: 0..<50, using: &generator) == 0
            let observation = seen(now, queued: Int.random(in: 0...20, using: &generator), stopping: stopping)
            steps += 1
            switch schedule.next(observation) {
            case let .wait(deadline, count):
                #expect(deadline > now && count == 7)
                #expect(!stopping)
            case let .drain(limit):
                #expect(limit == 7)
            case .cutWindow, .export, .finish:
                steps = 0
            case .abandon:
                Issue.record("abandoned without a deadline")
            }
            #expect(steps <= 3, "a round took more than wait, drain, cut and export")
        }
    }
}
