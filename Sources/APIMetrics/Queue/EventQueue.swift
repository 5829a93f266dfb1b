import Synchronization

/// The bounded hand-off between request tasks and the background sender.
///
/// Bounded by item count and by estimated bytes: a push that would pass
/// either bound is refused (the caller counts the drop), so a dead exporter
/// costs memory up to the bounds and never more. Pushes hold the lock for a
/// few instructions and never wait for the sender.
final class EventQueue: Sendable {
    let maxItems: Int
    let maxBytes: Int
    private let state: AdaptiveMutex<State>

    private struct State {
        var items: [(item: QueuedItem, bytes: Int)] = []
        var head = 0
        var bytes = 0
        var isClosed = false
        /// A class reference, not the continuation itself: the state keeps a
        /// fixed layout, and a push reads it without the runtime's help.
        var waiter: Waiter? {
            didSet { waiterThreshold = waiter?.threshold ?? .max }
        }
        /// The waiter's threshold, or `.max`: what a push compares with.
        var waiterThreshold = Int.max
        // The newest wait token whose timer or cancellation fired before its
        // waiter was installed; such a waiter must not sleep.
        var expiredToken: UInt64 = 0

        var count: Int { items.count - head }
    }

    private final class Waiter: Sendable {
        let threshold: Int
        let continuation: CheckedContinuation<Void, Never>
        let token: UInt64

        init(threshold: Int, continuation: CheckedContinuation<Void, Never>, token: UInt64) {
            self.threshold = threshold
            self.continuation = continuation
            self.token = token
        }
    }

    private let tokens = Atomic<UInt64>(0)
    /// Set when a push is refused for room, cleared when a drain makes room:
    /// read without the lock, and written only on those transitions, so
    /// that adapters can ask on every request.
    private let refusing = Atomic<Bool>(false)

    init(maxItems: Int, maxBytes: Int) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.state = AdaptiveMutex(State())
    }

    /// The room a drain makes before it takes the lock: a sender's batch.
    static let drainCapacity = 1_000

    /// Adds an item; returns `false`, adding nothing, when the queue is full
    /// or closed.
    func push(_ item: QueuedItem, bytes: Int) -> Bool {
        // Fields are touched in place through the locked state's address:
        // no copy of the state or of the waiter on the request path.
        let lock = self.state.unsafe
        let state = lock.lock()
        guard !state.pointee.isClosed, state.pointee.count < maxItems, state.pointee.bytes + bytes <= maxBytes else {
            // Under the lock, as the drain's clearing is: the flag never
            // says full after a drain made room.
            if !state.pointee.isClosed && !refusing.load(ordering: .relaxed) { refusing.store(true, ordering: .relaxed) }
            lock.unlock()
            return false
        }
        state.pointee.items.append((item, bytes))
        state.pointee.bytes += bytes
        guard state.pointee.count >= state.pointee.waiterThreshold, let waiter = state.pointee.waiter else {
            lock.unlock()
            return true
        }
        state.pointee.waiter = nil
        lock.unlock()
        waiter.continuation.resume()
        return true
    }

    /// Removes and returns up to `limit` items, oldest first.
    func drain(limit: Int) -> [QueuedItem] {
        // Room made before the lock: an allocation under it can wait for
        // the allocator's lock, and every push would wait behind it.
        var result: [QueuedItem] = []
        result.reserveCapacity(min(limit, Self.drainCapacity))
        return state.withLock { state in
            let take = min(limit, state.count)
            guard take > 0 else { return [] }
            if refusing.load(ordering: .relaxed) { refusing.store(false, ordering: .relaxed) }
            result.reserveCapacity(take)
            // By index, not through a slice: a slice shares the items'
            // buffer, and while it lived the compaction below found the
            // buffer shared and copied every item left (tens of thousands
            // under a full queue, each retained, into a new buffer), with
            // every push waiting on the lock.
            for index in state.head..<state.head + take {
                result.append(state.items[index].item)
                state.bytes -= state.items[index].bytes
            }
            state.head += take
            if state.head == state.items.count {
                // Slots are two words: keeping room for 64 Ki of them costs 1 MiB
                // and saves regrowing the buffer under every burst.
                state.items.removeAll(keepingCapacity: state.items.capacity <= 65_536)
                state.head = 0
            } else if state.head >= 1024 && state.head * 2 >= state.items.count {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return result
        }
    }

    /// Whether the last push was refused for room and no drain has run
    /// since: a new item would most likely be refused too.
    var isRefusing: Bool { refusing.load(ordering: .relaxed) }

    var count: Int { state.withLock { $0.count } }
    /// Where the items' buffer starts: a test checks that a drain compacts
    /// it in place.
    var itemsAddressForTesting: UnsafeRawPointer? {
        state.withLock { state in state.items.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
    }
    var byteCount: Int { state.withLock { $0.bytes } }
    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Stops intake; waiters wake so that the sender can drain what is left.
    func close() {
        let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isClosed = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        wake?.resume()
    }

    /// Waits until the queue holds `threshold` items, the queue closes,
    /// `wake()` is called, `clock` reaches `deadline`, or the task is
    /// cancelled.
    ///
    /// - Parameters:
    ///   - threshold: The count of items that ends the wait.
    ///   - deadline: When to stop waiting, in `clock`'s nanoseconds.
    ///   - clock: The sender's clock.
    func wait(forCount threshold: Int, until deadline: Int64, clock: any SenderClock) async {
        let token = tokens.wrappingAdd(1, ordering: .relaxed).newValue
        let timer = Task { [weak self] in
            try? await clock.sleep(until: deadline)
            self?.wake(token: token)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.isClosed || state.count >= threshold || state.expiredToken >= token || Task.isCancelled {
                        return true
                    }
                    state.waiter?.continuation.resume()
                    state.waiter = Waiter(threshold: threshold, continuation: continuation, token: token)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.wake(token: token)
        }
    }

    /// Wakes the sender if it is waiting, whatever the queue holds.
    func wake() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        continuation?.resume()
    }

    private func wake(token: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.token == token else {
                state.expiredToken = max(state.expiredToken, token)
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        continuation?.resume()
    }
}
