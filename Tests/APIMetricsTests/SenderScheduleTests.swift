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

    /// An interval of centuries (batches by size only) waits for the
    /// window, and never wraps into the past.
    @Test func anIntervalOfCenturiesNeverWraps() {
        var schedule = SenderSchedule(batchSize: 10, flushInterval: .max, metricsInterval: .max, start: 5 * Self.second)
        #expect(schedule.next(seen(6 * Self.second)) == .wait(untilNanoseconds: .max, forCount: 10))
        #expect(schedule.next(seen(7 * Self.second, queued: 10)) == .drain(limit: 10))
    }

    /// Generated observations: each step is the one due. A wait is until
    /// the earlier of the flush and the window and only when neither is due
    /// nor the batch full; a batch is drained exactly when it is full, its
    /// interval passed or shutdown began; the window is cut exactly when
    /// its interval passed or the last round came; past the deadline the
    /// sender abandons.
    @Test func everyStepIsTheOneDue() {
        var generator = SeededGenerator.replayable()
        let (batch, flush, window) = (7, 3 * Self.second, 11 * Self.second)
        var schedule = schedule(batch: batch, flush: flush, window: window)
        var now: Int64 = 0
        var phase = 0  // 0: a round begins, 1: after the wait, 2: after the drain, 3: after the cut
        var roundStart: (now: Int64, stopping: Bool) = (0, false)
        for _ in 0..<50_000 {
            now += Int64.random(in: 0...(2 * Self.second), using: &generator)
            let stopping = Int.random(in: 0..<40, using: &generator) == 0
            let past = stopping && Bool.random(using: &generator)
            let queued = Int.random(in: 0...(2 * batch), using: &generator)
            let (lastFlush, lastWindow) = (schedule.lastFlush, schedule.lastWindow)
            let action = schedule.next(seen(now, queued: queued, stopping: stopping, pastDeadline: past))
            let due = min(lastFlush + flush, lastWindow + window)
            var step = phase
            if step == 0 {
                if !stopping && queued < batch && due > now {
                    #expect(action == .wait(untilNanoseconds: due, forCount: batch))
                    phase = 1
                    continue
                }
                step = 1
            }
            if step == 1 {
                if past {
                    #expect(action == .abandon)
                    // The sender stops here; asked again, the schedule is where it was.
                    phase = 1
                    continue
                }
                roundStart = (now, stopping)
                if queued >= batch || now - lastFlush >= flush || stopping {
                    #expect(action == .drain(limit: batch))
                    phase = 2
                    continue
                }
                step = 2
            }
            if step == 2 {
                let isLast = roundStart.stopping && queued == 0
                if roundStart.now - lastWindow >= window || isLast {
                    #expect(action == .cutWindow(isFinal: isLast))
                    phase = isLast ? 4 : 3
                    continue
                }
                phase = isLast ? 4 : 3
                step = phase
            }
            #expect(action == (step == 4 ? .finish : .export))
            phase = 0
        }
    }
}
