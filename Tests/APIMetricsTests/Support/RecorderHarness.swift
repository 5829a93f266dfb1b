import Synchronization
import APIMetricsTestSupport
@testable import APIMetrics

/// A recorder on a queue the test drains itself, with an observer at its
/// admission point.
struct RecorderHarness {
    let queue: EventQueue
    let counters = PipelineCounters()
    let observer = RecordingObserver()
    let recorder: Recorder

    init(bodyLimit: Int = 1024, queueItems: Int = 100_000, filter: EventFilterOptions = .everything) {
        queue = EventQueue(maxItems: queueItems, maxBytes: 1 << 30)
        recorder = Recorder(
            queue: queue, counters: counters, bodyLimit: bodyLimit,
            bodyContentTypes: .all, filter: EventFilter(filter), isEnabled: true, observer: observer)
    }
}
