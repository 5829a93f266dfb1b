import Synchronization

/// The result of racing an operation against a deadline.
enum DeadlineOutcome: Sendable {
    case completed
    case failed(any Error)
    case timedOut
}

/// Runs `operation` in its own task and returns when it ends or when the
/// shutdown deadline passes, whichever is first; the deadline may be set
/// or moved while the operation runs. On timeout the operation is
/// cancelled and left to end on its own; the caller does not wait for it.
///
/// - Parameters:
///   - signal: The shutdown signal whose deadline bounds the operation.
///   - operation: The work, typically one exporter's attempt at a batch.
/// - Returns: How the operation ended, or that the deadline came first.
func race(
    _ signal: ShutdownSignal,
    _ operation: @escaping @Sendable () async throws -> Void
) async -> DeadlineOutcome {
    let race = RaceState()
    let work = Task {
        do {
            try await operation()
            race.settle(.completed)
        } catch {
            race.settle(.failed(error))
        }
    }
    let timer = Task {
        while !Task.isCancelled {
            let deadline = signal.deadlineNanoseconds
            if let deadline, signal.clock.now() >= deadline {
                race.settle(.timedOut)
                work.cancel()
                return
            }
            // Woken when shutdown sets or moves the deadline, or when it comes.
            await signal.waitForChange(from: deadline, orUntil: deadline ?? .max)
        }
    }
    let outcome = await withCheckedContinuation { race.install($0) }
    timer.cancel()
    return outcome
}

/// The first outcome wins; the waiting continuation is resumed exactly once,
/// whether it was installed before or after the outcome arrived.
private final class RaceState: Sendable {
    private struct State {
        var continuation: CheckedContinuation<DeadlineOutcome, Never>?
        var outcome: DeadlineOutcome?
    }

    private let state = Mutex(State())

    func settle(_ outcome: DeadlineOutcome) {
        let continuation = state.withLock { state -> CheckedContinuation<DeadlineOutcome, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: outcome)
    }

    func install(_ continuation: CheckedContinuation<DeadlineOutcome, Never>) {
        let ready = state.withLock { state -> DeadlineOutcome? in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }
}
