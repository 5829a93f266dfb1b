#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Testing

@testable import APIMetrics

@Suite("The writer's background thread")
struct BackgroundThreadTests {
    /// Polls `condition` until it holds, up to 10 s.
    private func waitFor(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func jobsRunOneAtATimeInTheOrderTheyWereHandedOver() async {
        let thread = BackgroundThread(name: "test-order", priority: .normal)
        let seen = Mutex<[Int]>([])
        let running = Atomic<Int>(0)
        let overlapped = Atomic<Bool>(false)
        for index in 0..<200 {
            thread.async {
                if running.wrappingAdd(1, ordering: .relaxed).newValue > 1 { overlapped.store(true, ordering: .relaxed) }
                seen.withLock { $0.append(index) }
                running.wrappingSubtract(1, ordering: .relaxed)
            }
        }
        #expect(await waitFor { seen.withLock { $0.count } == 200 })
        #expect(seen.withLock { $0 } == Array(0..<200))
        let didOverlap = overlapped.load(ordering: .relaxed)
        #expect(!didOverlap)
        thread.retire()
    }

    @Test func aDelayedJobRunsOnceDueAndNotBefore() async throws {
        let thread = BackgroundThread(name: "test-delay", priority: .normal)
        let ranAt = Mutex<[String: Int64]>([:])
        let start = CaptureClock.monotonicNanoseconds()
        thread.async(after: .milliseconds(200)) { ranAt.withLock { $0["late"] = CaptureClock.monotonicNanoseconds() } }
        thread.async(after: .milliseconds(50)) { ranAt.withLock { $0["early"] = CaptureClock.monotonicNanoseconds() } }
        thread.async { ranAt.withLock { $0["now"] = CaptureClock.monotonicNanoseconds() } }
        #expect(await waitFor { ranAt.withLock { $0.count } == 3 })
        let times = ranAt.withLock { $0 }
        let now = try #require(times["now"] as Int64?)
        let early = try #require(times["early"] as Int64?)
        let late = try #require(times["late"] as Int64?)
        #expect(early - start >= 50_000_000)
        #expect(late - start >= 200_000_000)
        #expect(now < early)
        #expect(early < late)
        thread.retire()
    }

    @Test func aRetiredThreadRunsWhatWasHandedOverDelayedJobsAtOnceThenEnds() async {
        let thread = BackgroundThread(name: "test-retire", priority: .normal)
        let ran = Mutex<[String]>([])
        let start = CaptureClock.monotonicNanoseconds()
        thread.async(after: .seconds(60)) { ran.withLock { $0.append("delayed") } }
        thread.async { ran.withLock { $0.append("now") } }
        thread.retire()
        #expect(await waitFor { ran.withLock { $0.count } == 2 })
        #expect(ran.withLock { $0 } == ["now", "delayed"])
        #expect(CaptureClock.monotonicNanoseconds() - start < 30_000_000_000)
    }

    #if os(Linux)
    @Test func itRunsAtTheSendersPriority() async {
        let nice = Mutex<[String: Int32]>([:])
        for (name, priority) in [("low", SenderPriority.low), ("normal", .normal)] {
            let thread = BackgroundThread(name: "test-\(name)", priority: priority)
            thread.async {
                errno = 0
                let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                nice.withLock { $0[name] = value }
            }
            thread.retire()
        }
        #expect(await waitFor { nice.withLock { $0.count } == 2 })
        let base = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #expect(nice.withLock { $0["low"] } == 19)
        #expect(nice.withLock { $0["normal"] } == base)
    }

    @Test func itNamesItsThreadAsTheSystemShowsIt() async {
        let names = Mutex<[String]>([])
        // The second name is cut to the 15 bytes Linux takes.
        for name in ["apimetrics-db", "apimetrics-long-name"] {
            let thread = BackgroundThread(name: name, priority: .normal)
            thread.async {
                var buffer = [UInt8](repeating: 0, count: 32)
                let descriptor = open("/proc/thread-self/comm", O_RDONLY)
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
                let shown = String(decoding: buffer.prefix(max(0, count)).filter { $0 != 10 }, as: UTF8.self)
                names.withLock { $0.append(shown) }
            }
            thread.retire()
        }
        #expect(await waitFor { names.withLock { $0.count } == 2 })
        #expect(Set(names.withLock { $0 }) == ["apimetrics-db", "apimetrics-long"])
    }
    #endif

    @Test func theYielderOffersTheCoreOnlyOnceItsIntervalHasPassed() {
        let offers = Atomic<Int>(0)
        let count: @Sendable () -> Void = { offers.wrappingAdd(1, ordering: .relaxed) }
        var never = CoreYielder(interval: nil, offer: count)
        for _ in 0..<100 { never.checkpoint() }
        #expect(offers.load(ordering: .relaxed) == 0)
        var rarely = CoreYielder(interval: 60_000_000_000, offer: count)
        for _ in 0..<100 { rarely.checkpoint() }
        #expect(offers.load(ordering: .relaxed) == 0)
        var always = CoreYielder(interval: 1, offer: count)
        for _ in 0..<100 { always.checkpoint() }
        #expect(offers.load(ordering: .relaxed) == 100)
        var timed = CoreYielder(interval: 20_000_000, offer: count)
        let start = CaptureClock.monotonicNanoseconds()
        while offers.load(ordering: .relaxed) < 102, CaptureClock.monotonicNanoseconds() - start < 5_000_000_000 {
            timed.checkpoint()
        }
        // Two offers, 20 ms apart at least, the first 20 ms after the start.
        #expect(offers.load(ordering: .relaxed) == 102)
        #expect(CaptureClock.monotonicNanoseconds() - start >= 40_000_000)
    }
}
